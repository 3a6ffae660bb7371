import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXAMPLE_POLICY_PATH } from '../../src/config/env.js';
import { loadPolicy } from '../../src/config/policy.js';
import { DEMO_BREACH_WINDOWS } from '../../src/sandbox/demo-tables.js';
import {
  APPROVALS_CHANNEL_ID,
  APPROVER_USER_ID,
  MLOPS_CHANNEL_ID,
  REQUESTER_USER_ID,
  VIEWER_USER_ID,
} from '../../src/sandbox/slack/index.js';
import { type DatabricksTwins, startDatabricksTwins } from '../../src/sandbox/start.js';
import {
  ACTION_DRIFT_ACKNOWLEDGE,
  ACTION_DRIFT_DETAILS,
  ACTION_DRIFT_RETRAIN,
  ACTION_DRIFT_SNOOZE,
} from '../../src/slack/blocks/action-ids.js';
import { checkBlocks } from '../../src/slack/blocks/limits.js';
import { type BotOnTwins, startBotOnTwins } from '../support/bot.js';
import { shown } from '../support/shown.js';

let twins: DatabricksTwins;
let env: BotOnTwins;

beforeEach(async () => {
  twins = await startDatabricksTwins(new Date());
  const policy = loadPolicy(EXAMPLE_POLICY_PATH);
  env = await startBotOnTwins({
    policy: { ...policy, charts: { renderer: 'local' } },
    workspace: twins.workspace,
    warehouse: twins.warehouse,
  });
});
afterEach(async () => {
  await env.stop();
  await twins.stop();
});

/** The top-level drift alerts in #mlops, oldest first. */
function alerts() {
  return env.slack
    .messages(MLOPS_CHANNEL_ID)
    .filter((m) => !m.thread_ts || m.thread_ts === m.ts)
    .filter((m) => /Drift alert|Resolved:/.test(m.text));
}

function buttonValue(m: { blocks?: unknown[] }, actionId: string): string | undefined {
  for (const block of (m.blocks ?? []) as Array<{
    elements?: Array<{ action_id?: string; value?: string }>;
  }>) {
    const button = block.elements?.find((e) => e.action_id === actionId);
    if (button?.value) return button.value;
  }
  return undefined;
}

async function replyAfter(before: number) {
  const call = await env.slack.waitFor(async () => env.slack.calls('response_url').slice(before)[0]);
  return call.args as { text?: string; blocks?: unknown[]; response_type?: string };
}

/** Types `/mlops <text>` and waits for the bot's answer to it. */
async function mlops(text: string, user?: string) {
  const before = env.slack.calls('response_url').length;
  await env.command(text, user ? { user_id: user } : {});
  return replyAfter(before);
}

