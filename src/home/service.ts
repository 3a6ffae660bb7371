/**
 * The App Home of each user: what waits for their vote, their own requests and changes, what
 * each endpoint serves, and the open drift alerts. Published when they open it, and again when
 * something it shows changes (`changed()`), coalesced: a burst of changes publishes once per
 * user. One list call to Databricks per refresh at most, shared by every user and cached. A Home
 * that fails to publish breaks nothing: it is logged, and the next opening publishes again.
 */
import type { ApprovalRequest } from '../approvals/store.js';
import type { Change } from '../changes/store.js';
import type { EndpointConfig, EndpointSummary } from '../domain/ports/serving.js';
import type { DriftAlert } from '../drift/state-store.js';
import type { Clock } from '../lib/clock.js';
import type { HomeStore } from './store.js';
import type { HomeData, HomeEndpoint, PublishHome } from './types.js';

type MaybeAsync<T> = T | Promise<T>;

export interface HomeServiceDeps {
  store: HomeStore;
  /** Pending approval requests. */
  pending(): MaybeAsync<ApprovalRequest[]>;
  /** May this user vote on the request (an approver, not the requester)? */
  mayVote(r: ApprovalRequest, userId: string): Promise<boolean>;
  changesInFlight(): MaybeAsync<Change[]>;
  /** The one Databricks read (serving endpoints, list call). */
  listEndpoints(): Promise<EndpointSummary[]>;
  /** What the bot last knew of each endpoint's config (traffic included), by endpoint name. */
  knownConfigs?: () => MaybeAsync<Map<string, EndpointConfig>>;
  openAlerts?: () => MaybeAsync<DriftAlert[]>;
  publish: PublishHome;
  clock: Clock;
  onError?: (e: unknown, what: string) => void;
  /** How long changes are gathered before the Homes are refreshed (default 1500 ms). */
  debounceMs?: number;
  /** How long the endpoint list is reused by openings (default 30 s); a refresh reads it anew. */
  endpointsTtlMs?: number;
}

export interface HomeService {
  /** The user opened their Home tab: publish it now (and count the opening). */
  opened(userId: string): Promise<void>;
  /** Something a Home shows changed: refresh every Home soon, once for the whole burst. */
  changed(): void;
  /** Shows the answer to a click on the Home (no response_url there) and publishes at once. */
  tell(userId: string, text: string): Promise<void>;
  /** Runs a pending refresh now (tests, shutdown). */
  flush(): Promise<void>;
  stop(): void;
}

/** How long the answer to a click stays on top of the Home. */
const NOTICE_MS = 10 * 60_000;

/**
 * @example
 * const home = createHomeService({ store, pending, mayVote, changesInFlight, listEndpoints, publish, clock });
 * await home.opened('U0APPROVE');
 */
