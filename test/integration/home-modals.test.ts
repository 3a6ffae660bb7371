/**
 * The App Home and the modals over loopback: the real app on its HTTP receiver, the Slack twin
 * (views.publish / views.open / views.update, view_submission and block_suggestion delivery) and
 * the workspace twin with the demo data.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  APPROVALS_CHANNEL_ID,
  APPROVER_USER_ID,
  checkBlocks,
  MLOPS_CHANNEL_ID,
  REQUESTER_USER_ID,
  VIEWER_USER_ID,
} from '../../src/sandbox/slack/index.js';
import { DEMO } from '../../src/sandbox/workspace/demo.js';
import {
  ACTION_APPROVAL_APPROVE,
  ACTION_APPROVAL_REJECT,
  ACTION_APPROVAL_REJECT_REASON,
  ACTION_DEPLOY_ENDPOINT,
  ACTION_DEPLOY_MODEL,
  ACTION_DEPLOY_VERSION,
  ACTION_QUERY_RECORDS,
} from '../../src/slack/blocks/action-ids.js';
import { REJECT_REASON_BLOCK } from '../../src/slack/blocks/approval.js';
import {
  DEPLOY_ENDPOINT_BLOCK,
  DEPLOY_MODEL_BLOCK,
  DEPLOY_VERSION_BLOCK,
  QUERY_RECORDS_BLOCK,
} from '../../src/slack/blocks/modals.js';
import { type BotOnTwins, startBotOnTwins } from '../support/bot.js';
import { shown } from '../support/shown.js';
import { clickOnHome, openHome, picked, submitModal, suggest, typed } from '../support/views.js';

let env: BotOnTwins;
beforeEach(async () => {
  env = await startBotOnTwins();
});
afterEach(async () => env.stop());

/** Everything a Home or modal shows, as one text. */
const viewText = (view: { blocks: unknown[] } | undefined) =>
  view ? shown({ text: '', blocks: view.blocks }) : '';
const homeOf = (user: string) => env.slack.state.views.home(user);
const modalOf = (user: string) => env.slack.state.views.modalOf(user);

async function answer(after: number) {
  const call = await env.slack.waitFor(() => env.slack.calls('response_url').slice(after)[0]);
  return call.args as {
    text?: string;
    blocks?: unknown[];
    response_type?: string;
    replace_original?: boolean;
  };
}

async function requestProduction() {
  const before = env.slack.calls('response_url').length;
  await env.command('promote churn_model 3 Production');
  await answer(before);
  return env.slack.waitFor(async () => (await env.bot.approvals.pending())[0]);
}

const cardOf = (id: string) =>
  env.slack
    .messages(APPROVALS_CHANNEL_ID)
    .find((m) => !m.ephemeral_to && JSON.stringify(m.blocks ?? []).includes(`"value":"${id}"`));

describe('the App Home', () => {
  it('is published on app_home_opened with each section, and says "getting started" on the first visit only', async () => {
    const request = await requestProduction();
    expect((await openHome(env, APPROVER_USER_ID)).status).toBe(200);
    const home = await env.slack.waitFor(() => homeOf(APPROVER_USER_ID));
    expect(checkBlocks(home.blocks.slice(0, 50))).toEqual([]);
    const text = viewText(home);
    expect(text).toContain('Getting started');
    expect(text).toContain('Waiting for your approval');
    expect(text).toContain('Production → churn_model v3');
    expect(JSON.stringify(home.blocks)).toContain(
      `"action_id":"${ACTION_APPROVAL_APPROVE}","text":{"type":"plain_text","text":"Approve"`.slice(0, 40),
    );
    expect(JSON.stringify(home.blocks)).toContain(`"value":"${request.id}"`);
    expect(text).toContain(`*${DEMO.endpoint}*: churn_model v2 100%`);
    expect(text).toContain('Open drift alerts');

    // The requester sees their own request, and nothing to approve.
    await openHome(env, REQUESTER_USER_ID);
    const mine = viewText(await env.slack.waitFor(() => homeOf(REQUESTER_USER_ID)));
    expect(mine).toContain('Nothing waits for you.');
    expect(mine).toMatch(/Production → churn_model v3\*: waiting for approval \(0 of 1\)/);

    // The second opening has no "getting started" any more.
    await openHome(env, APPROVER_USER_ID);
    await env.slack.waitFor(
      () => !viewText(homeOf(APPROVER_USER_ID)).includes('Getting started') || undefined,
    );
    expect(viewText(homeOf(APPROVER_USER_ID))).toContain('Waiting for your approval');
  });

  it('is refreshed after a vote on the card, and lets an approver approve from the Home', async () => {
    const first = await requestProduction();
    await openHome(env, APPROVER_USER_ID);
    await env.slack.waitFor(() => viewText(homeOf(APPROVER_USER_ID)).includes('churn_model v3') || undefined);
    // Approve from the Home: the same approval path as the card; the answer shows on the Home.
    const res = await clickOnHome(env, APPROVER_USER_ID, ACTION_APPROVAL_APPROVE, first.id);
    expect(res.status).toBe(200);
    await env.slack.waitFor(
      () => viewText(homeOf(APPROVER_USER_ID)).includes('You approved') || undefined,
      8_000,
    );
    // Once done, the card's change refreshes the Home: nothing waits any more.
    await env.slack.waitFor(
      () => viewText(homeOf(APPROVER_USER_ID)).includes('Nothing waits for you.') || undefined,
      8_000,
    );
    await env.slack.waitFor(
      async () => (await env.bot.requests.get(first.id))?.status === 'executed' || undefined,
      8_000,
    );
  });

  it('fails to publish without breaking anything, and is published again on the next opening', async () => {
    env.slack.failNext('views.publish', { error: 'internal_error' });
    await openHome(env, REQUESTER_USER_ID);
    await env.slack.waitForCall('views.publish');
    expect(homeOf(REQUESTER_USER_ID)).toBeUndefined();
    // The bot still answers commands.
    const before = env.slack.calls('response_url').length;
    await env.command('status churn-endpoint');
    expect(shown(await answer(before))).toContain(DEMO.endpoint);
    await openHome(env, REQUESTER_USER_ID);
    const home = await env.slack.waitFor(() => homeOf(REQUESTER_USER_ID));
    // The failed first visit did not count: "getting started" is still shown.
    expect(viewText(home)).toContain('Getting started');
  });
});

