import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSkewedRequest } from '../../src/slack/request-age.js';
import { type BotOnTwins, startBotOnTwins } from '../support/bot.js';

let env: BotOnTwins;
beforeAll(async () => {
  env = await startBotOnTwins();
});
afterAll(() => env.stop());

const nowSeconds = () => Math.floor(Date.now() / 1000);

describe('signed requests stamped far from now', () => {
  it('answers 401 to a correctly signed request timestamped 10 minutes in the future, and runs nothing', async () => {
    const before = env.slack.calls('response_url').length;
    const res = await env.command('status', {}, { timestampSeconds: nowSeconds() + 10 * 60 });
    expect(res.status).toBe(401);
    // A request that was let in would be answered through its response_url.
    await new Promise((r) => setTimeout(r, 200));
    expect(env.slack.calls('response_url')).toHaveLength(before);
  });

  it('answers 401 to one timestamped 10 minutes in the past, as Bolt does', async () => {
    const res = await env.command('status', {}, { timestampSeconds: nowSeconds() - 10 * 60 });
    expect(res.status).toBe(401);
  });

  it('serves a request from a sender whose clock is 4 minutes ahead', async () => {
    const before = env.slack.calls('response_url').length;
    const res = await env.command('status', {}, { timestampSeconds: nowSeconds() + 4 * 60 });
    expect(res.status).toBe(200);
    await env.slack.waitFor(() => env.slack.calls('response_url').slice(before)[0]);
  });
});

describe('isSkewedRequest', () => {
  const now = Date.parse('2026-03-02T09:00:00Z');
  const at = (offsetSeconds: number) => String(now / 1000 + offsetSeconds);
  it.each([
    { header: at(0), want: false },
    { header: at(300), want: false },
    { header: at(301), want: true },
    { header: at(-300), want: false },
    { header: at(-301), want: true },
    { header: [at(600)], want: true },
    // Left to the signature check, which refuses them.
    { header: undefined, want: false },
    { header: 'soon', want: false },
  ])('$header → $want', ({ header, want }) => {
    expect(isSkewedRequest(header, now)).toBe(want);
  });
});
