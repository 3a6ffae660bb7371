/**
 * What /healthz answers, decided without I/O: the store, the Slack connection, scheduler
 * leadership and the version, and whether this replica can serve (200) or not (503). Holds no
 * token or secret: only states, holder names and times.
 */
import type { LeadershipStatus } from '../leadership/leader.js';

/** The store as the replica last saw it; `detail` says why it is not ready. */
export type StoreHealth = { state: 'ready' } | { state: 'connecting' | 'unreachable'; detail: string };

/** Slack: HTTP mode (Slack calls in; usable once listening) or the Socket Mode connection's state. */
export type SlackHealth =
  | { mode: 'http'; listening: boolean }
  | { mode: 'socket'; state: 'connecting' | 'connected' | 'reconnecting' | 'disconnected' };

export interface HealthInputs {
  store: StoreHealth;
  slack: SlackHealth;
  /** Undefined until the scheduler has started. */
  scheduler: LeadershipStatus | undefined;
  version: string;
}

/** The JSON body of /healthz. */
export interface HealthBody {
  ok: boolean;
  version: string;
  store: StoreHealth;
  slack: { state: 'http' | 'starting' | 'connecting' | 'connected' | 'reconnecting' | 'disconnected' };
  scheduler: { leader: boolean; holder: string | null; since: string | null };
}

/**
 * @example buildHealthReport({ store: { state: 'ready' }, slack: { mode: 'http', listening: true }, scheduler, version: '0.1.0' }).status // 200
 */
export function buildHealthReport(i: HealthInputs): { status: 200 | 503; body: HealthBody } {
  const slackUsable = i.slack.mode === 'http' ? i.slack.listening : i.slack.state === 'connected';
  const ok = i.store.state === 'ready' && slackUsable;
  const slackState: HealthBody['slack']['state'] =
    i.slack.mode === 'http' ? (i.slack.listening ? 'http' : 'starting') : i.slack.state;
  const since = i.scheduler?.since;
  return {
    status: ok ? 200 : 503,
    body: {
      ok,
      version: i.version,
      store: i.store,
      slack: { state: slackState },
      scheduler: {
        leader: i.scheduler?.leader ?? false,
        holder: i.scheduler?.holder ?? null,
        since: since === undefined ? null : new Date(since).toISOString(),
      },
    },
  };
}
