/**
 * Reaching the people a request concerns, over loopback (the real bot on the Slack and workspace
 * twins): the approver group pinged as <!subteam^…>, approver DMs with the card's buttons updated
 * with it, the requester told once per event, a DM that cannot be had falling back to the
 * request's thread with an audit row, and out-of-date clicks answered without changing anything.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EXAMPLE_POLICY_PATH } from '../../src/config/env.js';
import { loadPolicy, type Policy } from '../../src/config/policy.js';
import { runApprovalExpiry } from '../../src/jobs/approval-expiry.js';
import {
  APPROVALS_CHANNEL_ID,
  APPROVER_USER_ID,
  APPROVERS_USERGROUP_ID,
  createDefaultSlackSeed,
  REQUESTER_USER_ID,
  VIEWER_USER_ID,
} from '../../src/sandbox/slack/index.js';
import { DEMO, seedDemoWorkspace } from '../../src/sandbox/workspace/demo.js';
import { startWorkspaceTwin, type WorkspaceTwin } from '../../src/sandbox/workspace/server.js';
import {
  ACTION_APPLY,
  ACTION_APPROVAL_APPROVE,
  ACTION_APPROVAL_REJECT_CONFIRM,
  ACTION_APPROVAL_REJECT_REASON,
} from '../../src/slack/blocks/action-ids.js';
import { REJECT_REASON_BLOCK } from '../../src/slack/blocks/approval.js';
import { type BotOnTwins, startBotOnTwins } from '../support/bot.js';
import { shown } from '../support/shown.js';

/** A second approver in the group, to see DMs to several people update together. */
const OTHER_APPROVER = 'U0APPROVE2';
const requesterDm = `D${REQUESTER_USER_ID}`;

let workspace: WorkspaceTwin;
let env: BotOnTwins;

async function start(edit: (p: Policy) => void = () => {}) {
  workspace = await startWorkspaceTwin({ state: seedDemoWorkspace(), rolloutDelayMs: 150 });
  const seed = createDefaultSlackSeed();
  seed.users.push({ id: OTHER_APPROVER, name: 'blake', realName: 'Blake Approver' });
  seed.usergroups[0]!.users.push(OTHER_APPROVER);
  seed.channels[1]!.members.push(OTHER_APPROVER);
  const policy = loadPolicy(EXAMPLE_POLICY_PATH);
  edit(policy);
  env = await startBotOnTwins({ workspace, policy, slackSeed: seed });
}
afterEach(async () => {
  await env?.stop();
  await workspace?.stop();
});

const dmOf = (user: string) => env.slack.messages(`D${user}`).filter((m) => !m.ephemeral_to);
const hasButtons = (m: { blocks?: unknown }) =>
  JSON.stringify(m.blocks ?? []).includes(ACTION_APPROVAL_APPROVE);

async function requestProduction() {
  await env.command('promote churn_model 3 Production');
  const card = await env.slack.waitFor(() =>
    env.slack.messages(APPROVALS_CHANNEL_ID).find((m) => !m.ephemeral_to && hasButtons(m)),
  );
  const id = (JSON.stringify(card.blocks).match(/"value":"(apr-[^"]+)"/) ?? [])[1]!;
  // The command's own answer comes after the card: wait for it, so a click's answer is the next one.
  await env.slack.waitFor(() =>
    env.slack.calls('response_url').find((c) => /Approval requested/.test(String(c.args.text ?? ''))),
  );
  return { ts: card.ts, id };
}

async function clickAs(
  user: string,
  actionId: string,
  value: string,
  channel: string,
  ts: string,
  extra = {},
) {
  const before = env.slack.calls('response_url').length;
  await env.click({ action_id: actionId, value, message_ts: ts, channel, user, ...extra });
  const call = await env.slack.waitFor(() => env.slack.calls('response_url').slice(before)[0]);
  return call.args as { text?: string; blocks?: unknown[] };
}