describe('the query modal', () => {
  it('opens for /mlops query <endpoint> with an example record from the input schema, and sends it', async () => {
    const res = await env.command(`query ${DEMO.endpoint}`);
    expect(res.status).toBe(200);
    const modal = await env.slack.waitFor(() =>
      JSON.stringify(modalOf(REQUESTER_USER_ID)?.blocks ?? []).includes('initial_value')
        ? modalOf(REQUESTER_USER_ID)
        : undefined,
    );
    const input = JSON.stringify(modal.blocks);
    for (const column of ['tenure', 'monthly_charges', 'contract', 'senior_citizen'])
      expect(input).toContain(column);
    expect(env.slack.calls('response_url')).toHaveLength(0);

    // Bad JSON: a field error, nothing sent.
    const bad = await submitModal(env, REQUESTER_USER_ID, {
      [QUERY_RECORDS_BLOCK]: { [ACTION_QUERY_RECORDS]: typed('[{"tenure": }]') },
    });
    expect(bad.errors?.[QUERY_RECORDS_BLOCK]).toMatch(/not valid JSON/);
    expect(modalOf(REQUESTER_USER_ID)).toBeDefined();
    const invocations = env.workspace.requests.filter((r) => r.path.endsWith('/invocations')).length;
    expect(invocations).toBe(0);

    const before = env.slack.calls('response_url').length;
    const ok = await submitModal(env, REQUESTER_USER_ID, {
      [QUERY_RECORDS_BLOCK]: {
        [ACTION_QUERY_RECORDS]: typed(
          '[{"tenure": 2, "monthly_charges": 95.5, "contract": "Month-to-month", "senior_citizen": 1}]',
        ),
      },
    });
    expect(ok.errors).toBeUndefined();
    expect(modalOf(REQUESTER_USER_ID)).toBeUndefined();
    const reply = await answer(before);
    expect(shown(reply)).toMatch(/Yes|No/);
    expect(shown(reply)).toContain('churn_model v2');
  });
});

describe('the reject modal', () => {
  it('opens on Reject, and records the reason given there', async () => {
    const request = await requestProduction();
    const card = cardOf(request.id)!;
    await env.click({
      action_id: ACTION_APPROVAL_REJECT,
      value: request.id,
      message_ts: card.ts,
      channel: APPROVALS_CHANNEL_ID,
      user: APPROVER_USER_ID,
    });
    const modal = await env.slack.waitFor(() => modalOf(APPROVER_USER_ID));
    expect(viewText(modal)).toContain('Production → churn_model v3');
    const before = env.slack.calls('response_url').length;
    await submitModal(env, APPROVER_USER_ID, {
      [REJECT_REASON_BLOCK]: { [ACTION_APPROVAL_REJECT_REASON]: typed('wait for the Q3 eval') },
    });
    const reply = await answer(before);
    expect(reply.replace_original).toBe(false);
    expect((await env.bot.requests.get(request.id))?.status).toBe('rejected');
    expect((await env.bot.requests.get(request.id))?.reason).toBe('wait for the Q3 eval');
    // The card is still there (not replaced by the answer), without buttons.
    await env.slack.waitFor(
      () => !JSON.stringify(cardOf(request.id)?.blocks ?? []).includes(ACTION_APPROVAL_APPROVE) || undefined,
    );
  });
});

