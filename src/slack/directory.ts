/**
 * Slack user groups as the access checks need them: which of the policy's groups a user is in.
 * Resolved through usergroups.list (handle → id) and usergroups.users.list (id → members), cached
 * for a while, with concurrent lookups sharing one load.
 */

import { UserError } from '../domain/errors.js';
import type { ResolvedGroup } from '../domain/ports/people.js';
import type { Clock } from '../lib/clock.js';

/** The part of Slack's WebClient the directory uses; Bolt's `app.client` satisfies it. */
export interface UsergroupsClient {
  usergroups: {
    list(options?: { include_disabled?: boolean }): Promise<{
      usergroups?: Array<{ id?: string; handle?: string; date_delete?: number }>;
    }>;
    users: {
      list(options: { usergroup: string; include_disabled?: boolean }): Promise<{ users?: string[] }>;
    };
  };
}

export interface Directory {
  /**
   * The user groups `userId` belongs to, each as its id (`S…`) and its handle (`@handle`), so a
   * policy may name either. Throws UserError when Slack cannot be asked.
   */
  groupsOf(userId: string): Promise<Set<string>>;
  /** Group references (from `refs`) that match no user group of the workspace. */
  unknownRefs(): Promise<string[]>;
  /**
   * Each group reference with its id and members, for mentions and DMs (`id` absent: no such
   * group). Throws UserError when Slack cannot be asked.
   */
  resolve(refs: readonly string[]): Promise<ResolvedGroup[]>;
  /** Drops the cache: the next lookup asks Slack again. */
  invalidate(): void;
}

export interface DirectoryOptions {
  /**
   * The group references the policy uses (`@handle` or `S…`); only these are resolved. Without
   * them every user group of the workspace is loaded.
   */
  refs?: readonly string[];
}

interface Group {
  id: string;
  handle?: string;
  members: Set<string>;
}

interface Snapshot {
  groups: Group[];
  /** Each reference loaded (`@handle` lower-cased, or `S…`) → its group. */
  byRef: Map<string, Group>;
  unknown: string[];
  expiresAt: number;
}

const slackErrorOf = (e: unknown): string | undefined => {
  const data = (e as { data?: { error?: unknown } }).data;
  return typeof data?.error === 'string' ? data.error : undefined;
};

/** Turns a Web API failure into an error a user (or an admin) can act on; never carries a token. */
export function directoryError(e: unknown): UserError {
  const code = (e as { code?: unknown }).code;
  const slackError = slackErrorOf(e);
  if (slackError === 'missing_scope') {
    return new UserError('directory_missing_scope', {});
  }
  if (
    slackError &&
    ['invalid_auth', 'not_authed', 'token_revoked', 'account_inactive'].includes(slackError)
  ) {
    return new UserError('directory_auth', { slackError });
  }
  if (
    slackError &&
    ['paid_teams_only', 'plan_upgrade_required', 'feature_not_enabled'].includes(slackError)
  ) {
    return new UserError('directory_unavailable', {});
  }
  if (code === 'slack_webapi_rate_limited_error' || slackError === 'ratelimited') {
    return new UserError('directory_rate_limited', {});
  }
  if (code === 'slack_webapi_request_error' || code === 'slack_webapi_http_error') {
    return new UserError('directory_unreachable', {});
  }
  return new UserError('directory_failed', slackError ? { slackError } : {});
}

const normalise = (ref: string): string => (ref.startsWith('@') ? ref.toLowerCase() : ref);

/**
 * A cached view of Slack's user groups. `ttlMs` bounds how long a membership change in Slack takes
 * to count here.
 *
 * @example
 * const directory = createDirectory(app.client, systemClock, 5 * 60_000, { refs: groupRefsIn(policy) });
 * const groups = await directory.groupsOf('U0APPROVE'); // Set { 'S0APPROVERS', '@ml-approvers' }
 */
export function createDirectory(
  client: UsergroupsClient,
  clock: Clock,
  ttlMs: number,
  options: DirectoryOptions = {},
): Directory {
  let snapshot: Snapshot | undefined;
  let loading: Promise<Snapshot> | undefined;
  let generation = 0;

  async function load(): Promise<Snapshot> {
    const started = generation;
    let listed: Awaited<ReturnType<UsergroupsClient['usergroups']['list']>>;
    try {
      listed = await client.usergroups.list({ include_disabled: false });
    } catch (e) {
      throw directoryError(e);
    }
    const all = (listed.usergroups ?? [])
      .filter((g): g is { id: string; handle?: string } => typeof g.id === 'string' && !g.date_delete)
      .map((g) => ({ id: g.id, ...(g.handle ? { handle: g.handle.toLowerCase() } : {}) }));
    const byRef = new Map<string, { id: string; handle?: string }>();
    for (const g of all) {
      byRef.set(g.id, g);
      if (g.handle) byRef.set(`@${g.handle}`, g);
    }
    const refs = options.refs?.map(normalise);
    const wanted = refs ? refs.map((r) => byRef.get(r)).filter((g) => g !== undefined) : all;
    const unknown = refs ? refs.filter((r) => !byRef.has(r)) : [];
    const unique = [...new Map(wanted.map((g) => [g.id, g])).values()];
    const groups = await Promise.all(
      unique.map(async (g): Promise<Group> => {
        try {
          const res = await client.usergroups.users.list({ usergroup: g.id });
          return { ...g, members: new Set(res.users ?? []) };
        } catch (e) {
          // Deleted between the two calls: nobody is in it.
          if (slackErrorOf(e) === 'no_such_subteam') return { ...g, members: new Set() };
          throw directoryError(e);
        }
      }),
    );
    const loaded = new Map(groups.map((g) => [g.id, g]));
    const byRefLoaded = new Map<string, Group>();
    for (const [ref, g] of byRef) {
      const group = loaded.get(g.id);
      if (group) byRefLoaded.set(ref, group);
    }
    const fresh = { groups, byRef: byRefLoaded, unknown, expiresAt: clock.now() + ttlMs };
    // An invalidate() during the load means this answer may already be out of date: don't keep it.
    if (started === generation) snapshot = fresh;
    return fresh;
  }

  function current(): Promise<Snapshot> {
    if (snapshot && clock.now() < snapshot.expiresAt) return Promise.resolve(snapshot);
    loading ??= load().finally(() => {
      loading = undefined;
    });
    return loading;
  }

  return {
    async groupsOf(userId) {
      const { groups } = await current();
      const out = new Set<string>();
      for (const g of groups) {
        if (!g.members.has(userId)) continue;
        out.add(g.id);
        if (g.handle) out.add(`@${g.handle}`);
      }
      return out;
    },
    async resolve(refs) {
      const { byRef } = await current();
      return refs.map((ref) => {
        const g = byRef.get(normalise(ref));
        return g ? { ref, id: g.id, members: [...g.members] } : { ref, members: [] };
      });
    },
    async unknownRefs() {
      return [...(await current()).unknown];
    },
    invalidate() {
      generation++;
      snapshot = undefined;
      loading = undefined;
    },
  };
}
