import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { APPROVALS_CHANNEL_ID, APPROVER_USER_ID, MLOPS_CHANNEL_ID } from '../../src/sandbox/slack/index.js';
import { DEMO, seedDemoWorkspace } from '../../src/sandbox/workspace/demo.js';
import { startWorkspaceTwin, type WorkspaceTwin } from '../../src/sandbox/workspace/server.js';
import { ACTION_APPROVAL_APPROVE } from '../../src/slack/blocks/action-ids.js';
import { type BotOnTwins, startBotOnTwins } from '../support/bot.js';
import { shown } from '../support/shown.js';

let workspace: WorkspaceTwin;
let env: BotOnTwins;

beforeEach(async () => {
  workspace = await startWorkspaceTwin({
    state: seedDemoWorkspace(),
    rolloutDelayMs: 150,
    jobQueueMs: 30,
    jobRunMs: 60,
  });
  env = await startBotOnTwins({ workspace });
});
afterEach(async () => {
  await env.stop();
  await workspace.stop();
});

const ledgerPosts = () =>
  [APPROVALS_CHANNEL_ID, MLOPS_CHANNEL_ID].flatMap((c) =>
    env.slack.messages(c).filter((m) => !m.ephemeral_to && /outside modelgate/.test(m.text ?? '')),
  );
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A call made directly on the workspace, as the Databricks UI or CLI would make it. */
async function direct(method: string, path: string, body: unknown) {
  const res = await fetch(`${workspace.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${workspace.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
}

/** The bot's answer to a command, through its response_url. */
async function ask(text: string) {
  const before = env.slack.calls('response_url').length;
  await env.command(text);
  const call = await env.slack.waitFor(async () => env.slack.calls('response_url').slice(before)[0]);
  return shown(call.args as { text?: string; blocks?: unknown });
}

describe('the ledger of changes', () => {
  it('records a baseline first, then an alias move and an endpoint update made on the workspace, posts both, and answers history at a time', async () => {
    const first = await env.bot.ledger.tick(Date.now());
    expect(first?.recorded.every((e) => e.source.kind === 'baseline')).toBe(true);
    expect(first?.recorded.map((e) => e.key)).toEqual(
      expect.arrayContaining([`endpoint:${DEMO.endpoint}`, `alias:${DEMO.model}@production`]),
    );
    expect(ledgerPosts()).toEqual([]);

    await sleep(5);
    const beforeChanges = new Date().toISOString();
    await sleep(5);
    await direct('PUT', `/api/2.1/unity-catalog/models/${DEMO.model}/aliases/Production`, { version_num: 3 });
    await direct('PUT', `/api/2.0/serving-endpoints/${DEMO.endpoint}/config`, {
      served_entities: [
        {
          name: 'churn_model-3',
          entity_name: DEMO.model,
          entity_version: '3',
          workload_size: 'Small',
          scale_to_zero_enabled: true,
        },
      ],
      traffic_config: { routes: [{ served_model_name: 'churn_model-3', traffic_percentage: 100 }] },
    });
    await sleep(300); // the rollout settles on the twin

    const second = await env.bot.ledger.tick(Date.now());
    expect(second?.recorded.map((e) => [e.key, e.source.kind])).toEqual(
      expect.arrayContaining([
        [`endpoint:${DEMO.endpoint}`, 'out_of_band'],
        [`alias:${DEMO.model}@production`, 'out_of_band'],
      ]),
    );
    const texts = ledgerPosts().map((m) => m.text);
    expect(texts).toEqual(
      expect.arrayContaining([
        'churn-endpoint changed outside modelgate: churn_model v2 100% → churn_model v3 100%; not approved here',
        'Production of churn_model moved outside modelgate: not set → v3; not approved here',
      ]),
    );
    // Posted once, in the approval channel, with what Databricks says about who.
    expect(texts).toHaveLength(2);
    const aliasPost = env.slack
      .messages(APPROVALS_CHANNEL_ID)
      .find((m) => /Production of churn_model/.test(m.text ?? ''));
    expect(shown(aliasPost!)).toMatch(/version registered by \S+@/);

    // A tick with nothing new records and posts nothing more.
    const third = await env.bot.ledger.tick(Date.now());
    expect(third?.recorded).toEqual([]);
    expect(ledgerPosts()).toHaveLength(2);

    const then = await ask(`history churn-endpoint at ${beforeChanges}`);
    expect(then).toMatch(/churn-endpoint\* served \*churn_model v2 100%/);
    const now = await ask('history churn-endpoint');
    expect(now).toMatch(/churn-endpoint\* served \*churn_model v3 100%/);
    expect(now).toMatch(/churn_model v2 100% → churn_model v3 100% · outside modelgate/);
    const model = await ask(`history churn_model at ${beforeChanges}`);
    expect(model).toMatch(/Production of churn_model\* pointed at \*not set/);
    expect(model).toMatch(/Champion of churn_model\* pointed at \*v2/);
  });

  it("matches the bot's own approved promotion (endpoint rollout and alias move) to its change ids and posts nothing", async () => {
    await env.bot.ledger.tick(Date.now());
    await env.command('promote churn_model 3 Production');
    const request = await env.slack.waitFor(
      () =>
        env.slack
          .messages(APPROVALS_CHANNEL_ID)
          .flatMap((m) =>
            ((m.blocks ?? []) as Array<{ elements?: Array<{ action_id?: string; value?: string }> }>).flatMap(
              (b) =>
                (b.elements ?? [])
                  .filter((e) => e.action_id === ACTION_APPROVAL_APPROVE)
                  .map((e) => ({ ts: m.ts, id: e.value! })),
            ),
          )[0],
    );
    await env.click({
      action_id: ACTION_APPROVAL_APPROVE,
      value: request.id,
      message_ts: request.ts,
      channel: APPROVALS_CHANNEL_ID,
      user: APPROVER_USER_ID,
    });
    await env.slack.waitFor(
      () => workspace.state.models.get(DEMO.model)?.aliases.get('production')?.version_num === 3,
      8_000,
    );

    const tick = await env.bot.ledger.tick(Date.now());
    const byKey = new Map(tick?.recorded.map((e) => [e.key, e.source]));
    const endpointSource = byKey.get(`endpoint:${DEMO.endpoint}`);
    const aliasSource = byKey.get(`alias:${DEMO.model}@production`);
    expect(endpointSource?.kind).toBe('bot');
    expect(aliasSource?.kind).toBe('bot');
    const ids = new Set((await env.bot.store.recentAudit({ action: 'applied' })).map((a) => a.changeId));
    expect(endpointSource?.kind === 'bot' && ids.has(endpointSource.changeId)).toBe(true);
    expect(aliasSource?.kind === 'bot' && ids.has(aliasSource.changeId)).toBe(true);
    expect(ledgerPosts()).toEqual([]);

    const history = await ask('history churn-endpoint');
    expect(history).toMatch(/modelgate change `[a-z0-9]{10}` applied by <@/);
  });

  it('posts an out-of-band change Slack refused at first on a later tick', async () => {
    await env.bot.ledger.tick(Date.now());
    await direct('PUT', `/api/2.1/unity-catalog/models/${DEMO.model}/aliases/Production`, { version_num: 2 });
    env.slack.failNext('chat.postMessage', { error: 'channel_not_found' });
    const failed = await env.bot.ledger.tick(Date.now());
    expect(failed?.postFailures).toHaveLength(1);
    expect(ledgerPosts()).toEqual([]);
    const retried = await env.bot.ledger.tick(Date.now());
    expect(retried?.posted).toBe(1);
    expect(ledgerPosts().map((m) => m.text)).toEqual([
      'Production of churn_model moved outside modelgate: not set → v2; not approved here',
    ]);
  });

  it('refuses a time that is not ISO, with the fix', async () => {
    const reply = await ask('history churn-endpoint at yesterday');
    expect(reply).toMatch(/not an ISO time/);
    expect(reply).toMatch(/2026-12-03T14:30Z/);
  });
});
