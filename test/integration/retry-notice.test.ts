/**
 * A command whose Databricks calls are being retried tells its user so within 3 s, through the
 * command's response_url, and the answer replaces that note (issue #12, "smaller holes").
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MLOPS_CHANNEL_ID, REQUESTER_USER_ID } from '../../src/sandbox/slack/index.js';
import { DEMO } from '../../src/sandbox/workspace/demo.js';
import { type BotOnTwins, startBotOnTwins } from '../support/bot.js';
import { shown } from '../support/shown.js';

const GET_ENDPOINT = 'GET /api/2.0/serving-endpoints/:name';

let env: BotOnTwins | undefined;
afterEach(async () => {
  await env?.stop();
  env = undefined;
});

/** The n-th post to a response_url since the test began, as the Slack twin recorded it. */
async function responses(bot: BotOnTwins, n: number, timeoutMs = 8_000) {
  const calls = await bot.slack.waitFor(() => {
    const all = bot.slack.calls('response_url');
    return all.length >= n ? all : undefined;
  }, timeoutMs);
  return calls.map((c) => ({
    ...(c.args as { text?: string; blocks?: unknown; replace_original?: boolean; response_type?: string }),
    at: c.at,
  }));
}

/** What riley sees in #mlops: the ephemerals addressed to them. */
const ephemeralsForRiley = (bot: BotOnTwins) =>
  bot.slack.messages(MLOPS_CHANNEL_ID).filter((m) => m.ephemeral_to === REQUESTER_USER_ID);

describe('a command while Databricks is unavailable', () => {
  it('says "Databricks is unavailable … retrying" within 3 s, then the answer replaces that note', async () => {
    env = await startBotOnTwins();
    env.workspace.faults.next(GET_ENDPOINT, { kind: 'html', status: 502 }, 3);
    const sent = Date.now();
    await env.command(`status ${DEMO.endpoint}`);

    const [notice, answer] = await responses(env, 2);
    expect(notice!.text).toBe('Databricks is unavailable (502 from a gateway); retrying…');
    expect(notice!.at).toBeGreaterThanOrEqual(sent);
    expect(notice!.at - sent).toBeLessThan(3_000);
    expect(answer!.replace_original).toBe(true);
    expect(shown(answer!)).toMatch(/churn_model v2/);
    // One message on screen, and it is the answer.
    const seen = ephemeralsForRiley(env);
    expect(seen).toHaveLength(1);
    expect(shown(seen[0]!)).toMatch(/churn_model v2/);
    expect(shown(seen[0]!)).not.toContain('retrying');
  });

  it('replaces the note with "Databricks was unavailable" when the retries give up', async () => {
    env = await startBotOnTwins({ databricksHttp: { deadlineMs: 4_000 } });
    env.workspace.faults.next(GET_ENDPOINT, { kind: 'html', status: 502 }, 100);
    await env.command(`status ${DEMO.endpoint}`);

    const [notice, answer] = await responses(env, 2);
    expect(notice!.text).toMatch(/retrying…$/);
    expect(answer!.replace_original).toBe(true);
    expect(answer!.text).toMatch(
      /^Databricks was unavailable \(502 from a gateway\) after \d+ attempts\. Try again/,
    );
    expect(shown(answer!)).not.toMatch(/Sorry, something went wrong|<html/);
    const seen = ephemeralsForRiley(env);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.text).toBe(answer!.text);
  });

  it('removes the note before an answer for the whole channel (a plan)', async () => {
    const bot = await startBotOnTwins();
    env = bot;
    bot.workspace.faults.next(GET_ENDPOINT, { kind: 'html', status: 502 }, 3);
    await bot.command(`deploy churn_model 3 to ${DEMO.endpoint}`);

    const [notice, removal] = await responses(bot, 2);
    expect(notice!.text).toMatch(/retrying…$/);
    expect(removal).toMatchObject({ delete_original: true });
    // The plan is the bot's own message in the channel (the change's one message).
    const plan = await bot.slack.waitFor(() =>
      bot.slack.messages(MLOPS_CHANNEL_ID).find((m) => !m.ephemeral_to && /^Plan: /.test(m.text ?? '')),
    );
    expect(plan).toBeDefined();
    expect(ephemeralsForRiley(bot)).toEqual([]);
  });

  it('shows no note when one quick retry absorbs a dropped connection', async () => {
    env = await startBotOnTwins();
    env.workspace.faults.next(GET_ENDPOINT, { kind: 'drop' });
    await env.command(`status ${DEMO.endpoint}`);

    const [answer] = await responses(env, 1);
    expect(shown(answer!)).toMatch(/churn_model v2/);
    await new Promise((r) => setTimeout(r, 1_200));
    expect(env.slack.calls('response_url')).toHaveLength(1);
  });
});