const card = (ts: string) => env.slack.state.findMessage(APPROVALS_CHANNEL_ID, ts)!;

describe('approval requests reach the approvers', () => {
  it('pings the approver group as <!subteam^ID>, resolved from its handle, in the text and the blocks', async () => {
    await start();
    const req = await requestProduction();
    const m = card(req.ts);
    expect(m.text).toContain(`<!subteam^${APPROVERS_USERGROUP_ID}>`);
    expect(JSON.stringify(m.blocks)).toContain(`*Approvers:* <!subteam^${APPROVERS_USERGROUP_ID}>`);
    expect(env.slack.calls('usergroups.list').length).toBeGreaterThan(0);
  });

  it('says plainly on the card when the group handle is unknown to Slack', async () => {
    await start((p) => {
      p.gates!.production!.approvers.groups = ['@ml-aprovers'];
    });
    await env.command('promote churn_model 3 Production');
    const m = await env.slack.waitFor(() =>
      env.slack.messages(APPROVALS_CHANNEL_ID).find((x) => /Approval needed/.test(x.text ?? '')),
    );
    expect(shown(m)).toContain(
      '`@ml-aprovers` is not a user group of this workspace, so nobody in it was pinged',
    );
    expect(m.text).not.toContain('<!subteam^');
  });

  it('DMs each approver the card with its buttons, updates every DM with the card, and removes the buttons once decided', async () => {
    await start();
    const req = await requestProduction();
    await env.slack.waitFor(() => dmOf(APPROVER_USER_ID).length === 1 && dmOf(OTHER_APPROVER).length === 1);
    expect(env.slack.calls('conversations.open').map((c) => c.args.users)).toEqual(
      expect.arrayContaining([APPROVER_USER_ID, OTHER_APPROVER]),
    );
    expect(dmOf(REQUESTER_USER_ID).length).toBe(0); // the requester never approves
    const avery = dmOf(APPROVER_USER_ID)[0]!;
    expect(hasButtons(avery)).toBe(true);
    expect(shown(avery)).toContain(
      `<@${REQUESTER_USER_ID}> asks for your approval in <#${APPROVALS_CHANNEL_ID}>`,
    );

    // Approving from the DM: accepted there, though the policy's channels do not list it.
    const answer = await clickAs(APPROVER_USER_ID, ACTION_APPROVAL_APPROVE, req.id, avery.channel, avery.ts);
    expect(shown(answer)).toContain('You approved');
    await env.slack.waitFor(() => /Done: Production/.test(card(req.ts).text ?? ''), 10_000);
    await env.bot.approvals.idle();
    // Updates of one message are paced (at most one a second): the DMs' last one may follow the card's.
    await env.bot.outbox.settled();
    for (const user of [APPROVER_USER_ID, OTHER_APPROVER]) {
      const dm = env.slack.state.findMessage(`D${user}`, dmOf(user)[0]!.ts)!;
      expect(hasButtons(dm)).toBe(false);
      expect(dm.text).toContain('Done: Production → churn_model v3');
    }
    expect(hasButtons(card(req.ts))).toBe(false);

    // Blake's copy is out of date now: the click says what happened and changes nothing.
    const blake = dmOf(OTHER_APPROVER)[0]!;
    const late = await clickAs(OTHER_APPROVER, ACTION_APPROVAL_APPROVE, req.id, blake.channel, blake.ts);
    expect(shown(late)).toContain(`was already approved by <@${APPROVER_USER_ID}> <!date^`);
    expect((await env.bot.requests.get(req.id))?.votes.map((v) => v.voter)).toEqual([APPROVER_USER_ID]);
  });

  it('refuses a click from a DM that is not one the request was sent to', async () => {
    await start();
    const req = await requestProduction();
    const elsewhere = env.slack.state.openDm(VIEWER_USER_ID)!.id;
    const answer = await clickAs(APPROVER_USER_ID, ACTION_APPROVAL_APPROVE, req.id, elsewhere, req.ts);
    expect(shown(answer)).toMatch(/only|channel/i);
    expect((await env.bot.requests.get(req.id))?.status).toBe('pending');
  });
});

