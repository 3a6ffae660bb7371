/**
 * How the store is doing, for whoever reports health (a later /healthz reads it): connecting at
 * start-up (with the attempt and the last error), ready, or unreachable (start-up gave up, or the
 * running bot lost the database). Plain state, no HTTP.
 */

export type StoreState =
  | { state: 'connecting'; attempt: number; lastError?: string; since: number }
  | { state: 'ready'; since: number }
  | { state: 'unreachable'; error: string; since: number };

/** The store's status, updated by the store layer and read by health reporting. */
export interface StoreStatus {
  readonly kind: 'sqlite' | 'postgres';
  current(): StoreState;
  set(next: StoreState): void;
}

/**
 * @example const status = createStoreStatus('postgres', Date.now); status.current().state // 'connecting'
 */
export function createStoreStatus(kind: 'sqlite' | 'postgres', now: () => number): StoreStatus {
  let state: StoreState = { state: 'connecting', attempt: 0, since: now() };
  return {
    kind,
    current: () => state,
    set(next) {
      state = next;
    },
  };
}
