/**
 * A failure to inject into the next call(s) of a method:
 * - `{ status: 429, retryAfter: 1 }` → HTTP 429 with `Retry-After: 1` (web-api waits, then retries);
 * - `{ status: 500 }` → that HTTP status with a plain-text body (web-api throws `WebAPIHTTPError`, retries per policy);
 * - `{ error: 'channel_not_found' }` → HTTP 200 `{ ok: false, error, ...extra }` (web-api throws `WebAPIPlatformError`).
 */
export type SlackFault =
  | { status: 429; retryAfter?: number }
  | { status: number }
  | { error: string; extra?: Record<string, unknown> };

/**
 * Per-method queues of faults; each call of the method consumes one.
 *
 * @example
 * const faults = new FaultQueue();
 * faults.failNext('chat.postMessage', { error: 'ratelimited' }, 2);
 * faults.take('chat.postMessage'); // { error: 'ratelimited' }
 */
export class FaultQueue {
  private readonly queues = new Map<string, SlackFault[]>();

  failNext(method: string, fault: SlackFault, times = 1): void {
    const queue = this.queues.get(method) ?? [];
    for (let i = 0; i < times; i += 1) queue.push(fault);
    this.queues.set(method, queue);
  }

  take(method: string): SlackFault | undefined {
    const queue = this.queues.get(method);
    const fault = queue?.shift();
    if (queue && queue.length === 0) this.queues.delete(method);
    return fault;
  }

  pending(method?: string): number {
    if (method) return this.queues.get(method)?.length ?? 0;
    let total = 0;
    for (const q of this.queues.values()) total += q.length;
    return total;
  }

  clear(): void {
    this.queues.clear();
  }
}
