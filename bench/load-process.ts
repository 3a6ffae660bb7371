/**
 * The load generator for the ack bench, in its own process: plays Slack posting signed requests
 * and times each answer. Orders and results travel over the fork IPC channel.
 */
import { blockAction, type SlackRequest, slashCommand } from '../test/support/slack-requests.js';
import { timedConcurrently } from './stats.js';
import { createPoster } from './support.js';

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
  // node:http rather than fetch: the client's own CPU would otherwise slow the bot it times.
  const poster = createPoster(order.url);
  const durations = await timedConcurrently(requests.length, order.concurrency, async (i) => {
    const status = await poster.post(requests[i]!);
    if (status !== 200) throw new Error(`HTTP ${status} from ${order.url}`);
  });
  poster.close();
  process.send?.({ durations });
});
process.on('disconnect', () => process.exit(0));
process.send?.({ ready: true });