describe('the deploy modal', () => {
  const values = (model?: string, version?: string, endpoint?: string) => ({
    [DEPLOY_MODEL_BLOCK]: {
      [ACTION_DEPLOY_MODEL]: model ? picked(model) : { type: 'external_select', selected_option: null },
    },
    [DEPLOY_VERSION_BLOCK]: {
      [ACTION_DEPLOY_VERSION]: version ? picked(version) : { type: 'external_select', selected_option: null },
    },
    [DEPLOY_ENDPOINT_BLOCK]: {
      [ACTION_DEPLOY_ENDPOINT]: endpoint
        ? picked(endpoint)
        : { type: 'external_select', selected_option: null },
    },
  });

  it('fills its selects from the registry through external_select and submits into the deploy plan', async () => {
    await env.command('deploy');
    await env.slack.waitFor(() => modalOf(REQUESTER_USER_ID));
    const models = await suggest(env, REQUESTER_USER_ID, {
      block_id: DEPLOY_MODEL_BLOCK,
      action_id: ACTION_DEPLOY_MODEL,
    });
    expect(models).toContainEqual({ label: 'churn_model', value: DEMO.model });
    const versions = await suggest(
      env,
      REQUESTER_USER_ID,
      { block_id: DEPLOY_VERSION_BLOCK, action_id: ACTION_DEPLOY_VERSION },
      '',
      values(DEMO.model),
    );
    expect(versions.map((v) => v.label)).toEqual(['v3 · Challenger', 'v2 · Champion', 'v1']);
    const endpoints = await suggest(
      env,
      REQUESTER_USER_ID,
      { block_id: DEPLOY_ENDPOINT_BLOCK, action_id: ACTION_DEPLOY_ENDPOINT },
      'churn',
    );
    expect(endpoints.map((e) => e.value)).toContain(DEMO.endpoint);

    const done = await submitModal(env, REQUESTER_USER_ID, values(DEMO.model, '3', DEMO.endpoint));
    expect(done.errors).toBeUndefined();
    // One message per change: the plan is the bot's own message in the channel, not a response_url answer.
    const plan = await env.slack.waitFor(() =>
      env.slack
        .messages(MLOPS_CHANNEL_ID)
        .find((m) => !m.ephemeral_to && JSON.stringify(m.blocks ?? []).includes('change-apply')),
    );
    expect(shown(plan)).toContain('Deploy churn_model v3 to churn-endpoint');
    expect(shown(plan)).toContain('v3');
    expect(JSON.stringify(plan.blocks)).toContain('change-apply');
    // A plan only: nothing changed on the endpoint.
    expect(env.workspace.requests.filter((r) => r.method === 'PUT')).toHaveLength(0);
  });

  it('shows field errors for missing picks and refuses a version deleted meanwhile, applying nothing', async () => {
    await env.command('deploy');
    await env.slack.waitFor(() => modalOf(REQUESTER_USER_ID));
    const empty = await submitModal(env, REQUESTER_USER_ID, values());
    expect(Object.keys(empty.errors ?? {}).sort()).toEqual(
      [DEPLOY_ENDPOINT_BLOCK, DEPLOY_MODEL_BLOCK, DEPLOY_VERSION_BLOCK].sort(),
    );

    env.workspace.state.models.get(DEMO.model)!.versions.delete(3);
    const stale = await submitModal(env, REQUESTER_USER_ID, values(DEMO.model, '3', DEMO.endpoint));
    expect(stale.errors?.[DEPLOY_VERSION_BLOCK]).toMatch(/3/);
    expect(modalOf(REQUESTER_USER_ID)).toBeDefined();

    env.workspace.state.endpoints.delete(DEMO.endpoint);
    const renamed = await submitModal(env, REQUESTER_USER_ID, values(DEMO.model, '2', DEMO.endpoint));
    // The demo policy's default endpoint may be created by a deploy; only another one must exist.
    if (renamed.errors) expect(renamed.errors[DEPLOY_ENDPOINT_BLOCK]).toMatch(/no longer exists/);
    await new Promise((r) => setTimeout(r, 200));
    expect(await env.bot.store.inFlight()).toHaveLength(0);
    expect(
      env.workspace.requests.filter(
        (r) => r.method === 'PUT' || (r.method === 'POST' && r.path.endsWith('serving-endpoints')),
      ),
    ).toHaveLength(0);
  });

  it('checks rights on submit as on the command', async () => {
    await env.command('deploy', { user_id: VIEWER_USER_ID });
    await env.slack.waitFor(() => modalOf(VIEWER_USER_ID));
    const refused = await submitModal(env, VIEWER_USER_ID, values(DEMO.model, '3', DEMO.endpoint));
    expect(refused.ack?.response_action).toBe('update');
    expect(viewText(modalOf(VIEWER_USER_ID))).toMatch(/may|allowed|permission/i);
    expect(await env.bot.store.inFlight()).toHaveLength(0);
  });
});
