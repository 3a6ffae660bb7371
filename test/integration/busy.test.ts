import { afterEach, describe, expect, it } from 'vitest';
import { DEMO } from '../../src/sandbox/workspace/demo.js';
import { type BotOnTwins, startBotOnTwins } from '../support/bot.js';

let env: BotOnTwins | undefined;
afterEach(() => env?.stop());

describe('a burst beyond the post-ack queue', () => {
  it('answers the excess at once with "busy, try again" and serves the rest', async () => {
    // Eight slots (the default) and room for one more to wait; Databricks answers slowly.
    env = await startBotOnTwins({ queueLimit: 1 });
    const twin = env;
    twin.workspace.faults.next('GET /api/2.0/serving-endpoints/:name', { kind: 'slow', ms: 1_500 }, 9);
    const acks = await Promise.all(Array.from({ length: 12 }, () => twin.command(`status ${DEMO.endpoint}`)));
    expect(acks.map((a) => a.status)).toEqual(Array(12).fill(200));

    const replies = () => twin.slack.calls('response_url').map((c) => String(c.args.text ?? ''));
    const busy = await twin.slack.waitFor(() => {
      const b = replies().filter((t) => t.includes('modelgate is busy, try again in a moment'));
      return b.length === 3 ? b : undefined;
    });
    expect(busy).toHaveLength(3);
    // The three were shed before Databricks was asked anything for them.
    const served = await twin.slack.waitFor(() => {
      const s = replies().filter((t) => t.includes(DEMO.endpoint));
      return s.length === 9 ? s : undefined;
    }, 10_000);
    expect(served).toHaveLength(9);
    expect(
      twin.workspace.requests.filter((r) => r.path.endsWith(`/serving-endpoints/${DEMO.endpoint}`)).length,
    ).toBe(9);
  });
});
