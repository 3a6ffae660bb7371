import type { SlackFault } from './faults.js';

/** One request the twin received, in arrival order. */
export interface RecordedCall {
  /** Web API method (`chat.postMessage`), or `upload` / `response_url` for those endpoints, or `GET /path` for unknown routes. */
  method: string;
  /** Decoded arguments: form fields and JSON bodies alike, with `blocks`, `metadata`, `files`, `attachments` parsed. */
  args: Record<string, unknown>;
  /** Epoch milliseconds when the request arrived. */
  at: number;
  token?: string;
  /** HTTP status and body the twin answered with. */
  status: number;
  response: unknown;
  /** URL path, for the response_url and unknown-route records. */
  path?: string;
  /** True when the method or route is unknown to the twin. */
  unknown?: boolean;
  fault?: SlackFault;
}

/**
 * The ordered record of every request, with a change hook so waiting is event-driven.
 *
 * @example
 * const log = new CallLog();
 * log.onRecord((call) => console.log(call.method));
 */
export class CallLog {
  private readonly entries: RecordedCall[] = [];
  private readonly listeners = new Set<(call: RecordedCall) => void>();

  record(call: RecordedCall): void {
    this.entries.push(call);
    for (const listener of [...this.listeners]) listener(call);
  }

  onRecord(listener: (call: RecordedCall) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  all(method?: string): RecordedCall[] {
    return method ? this.entries.filter((c) => c.method === method) : [...this.entries];
  }

  last(method: string): RecordedCall | undefined {
    return this.all(method).at(-1);
  }

  unknown(): RecordedCall[] {
    return this.entries.filter((c) => c.unknown);
  }

  clear(): void {
    this.entries.length = 0;
  }
}