describe('/mlops drift through the Slack app', () => {
  it('posts one alert per violated rule, text first, with the chart uploaded into its thread', async () => {
    const reply = await mlops('drift churn');
    expect(reply.response_type).toBe('ephemeral');
    expect(shown(reply)).toMatch(/2 new alerts/);

    const posted = alerts();
    expect(posted.map((m) => m.text.match(/churn · (\w+)/)?.[1])).toEqual(['performance', 'drift']);
    for (const alert of posted) {
      expect(checkBlocks(alert.blocks)).toEqual([]);
      expect(alert.text).toContain(`${DEMO_BREACH_WINDOWS} new violating windows`);
      expect(shown(alert)).toMatch(/threshold [<>] /);
      expect(shown(alert)).toMatch(/\(limit &[lg]t; [\d.]+\)/);
      const thread = env.slack.state.replies(MLOPS_CHANNEL_ID, alert.ts);
      const upload = thread.find((m) => (m.files ?? []).length > 0);
      expect(upload?.files?.[0]).toMatchObject({ mimetype: 'image/png' });
      expect(upload?.files?.[0]?.name).toMatch(/^drift-churn-.*\.png$/);
    }
    expect(posted[0]?.text).toMatch(/f1_score\.macro \d\.\d+ \(threshold < 0\.5\)/);
    expect(posted[1]?.text).toMatch(/js_distance\(churn\) \d\.\d+ \(threshold > 0\.19\)/);
    expect(env.slack.unknownCalls()).toEqual([]);
  });

  it('alerts a window once: a second check posts no new alert and reports the open ones instead', async () => {
    await mlops('drift churn');
    const reply = await mlops('drift');
    expect(shown(reply)).toMatch(/the result/);
    expect(alerts()).toHaveLength(2);
    const report = env.slack
      .messages(MLOPS_CHANNEL_ID)
      .find((m) => m.text.startsWith('Drift check of churn'));
    expect(report?.text).toMatch(/2 rules violated/);
    expect(shown(report!)).toMatch(/alert open/);
  });

  it('acknowledges and snoozes an alert on a click, redraws it and records both in the audit log', async () => {
    await mlops('drift churn');
    const alert = alerts()[0]!;
    const id = buttonValue(alert, ACTION_DRIFT_ACKNOWLEDGE)!;

    let before = env.slack.calls('response_url').length;
    await env.click({
      action_id: ACTION_DRIFT_ACKNOWLEDGE,
      value: id,
      message_ts: alert.ts,
      user: REQUESTER_USER_ID,
    });
    expect((await replyAfter(before)).text).toMatch(/Acknowledged churn · performance/);
    const redrawn = env.slack.state.findMessage(MLOPS_CHANNEL_ID, alert.ts)!;
    expect(shown(redrawn)).toContain(`Acknowledged by <@${REQUESTER_USER_ID}>`);
    expect(buttonValue(redrawn, ACTION_DRIFT_ACKNOWLEDGE)).toBeUndefined();

    before = env.slack.calls('response_url').length;
    await env.click({
      action_id: ACTION_DRIFT_SNOOZE,
      value: id,
      message_ts: alert.ts,
      user: REQUESTER_USER_ID,
    });
    expect((await replyAfter(before)).text).toMatch(/Snoozed churn · performance until/);
    expect(shown(env.slack.state.findMessage(MLOPS_CHANNEL_ID, alert.ts)!)).toContain('Snoozed until');
    expect((await env.bot.drift?.state.alert(id))?.snoozedBy).toBe(REQUESTER_USER_ID);

    const audit = await env.bot.store.recentAudit({ target: 'drift:churn/performance/*' });
    expect(audit.map((a) => a.action).sort()).toEqual(['drift.acknowledge', 'drift.snooze']);
    expect(audit.every((a) => a.actor === REQUESTER_USER_ID)).toBe(true);
  });

  it('refuses Snooze and Acknowledge to someone who is not a responder, naming who is, and changes nothing', async () => {
    await mlops('drift churn');
    const alert = alerts()[0]!;
    const id = buttonValue(alert, ACTION_DRIFT_SNOOZE)!;
    const drawn = shown(env.slack.state.findMessage(MLOPS_CHANNEL_ID, alert.ts)!);
    for (const action_id of [ACTION_DRIFT_SNOOZE, ACTION_DRIFT_ACKNOWLEDGE]) {
      const before = env.slack.calls('response_url').length;
      await env.click({ action_id, value: id, message_ts: alert.ts, user: VIEWER_USER_ID });
      const reply = await replyAfter(before);
      expect(reply.response_type).toBe('ephemeral');
      expect(shown(reply)).toMatch(
        /Only members of @ml-approvers or <@U0REQUEST> may (snooze|acknowledge) alerts of churn: the right comes from `monitors\.churn\.responders`\. Nothing was changed\./,
      );
    }
    expect(await env.bot.drift?.state.alert(id)).toMatchObject({ status: 'open' });
    expect((await env.bot.drift?.state.alert(id))?.snoozedUntil).toBeUndefined();
    expect((await env.bot.drift?.state.alert(id))?.acknowledgedBy).toBeUndefined();
    expect(shown(env.slack.state.findMessage(MLOPS_CHANNEL_ID, alert.ts)!)).toBe(drawn);
    expect(await env.bot.store.recentAudit({ target: 'drift:churn/performance/*' })).toEqual([]);
  });

  it('lets an approver of the retrain gate snooze when the monitor names no responders, and the alert says who', async () => {
    await env.stop();
    const policy = loadPolicy(EXAMPLE_POLICY_PATH);
    const { responders: _, ...churn } = policy.monitors!.churn!;
    env = await startBotOnTwins({
      policy: { ...policy, monitors: { churn }, charts: { renderer: 'local' } },
      workspace: twins.workspace,
      warehouse: twins.warehouse,
    });
    await mlops('drift churn');
    const alert = alerts()[0]!;
    const id = buttonValue(alert, ACTION_DRIFT_SNOOZE)!;
    let before = env.slack.calls('response_url').length;
    await env.click({
      action_id: ACTION_DRIFT_SNOOZE,
      value: id,
      message_ts: alert.ts,
      user: REQUESTER_USER_ID,
    });
    expect(shown(await replyAfter(before))).toMatch(/the approvers of the `retrain` gate/);
    before = env.slack.calls('response_url').length;
    await env.click({
      action_id: ACTION_DRIFT_SNOOZE,
      value: id,
      message_ts: alert.ts,
      user: APPROVER_USER_ID,
    });
    expect((await replyAfter(before)).text).toMatch(/Snoozed churn · performance until/);
    expect(shown(env.slack.state.findMessage(MLOPS_CHANNEL_ID, alert.ts)!)).toMatch(
      new RegExp(`Snoozed until .* by <@${APPROVER_USER_ID}>`),
    );
  });

  it('shows the per-window table and how the counting works behind Details, to the clicker only', async () => {
    await mlops('drift churn');
    const alert = alerts()[0]!;
    expect(shown(alert)).not.toContain('reference design');
    const before = env.slack.calls('response_url').length;
    await env.click({
      action_id: ACTION_DRIFT_DETAILS,
      value: buttonValue(alert, ACTION_DRIFT_DETAILS)!,
      message_ts: alert.ts,
      user: VIEWER_USER_ID,
    });
    const reply = await replyAfter(before);
    expect(reply.response_type).toBe('ephemeral');
    expect(shown(reply)).toMatch(/Trend.*worsening/);
    expect(shown(reply)).toContain('reference design');
    expect(shown(reply)).toMatch(/window +f1_score\.macro &lt; 0\.5/);
  });

  it('asks for one retraining per model per alert episode: a second Retrain, on either alert, is answered with the first', async () => {
    await mlops('drift churn');
    const [perf, drift] = alerts();
    const pendingRetrains = async () =>
      (await env.bot.approvals.pending()).filter((r) => r.target === 'retrain:acme.mlops.churn_model');

    let before = env.slack.calls('response_url').length;
    await env.click({
      action_id: ACTION_DRIFT_RETRAIN,
      value: buttonValue(drift!, ACTION_DRIFT_RETRAIN)!,
      message_ts: drift!.ts,
      user: REQUESTER_USER_ID,
    });
    await replyAfter(before);
    expect(await pendingRetrains()).toHaveLength(1);

    // Both alerts of the model now show the request instead of a Retrain button.
    for (const a of [perf!, drift!]) {
      const redrawn = await env.slack.waitFor(() => {
        const m = env.slack.state.findMessage(MLOPS_CHANNEL_ID, a.ts)!;
        return /Retrain requested by/.test(shown(m)) ? m : undefined;
      });
      expect(shown(redrawn)).toMatch(new RegExp(`Retrain requested by <@${REQUESTER_USER_ID}>`));
      expect(buttonValue(redrawn, ACTION_DRIFT_RETRAIN)).toBeUndefined();
    }

    // A second click (the old button, still on someone's screen) asks for nothing new.
    for (const [a, user] of [
      [drift!, REQUESTER_USER_ID],
      [perf!, APPROVER_USER_ID],
    ] as const) {
      before = env.slack.calls('response_url').length;
      await env.click({
        action_id: ACTION_DRIFT_RETRAIN,
        value: buttonValue(a, ACTION_DRIFT_RETRAIN)!,
        message_ts: a.ts,
        user,
      });
      const reply = await replyAfter(before);
      expect(reply.response_type).toBe('ephemeral');
      expect(shown(reply)).toMatch(/Retrain requested by <@U0REQUEST>.*no second request was made/s);
    }
    expect(await pendingRetrains()).toHaveLength(1);
    expect(
      (await env.bot.store.recentAudit({})).filter((a) => a.action === 'drift.retrain_requested'),
    ).toHaveLength(1);
  });

  it('turns Retrain into a gated retraining request for the monitor’s model and job, and audits the click', async () => {
    await mlops('drift churn');
    const alert = alerts()[1]!;
    const before = env.slack.calls('response_url').length;
    await env.click({
      action_id: ACTION_DRIFT_RETRAIN,
      value: buttonValue(alert, ACTION_DRIFT_RETRAIN)!,
      message_ts: alert.ts,
      user: REQUESTER_USER_ID,
    });
    await replyAfter(before);
    const request = await env.slack.waitFor(async () =>
      env.slack.messages(APPROVALS_CHANNEL_ID).find((m) => /churn_model/.test(shown(m))),
    );
    expect(shown(request)).toMatch(/retrain/i);
    expect(env.workspace.state.runs.size).toBe(0);
    const [audit] = await env.bot.store.recentAudit({ target: 'drift:churn/drift/*' });
    expect(audit).toMatchObject({
      actor: REQUESTER_USER_ID,
      action: 'drift.retrain_requested',
      after: { model: 'acme.mlops.churn_model', jobId: 1001 },
    });
  });

  it('refuses Retrain to someone without the retrain right and records nothing', async () => {
    await mlops('drift churn');
    const alert = alerts()[1]!;
    const id = buttonValue(alert, ACTION_DRIFT_RETRAIN)!;
    expect(id).toBeDefined();
    const before = env.slack.calls('response_url').length;
    await env.click({
      action_id: ACTION_DRIFT_RETRAIN,
      value: id,
      message_ts: alert.ts,
      user: VIEWER_USER_ID,
    });
    const reply = await replyAfter(before);
    expect(reply.response_type).toBe('ephemeral');
    expect(shown(reply)).toMatch(/retrain/i);
    expect(await env.bot.store.recentAudit({ target: 'drift:churn/drift/*' })).toEqual([]);
  });

  it('names the monitors when asked for one that does not exist', async () => {
    const reply = await mlops('drift nosuch');
    expect(shown(reply)).toMatch(/no monitor called "nosuch".*The monitors are churn/s);
    expect(alerts()).toHaveLength(0);
  });

  it('answers a second Acknowledge or Snooze from an out-of-date alert message with who did it, and changes nothing', async () => {
    await mlops('drift churn');
    const alert = alerts()[0]!;
    const id = buttonValue(alert, ACTION_DRIFT_ACKNOWLEDGE)!;
    for (const action of [ACTION_DRIFT_ACKNOWLEDGE, ACTION_DRIFT_SNOOZE]) {
      const before = env.slack.calls('response_url').length;
      await env.click({ action_id: action, value: id, message_ts: alert.ts, user: REQUESTER_USER_ID });
      await replyAfter(before);
    }
    const audited = (await env.bot.store.recentAudit({ target: 'drift:churn/performance/*' })).length;
    // The same buttons, clicked again on a copy still open elsewhere.
    let before = env.slack.calls('response_url').length;
    await env.click({
      action_id: ACTION_DRIFT_ACKNOWLEDGE,
      value: id,
      message_ts: alert.ts,
      user: REQUESTER_USER_ID,
    });
    expect((await replyAfter(before)).text).toMatch(
      new RegExp(`Already acknowledged by <@${REQUESTER_USER_ID}> <!date\\^\\d+.*Nothing was changed`),
    );
    before = env.slack.calls('response_url').length;
    await env.click({
      action_id: ACTION_DRIFT_SNOOZE,
      value: id,
      message_ts: alert.ts,
      user: REQUESTER_USER_ID,
    });
    expect((await replyAfter(before)).text).toMatch(/Already snoozed by <@U0REQUEST> until <!date\^/);
    expect((await env.bot.drift?.state.alert(id))?.acknowledgedBy).toBe(REQUESTER_USER_ID);
    expect(await env.bot.store.recentAudit({ target: 'drift:churn/performance/*' })).toHaveLength(audited);
  });
});