describe('the requester hears how their request went, once per event', () => {
  it('is told by DM when it is approved and when it is done, exactly once each', async () => {
    await start();
    const req = await requestProduction();
    await clickAs(APPROVER_USER_ID, ACTION_APPROVAL_APPROVE, req.id, APPROVALS_CHANNEL_ID, req.ts);
    await env.slack.waitFor(() => dmOf(REQUESTER_USER_ID).length >= 2, 10_000);
    await env.bot.approvals.idle();
    const texts = dmOf(REQUESTER_USER_ID).map((m) => m.text ?? '');
    expect(texts).toHaveLength(2);
    expect(texts[0]).toContain(`was approved by <@${APPROVER_USER_ID}>`);
    expect(texts[1]).toContain('is done.');
    // Refreshing the card again (a restart, a late update) tells nothing new.
    await env.bot.approvals.resume();
    await env.bot.approvals.idle();
    expect(dmOf(REQUESTER_USER_ID)).toHaveLength(2);
  });

  it('is told of a rejection with the reason', async () => {
    await start();
    const req = await requestProduction();
    await clickAs(APPROVER_USER_ID, ACTION_APPROVAL_REJECT_CONFIRM, req.id, APPROVALS_CHANNEL_ID, req.ts, {
      payload: {
        state: {
          values: {
            [REJECT_REASON_BLOCK]: {
              [ACTION_APPROVAL_REJECT_REASON]: {
                type: 'plain_text_input',
                value: 'v3 <!here> not validated',
              },
            },
          },
        },
      },
    });
    const dm = await env.slack.waitFor(() => dmOf(REQUESTER_USER_ID)[0]);
    expect(dm.text).toContain(`was rejected by <@${APPROVER_USER_ID}>`);
    expect(dm.text).toContain(': v3 &lt;!here&gt; not validated. Nothing was changed.');
  });

  it('is told when it expires', async () => {
    await start((p) => {
      p.gates!.production!.expiresAfter = 60_000;
    });
    const req = await requestProduction();
    await runApprovalExpiry({ approvals: env.bot.approvals }, Date.now() + 120_000);
    const dm = await env.slack.waitFor(() => dmOf(REQUESTER_USER_ID)[0]);
    expect(dm.text).toContain(`(request \`${req.id}\`) expired`);
  });

  it('is told when it is superseded, in the thread when the gate says so', async () => {
    await start((p) => {
      p.gates!.production!.notify = { approvers: 'channel', requester: 'thread' };
    });
    const req = await requestProduction();
    expect(dmOf(APPROVER_USER_ID)).toHaveLength(0); // approvers: channel
    // Production moves behind the request's back: the deciding click finds the plan stale.
    workspace.state.models
      .get(DEMO.model)!
      .aliases.set('production', { alias_name: 'Production', version_num: 1 } as never);
    await clickAs(APPROVER_USER_ID, ACTION_APPROVAL_APPROVE, req.id, APPROVALS_CHANNEL_ID, req.ts);
    const line = await env.slack.waitFor(() =>
      env.slack
        .messages(APPROVALS_CHANNEL_ID)
        .find((m) => m.thread_ts === req.ts && /out of date/.test(m.text ?? '')),
    );
    expect(line.text).toMatch(new RegExp(`^<@${REQUESTER_USER_ID}> :warning: Your request`));
    expect(dmOf(REQUESTER_USER_ID)).toHaveLength(0);
  });

  it('is told of a failed execution', async () => {
    await start();
    const req = await requestProduction();
    workspace.faults.next('PUT /api/2.0/serving-endpoints/:name/config', {
      kind: 'status',
      status: 400,
      errorCode: 'INVALID_PARAMETER_VALUE',
      message: 'quota exceeded',
    });
    await clickAs(APPROVER_USER_ID, ACTION_APPROVAL_APPROVE, req.id, APPROVALS_CHANNEL_ID, req.ts);
    const dm = await env.slack.waitFor(
      () => dmOf(REQUESTER_USER_ID).find((m) => /failed|is done/.test(m.text ?? '')),
      10_000,
    );
    expect(dm.text).toContain('was approved but failed');
  });
});