export function createHomeService(deps: HomeServiceDeps): HomeService {
  const { clock } = deps;
  const debounceMs = deps.debounceMs ?? 1500;
  const ttlMs = deps.endpointsTtlMs ?? 30_000;
  const report = (e: unknown, what: string) => deps.onError?.(e, what);
  const notices = new Map<string, { text: string; at: number }>();
  let endpoints: { at: number; list: Promise<EndpointSummary[] | undefined> } | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;

  function endpointList(fresh: boolean): Promise<EndpointSummary[] | undefined> {
    const now = clock.now();
    if (fresh || !endpoints || now - endpoints.at > ttlMs) {
      const list = deps.listEndpoints().catch((e: unknown) => {
        report(e, 'reading the endpoints for the App Home');
        endpoints = undefined; // the next opening tries again
        return undefined;
      });
      endpoints = { at: now, list };
    }
    return endpoints.list;
  }

  async function gather(
    userId: string,
    firstVisit: boolean,
    endpointsRead: Promise<EndpointSummary[] | undefined>,
  ): Promise<HomeData> {
    const [pending, changes, list, configs, alerts] = await Promise.all([
      deps.pending(),
      deps.changesInFlight(),
      endpointsRead,
      deps.knownConfigs?.() ?? new Map<string, EndpointConfig>(),
      deps.openAlerts?.() ?? [],
    ]);
    const toApprove: ApprovalRequest[] = [];
    for (const r of pending) {
      if (r.requester !== userId && (await deps.mayVote(r, userId))) toApprove.push(r);
    }
    const notice = notices.get(userId);
    const now = clock.now();
    return {
      userId,
      now,
      firstVisit,
      ...(notice && now - notice.at < NOTICE_MS ? { notice: notice.text } : {}),
      toApprove,
      myRequests: pending.filter((r) => r.requester === userId),
      myChanges: changes.filter((c) => c.requester === userId),
      endpoints: (list ?? []).map((e) => homeEndpoint(e, configs.get(e.name))),
      ...(list === undefined ? { endpointsUnavailable: true } : {}),
      alerts,
    };
  }

  /** Publishes one Home; never throws. Returns whether Slack took it. */
  async function publishFor(
    userId: string,
    firstVisit: boolean,
    endpointsRead: Promise<EndpointSummary[] | undefined> = endpointList(false),
  ): Promise<boolean> {
    try {
      await deps.publish(await gather(userId, firstVisit, endpointsRead));
      return true;
    } catch (e) {
      report(e, `publishing the App Home of ${userId}`);
      return false;
    }
  }

  const isFirstVisit = (v: { opens: number; welcomedOpen?: number }) =>
    v.welcomedOpen === undefined || v.welcomedOpen === v.opens;

  async function refreshAll(): Promise<void> {
    let users: string[];
    try {
      users = await deps.store.visitors();
    } catch (e) {
      report(e, 'listing the App Home visitors');
      return;
    }
    if (users.length === 0) return;
    // One read of the endpoints for the whole refresh, shared by every Home.
    const read = endpointList(true);
    for (const userId of users) {
      if (stopped) return;
      const visitor = await deps.store.get(userId).catch(() => undefined);
      await publishFor(userId, visitor ? visitor.welcomedOpen === visitor.opens : false, read);
    }
  }

  function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    running = running.then(refreshAll);
    return running;
  }

  return {
    async opened(userId) {
      if (stopped) return;
      let visitor: Awaited<ReturnType<HomeStore['recordOpen']>> | undefined;
      try {
        visitor = await deps.store.recordOpen(userId, clock.now());
      } catch (e) {
        report(e, 'recording an App Home opening');
      }
      const first = visitor ? isFirstVisit(visitor) : false;
      const ok = await publishFor(userId, first);
      if (ok && visitor && first && visitor.welcomedOpen === undefined) {
        await deps.store
          .markWelcomed(userId, visitor.opens)
          .catch((e: unknown) => report(e, 'marking welcomed'));
      }
    },

    changed() {
      if (stopped || timer) return;
      timer = setTimeout(() => void flush(), debounceMs);
      timer.unref?.();
    },

    async tell(userId, text) {
      notices.set(userId, { text, at: clock.now() });
      const visitor = await deps.store.get(userId).catch(() => undefined);
      await publishFor(userId, visitor ? visitor.welcomedOpen === visitor.opens : false);
    },

    flush,

    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}

/** Served versions from the list call; traffic from what the bot last knew, when it matches. */
export function homeEndpoint(e: EndpointSummary, known?: EndpointConfig): HomeEndpoint {
  const percentOf = (servedName: string) => {
    const route = known?.traffic.find((t) => t.servedName === servedName);
    if (route) return route.percent;
    return e.servedVersions.length === 1 ? 100 : undefined;
  };
  return {
    name: e.name,
    ready: e.ready,
    updating: e.updating,
    served: e.servedVersions.map((v) => {
      const percent = percentOf(v.name);
      return {
        modelName: v.modelName,
        modelVersion: v.modelVersion,
        ...(percent !== undefined ? { percent } : {}),
      };
    }),
  };
}
