import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { MLOPS_CHANNEL_ID, REQUESTER_USER_ID } from '../../src/sandbox/slack/index.js';
import { DEMO } from '../../src/sandbox/workspace/demo.js';
import { ACTION_APPLY } from '../../src/slack/blocks/action-ids.js';
import { createPostgresDatabase, postgresUrl } from '../support/backends.js';
import { type BotOnTwins, startBotOnTwins } from '../support/bot.js';

let env: BotOnTwins | undefined;
afterEach(async () => {
  await env?.stop();
  env = undefined;
});

/** The plan message with its Apply button, newest first. */
function latestPlan(e: BotOnTwins): { ts: string; changeId: string } | undefined {
  for (const m of e.slack.messages(MLOPS_CHANNEL_ID).reverse()) {
    for (const block of (m.blocks ?? []) as Array<{
      elements?: Array<{ action_id?: string; value?: string }>;
    }>) {
      const apply = block.elements?.find((el) => el.action_id === ACTION_APPLY);
      if (apply?.value) return { ts: m.ts, changeId: apply.value };
    }
  }
  return undefined;
}

/** Text of everything a message shows. */
const shown = (m: { text?: string; blocks?: unknown }) =>
  `${m.text ?? ''}\n${JSON.stringify(m.blocks ?? [])}`;

async function replyAfter(e: BotOnTwins, after: number) {
  const call = await e.slack.waitFor(() => e.slack.calls('response_url').slice(after)[0]);
  return call.args as { text?: string; blocks?: unknown[]; response_type?: string };
}

/** Cuts the bot off its database (its connections killed, new ones refused), or lets it back. */
async function setReachable(url: string, reachable: boolean): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: postgresUrl() });
  await admin.connect();
  try {
    await admin.query(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS ${reachable}`);
    if (!reachable) {
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
    }
  } finally {
    await admin.end();
  }
}

describe.skipIf(postgresUrl() === '')('a bot that loses its Postgres database while running', () => {
  it('answers commands and clicks ephemerally that nothing was changed, sends nothing to Databricks, and works again once it is back', async () => {
    const url = await createPostgresDatabase('lost');
    env = await startBotOnTwins({ postgresUrl: url });
    const e = env;
    await e.command(`deploy churn_model 3 to ${DEMO.endpoint}`);
    const plan = await e.slack.waitFor(() => latestPlan(e));
    expect(e.bot.storeStatus.current().state).toBe('ready');

    await setReachable(url, false);
    let before = e.slack.calls('response_url').length;
    await e.command(`deploy churn_model 3 to ${DEMO.endpoint}`);
    const refused = await replyAfter(e, before);
    expect(refused.response_type).toBe('ephemeral');
    expect(shown(refused)).toContain('modelgate cannot reach its database, nothing was changed');

    before = e.slack.calls('response_url').length;
    await e.click({
      action_id: ACTION_APPLY,
      value: plan.changeId,
      message_ts: plan.ts,
      user: REQUESTER_USER_ID,
    });
    const click = await replyAfter(e, before);
    expect(click.response_type).toBe('ephemeral');
    expect(shown(click)).toContain('modelgate cannot reach its database, nothing was changed');
    expect(e.workspace.requests.filter((r) => r.method === 'PUT')).toHaveLength(0);
    expect(e.bot.storeStatus.current().state).toBe('unreachable');

    await setReachable(url, true);
    await e.click({
      action_id: ACTION_APPLY,
      value: plan.changeId,
      message_ts: plan.ts,
      user: REQUESTER_USER_ID,
    });
    await e.slack.waitFor(() => e.workspace.requests.some((r) => r.method === 'PUT'), 10_000);
    expect(e.bot.storeStatus.current().state).toBe('ready');
  }, 60_000);
});
