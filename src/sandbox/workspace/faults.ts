/** What the twin does instead of (or before) answering a request. */
export type Fault =
  | {
      kind: 'status';
      status: number;
      retryAfterSeconds?: number;
      /** Databricks error code; defaults to the usual one for the status. */
      errorCode?: string;
      message?: string;
    }
  /** Waits, then handles the request: it lands late. */
  | { kind: 'slow'; ms: number }
  /** Handles the request at once, then holds the answer: it lands, the answer arrives late. */
  | { kind: 'late'; ms: number }
  /** An HTML page from a proxy in front of the workspace; the request never reaches it. */
  | { kind: 'html'; status: number }
  | { kind: 'drop' };

/**
 * Per-route fault queues for tests: "the next N answers of this route are 503". A route is named
 * by its pattern, e.g. 'GET /api/2.0/serving-endpoints/:name', or '*' for any route.
 */
export class FaultInjector {
  private readonly queues = new Map<string, Fault[]>();

  next(route: string, fault: Fault, times = 1): void {
    const queue = this.queues.get(route) ?? [];
    for (let i = 0; i < times; i++) queue.push(fault);
    this.queues.set(route, queue);
  }

  /** Takes the fault due for this request, if any. */
  take(route: string): Fault | undefined {
    for (const key of [route, '*']) {
      const queue = this.queues.get(key);
      if (queue && queue.length > 0) return queue.shift();
    }
    return undefined;
  }

  pending(route: string): number {
    return this.queues.get(route)?.length ?? 0;
  }

  clear(): void {
    this.queues.clear();
  }
}