describe('a DM that cannot be sent', () => {
  it('falls back to the request thread for a deactivated requester, and the audit says so', async () => {
    await start();
    env.slack.state.setDmReachability(REQUESTER_USER_ID, 'deactivated');
    const req = await requestProduction();
    await clickAs(APPROVER_USER_ID, ACTION_APPROVAL_REJECT_CONFIRM, req.id, APPROVALS_CHANNEL_ID, req.ts);
    const line = await env.slack.waitFor(() =>
      env.slack
        .messages(APPROVALS_CHANNEL_ID)
        .find(
          (m) => m.thread_ts === req.ts && !m.ephemeral_to && /Your request.*rejected/s.test(m.text ?? ''),
        ),
    );
    expect(line.text).toContain(`<@${REQUESTER_USER_ID}> :no_entry: Your request`);
    expect(env.slack.messages(requesterDm)).toHaveLength(0);
    await env.bot.approvals.idle();
    const audit = await env.bot.store.recentAudit({ action: 'requester_dm_failed' });
    expect(audit[0]?.outcome).toBe(`told <@${REQUESTER_USER_ID}> in the request's thread instead`);
    expect(audit[0]?.detail).toContain('user_disabled');
  });

  it('falls back to the thread for an approver whose Messages tab is off, mentioning them there', async () => {
    await start();
    env.slack.state.setDmReachability(OTHER_APPROVER, 'dms_closed');
    const req = await requestProduction();
    const line = await env.slack.waitFor(() =>
      env.slack
        .messages(APPROVALS_CHANNEL_ID)
        .find((m) => m.thread_ts === req.ts && m.text?.startsWith(`<@${OTHER_APPROVER}>`)),
    );
    expect(line.text).toContain('no DM could reach you (DMs from apps are turned off)');
    await env.slack.waitFor(() => dmOf(APPROVER_USER_ID).length === 1);
    await env.bot.approvals.idle();
    const audit = await env.bot.store.recentAudit({ action: 'approval_dm_failed' });
    expect(audit[0]?.detail).toContain('messages_tab_disabled');
  });
});

describe('out-of-date clicks', () => {
  it('answers Apply on a plan applied already with who applied it and when, and changes nothing', async () => {
    await start();
    await env.command('split churn-endpoint 2=90 3=10');
    const plan = await env.slack.waitFor(() => {
      for (const m of env.slack.messages('C0MLOPS').reverse()) {
        for (const b of (m.blocks ?? []) as Array<{
          elements?: Array<{ action_id?: string; value?: string }>;
        }>) {
          const apply = b.elements?.find((e) => e.action_id === ACTION_APPLY);
          if (apply?.value) return { ts: m.ts, id: apply.value };
        }
      }
      return undefined;
    });
    // The first Apply is answered by the plan message itself (one message per change), not a reply.
    await env.click({
      action_id: ACTION_APPLY,
      value: plan.id,
      message_ts: plan.ts,
      channel: 'C0MLOPS',
      user: REQUESTER_USER_ID,
    });
    await env.bot.pipeline.idle();
    const puts = workspace.requests.filter((r) => r.method === 'PUT').length;
    const again = await clickAs(REQUESTER_USER_ID, ACTION_APPLY, plan.id, 'C0MLOPS', plan.ts);
    expect(shown(again)).toMatch(new RegExp(`already (being )?applied by <@${REQUESTER_USER_ID}>`));
    expect(workspace.requests.filter((r) => r.method === 'PUT').length).toBe(puts);
  });
});
