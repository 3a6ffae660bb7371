import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BotOnTwins, startBotOnTwins } from '../support/bot.js';

let env: BotOnTwins;
beforeAll(async () => {
  env = await startBotOnTwins();
});
afterAll(() => env.stop());

describe('markup typed into a command', () => {
  it.each([
    { typed: 'status <!channel>', live: '<!channel>' },
    { typed: 'status <!here|here>', live: '<!here' },
    { typed: 'deploy <https://evil.test|churn_model> 3', live: '<https://evil.test' },
    { typed: 'status <!subteam^S0123|@oncall>', live: '<!subteam' },
  ])('comes back as text in the error reply to "/mlops $typed"', async ({ typed, live }) => {
    const before = env.slack.calls('response_url').length;
    const res = await env.command(typed);
    expect(res.status).toBe(200);
    const reply = await env.slack.waitFor(() => env.slack.calls('response_url').slice(before)[0]);
    const shown = `${String(reply.args.text ?? '')}\n${JSON.stringify(reply.args.blocks ?? [])}`;
    expect(reply.args.response_type).toBe('ephemeral');
    expect(shown).not.toContain(live);
    expect(shown).toContain(live.replace(/</g, '&lt;').replace(/>/g, '&gt;'));
  });
});
