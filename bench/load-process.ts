/**
 * The load generator for the ack bench, in its own process: plays Slack posting signed requests
 * and times each answer. Orders and results travel over the fork IPC channel.
 */
import { blockAction, postToBolt, type SlackRequest, slashCommand } from '../test/support/slack-requests.js';
import { timedConcurrently } from './stats.js';

export interface LoadOrder {
  url: string;
  kind: 'command' | 'click';
  texts: string[];
  /** One fresh response URL per request. */
  responseUrls: string[];
  concurrency: number;
}

process.on('message', async (order: LoadOrder) => {
  // Requests are built (and signed) before timing, so the figure is the server's, not the client's.
  const requests: SlackRequest[] = order.responseUrls.map((response_url, i) =>
    order.kind === 'command'
      ? slashCommand({ text: order.texts[i % order.texts.length]!, response_url })
      : blockAction({ action_id: 'change-apply', value: 'no-such-change', response_url }),
  );
  const durations = await timedConcurrently(requests.length, order.concurrency, async (i) => {
    const res = await postToBolt(order.url, requests[i]!);
    if (res.status !== 200) throw new Error(`HTTP ${res.status} from ${order.url}`);
  });
  process.send?.({ durations });
});
process.on('disconnect', () => process.exit(0));
process.send?.({ ready: true });
