import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver, LogLevel, webApi } from '@slack/bolt';
import { afterEach, describe, expect, it } from 'vitest';
import {
  APPROVALS_CHANNEL_ID,
  APPROVER_USER_ID,
  APPROVERS_USERGROUP_ID,
  BOT_ID,
  BOT_USER_ID,
  createDefaultSlackSeed,
  DEFAULT_BOT_SCOPES,
  MLOPS_CHANNEL_ID,
  REQUESTER_USER_ID,
  SANDBOX_TEAM_ID,
  type SlackChange,
  type SlackTwin,
  type SlackTwinOptions,
  startSlackTwin,
  VIEWER_USER_ID,
} from '../../src/sandbox/slack/index.js';
import { blockAction, postToBolt, slashCommand, TEST_SIGNING_SECRET } from '../support/slack-requests.js';

const approveBlocks = [
  { type: 'section', text: { type: 'mrkdwn', text: '*Promote* `churn` v3 to `@prod`?' } },
  {
    type: 'actions',
    block_id: 'approval',
    elements: [
      {
        type: 'button',
        action_id: 'approve-request',
        text: { type: 'plain_text', text: 'Approve' },
        value: 'req-1',
        style: 'primary',
      },
    ],
  },
];

let twins: SlackTwin[] = [];
let apps: App[] = [];

afterEach(async () => {
  await Promise.all(apps.map((a) => a.stop()));
  await Promise.all(twins.map((t) => t.stop()));
  apps = [];
  twins = [];
});

async function twin(options: SlackTwinOptions = {}): Promise<SlackTwin> {
  const t = await startSlackTwin(options);
  twins.push(t);
  return t;
}

/** A real WebClient pointed at the twin; `null` for a client without a token. */
function client(t: SlackTwin, token: string | null = t.botToken, options: webApi.WebClientOptions = {}) {
  return new webApi.WebClient(token ?? undefined, {
    slackApiUrl: t.apiUrl,
    retryConfig: { retries: 0 },
    logLevel: webApi.LogLevel.ERROR,
    ...options,
  });
}

function platformError(error: unknown): Record<string, unknown> {
  expect(error).toBeInstanceOf(Error);
  return ((error as { data?: Record<string, unknown> }).data ?? {}) as Record<string, unknown>;
}

async function failureOf(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return platformError(error);
  }
  throw new Error('expected the call to fail');
}

describe('Slack twin: messages', () => {
  it('answers auth.test with the seeded bot identity', async () => {
    const t = await twin();
    const res = await client(t).auth.test();
    expect(res).toMatchObject({ ok: true, user_id: BOT_USER_ID, bot_id: BOT_ID, team_id: SANDBOX_TEAM_ID });
  });

  it('stores a posted message with its blocks and metadata and records the decoded call', async () => {
    const t = await twin();
    const res = await client(t).chat.postMessage({
      channel: MLOPS_CHANNEL_ID,
      text: 'Promote churn v3?',
      blocks: approveBlocks,
      metadata: { event_type: 'approval_request', event_payload: { request_id: 'req-1' } },
    });

    expect(res.ok).toBe(true);
    expect(res.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(res.channel).toBe(MLOPS_CHANNEL_ID);
    expect(res.message).toMatchObject({ text: 'Promote churn v3?', user: BOT_USER_ID, bot_id: BOT_ID });
    const [stored] = t.messages(MLOPS_CHANNEL_ID);
    expect(stored).toMatchObject({
      ts: res.ts,
      blocks: approveBlocks,
      metadata: { event_type: 'approval_request' },
    });
    const call = t.lastCall('chat.postMessage');
    expect(call?.args.blocks).toEqual(approveBlocks);
    expect(call?.args.metadata).toEqual({
      event_type: 'approval_request',
      event_payload: { request_id: 'req-1' },
    });
    expect(t.unknownCalls()).toEqual([]);
  });

  it('hands out strictly increasing ts values even within one second', async () => {
    const t = await twin({ now: () => 1_732_650_000_000 });
    const c = client(t);
    const first = await c.chat.postMessage({ channel: MLOPS_CHANNEL_ID, text: 'one' });
    const second = await c.chat.postMessage({ channel: MLOPS_CHANNEL_ID, text: 'two' });
    expect(first.ts).toBe('1732650000.000100');
    expect(second.ts).toBe('1732650000.000200');
  });

  it('accepts JSON bodies with the token in the Authorization header', async () => {
    const t = await twin();
    const res = await fetch(`${t.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${t.botToken}` },
      body: JSON.stringify({ channel: MLOPS_CHANNEL_ID, text: 'from json', blocks: approveBlocks }),
    });
    expect(await res.json()).toMatchObject({ ok: true, channel: MLOPS_CHANNEL_ID });
    expect(t.lastCall('chat.postMessage')?.args.blocks).toEqual(approveBlocks);
  });

  it('refuses a message without text or blocks and malformed blocks like Slack', async () => {
    const t = await twin();
    const c = client(t);
    expect(await failureOf(c.chat.postMessage({ channel: MLOPS_CHANNEL_ID, text: '' }))).toMatchObject({
      error: 'no_text',
    });
    const invalid = await failureOf(
      c.chat.postMessage({
        channel: MLOPS_CHANNEL_ID,
        text: 'chart',
        blocks: [{ type: 'image', image_url: 'https://example.com/a.png' } as never],
      }),
    );
    expect(invalid).toMatchObject({
      error: 'invalid_blocks',
      errors: ['missing required field: alt_text [json-pointer:/blocks/0/alt_text]'],
    });
    expect(await failureOf(c.chat.postMessage({ channel: 'C0NOPE', text: 'x' }))).toMatchObject({
      error: 'channel_not_found',
    });
    expect(t.messages(MLOPS_CHANNEL_ID)).toEqual([]);
  });

  it('updates only the bot’s own, non-ephemeral messages', async () => {
    const t = await twin({
      tokens: [{ token: 'xoxp-riley', userId: REQUESTER_USER_ID, scopes: ['chat:write'] }],
    });
    const bot = client(t);
    const posted = await bot.chat.postMessage({ channel: MLOPS_CHANNEL_ID, text: 'Waiting for approval' });
    const updated = await bot.chat.update({
      channel: MLOPS_CHANNEL_ID,
      ts: posted.ts!,
      text: 'Approved by <@U0APPROVE>',
      blocks: [],
    });
    expect(updated).toMatchObject({ ok: true, ts: posted.ts, text: 'Approved by <@U0APPROVE>' });
    expect(t.messages(MLOPS_CHANNEL_ID)).toEqual([
      expect.objectContaining({ ts: posted.ts, text: 'Approved by <@U0APPROVE>', edited: expect.anything() }),
    ]);

    const human = await client(t, 'xoxp-riley').chat.postMessage({ channel: MLOPS_CHANNEL_ID, text: 'hi' });
    expect(
      await failureOf(bot.chat.update({ channel: MLOPS_CHANNEL_ID, ts: human.ts!, text: 'x' })),
    ).toMatchObject({
      error: 'cant_update_message',
    });
    expect(
      await failureOf(bot.chat.update({ channel: MLOPS_CHANNEL_ID, ts: '1.000100', text: 'x' })),
    ).toMatchObject({ error: 'message_not_found' });
    const ephemeral = await bot.chat.postEphemeral({
      channel: MLOPS_CHANNEL_ID,
      user: VIEWER_USER_ID,
      text: 'psst',
    });
    expect(
      await failureOf(bot.chat.update({ channel: MLOPS_CHANNEL_ID, ts: ephemeral.message_ts!, text: 'x' })),
    ).toMatchObject({ error: 'message_not_found' });
  });

  it('keeps ephemerals tagged with their recipient and refuses users outside the channel', async () => {
    const t = await twin({ scopes: [...DEFAULT_BOT_SCOPES, 'channels:history'] });
    const c = client(t);
    const res = await c.chat.postEphemeral({
      channel: MLOPS_CHANNEL_ID,
      user: VIEWER_USER_ID,
      text: 'Not allowed',
    });
    expect(res.message_ts).toMatch(/^\d+\.\d{6}$/);
    expect(t.messages(MLOPS_CHANNEL_ID)).toEqual([
      expect.objectContaining({ text: 'Not allowed', ephemeral_to: VIEWER_USER_ID }),
    ]);
    expect(
      await failureOf(
        c.chat.postEphemeral({ channel: APPROVALS_CHANNEL_ID, user: VIEWER_USER_ID, text: 'x' }),
      ),
    ).toMatchObject({ error: 'user_not_in_channel' });
    const history = await c.conversations.history({ channel: MLOPS_CHANNEL_ID });
    expect(history.messages).toEqual([]);
  });

  it('threads replies under their parent for history, replies and the console', async () => {
    const t = await twin({ scopes: [...DEFAULT_BOT_SCOPES, 'channels:history'] });
    const c = client(t);
    const parent = await c.chat.postMessage({ channel: MLOPS_CHANNEL_ID, text: 'Drift on churn' });
    const reply = await c.chat.postMessage({
      channel: MLOPS_CHANNEL_ID,
      text: 'details',
      thread_ts: parent.ts!,
    });

    const history = await c.conversations.history({ channel: MLOPS_CHANNEL_ID });
    expect(history.messages).toEqual([
      expect.objectContaining({
        ts: parent.ts,
        reply_count: 1,
        latest_reply: reply.ts,
        thread_ts: parent.ts,
      }),
    ]);
    const replies = await c.conversations.replies({ channel: MLOPS_CHANNEL_ID, ts: parent.ts! });
    expect(replies.messages?.map((m) => m.text)).toEqual(['Drift on churn', 'details']);
    expect(t.messages(MLOPS_CHANNEL_ID).map((m) => [m.text, m.thread_ts])).toEqual([
      ['Drift on churn', parent.ts],
      ['details', parent.ts],
    ]);
    const link = await c.chat.getPermalink({ channel: MLOPS_CHANNEL_ID, message_ts: reply.ts! });
    expect(link.permalink).toContain(`/archives/${MLOPS_CHANNEL_ID}/p`);
  });

  it('answers users.info and conversations.info from the seed', async () => {
    const t = await twin();
    const c = client(t);
    const user = await c.users.info({ user: APPROVER_USER_ID });
    expect(user.user).toMatchObject({ id: APPROVER_USER_ID, name: 'avery', is_bot: false });
    const info = await c.conversations.info({ channel: MLOPS_CHANNEL_ID, include_num_members: true });
    expect(info.channel).toMatchObject({
      id: MLOPS_CHANNEL_ID,
      name: 'mlops',
      is_member: true,
      num_members: 4,
    });
    expect(await failureOf(c.users.info({ user: 'U0NOBODY' }))).toMatchObject({ error: 'user_not_found' });
  });

  it('lets tests bring their own seed', async () => {
    const seed = createDefaultSlackSeed();
    seed.channels.push({ id: 'C0PRIVATE', name: 'secret', isPrivate: true, members: [REQUESTER_USER_ID] });
    const t = await twin({ seed });
    expect(await failureOf(client(t).chat.postMessage({ channel: 'C0PRIVATE', text: 'x' }))).toMatchObject({
      error: 'channel_not_found',
    });
  });
});

describe('Slack twin: user groups', () => {
  it('lists the approvers group and its members', async () => {
    const t = await twin();
    const c = client(t);
    const groups = await c.usergroups.list({ include_users: true });
    expect(groups.usergroups).toEqual([
      expect.objectContaining({
        id: APPROVERS_USERGROUP_ID,
        handle: 'ml-approvers',
        users: [APPROVER_USER_ID],
      }),
    ]);
    const members = await c.usergroups.users.list({ usergroup: APPROVERS_USERGROUP_ID });
    expect(members.users).toEqual([APPROVER_USER_ID]);
  });

  it('answers no_such_subteam for an unknown group', async () => {
    const t = await twin();
    expect(await failureOf(client(t).usergroups.users.list({ usergroup: 'S0NOPE' }))).toMatchObject({
      error: 'no_such_subteam',
    });
  });
});

describe('Slack twin: files', () => {
  it('runs filesUploadV2 end to end: stores the bytes and shares them in the thread', async () => {
    const t = await twin({ scopes: [...DEFAULT_BOT_SCOPES, 'files:read'] });
    const c = client(t);
    const parent = await c.chat.postMessage({ channel: MLOPS_CHANNEL_ID, text: 'Drift alert: churn' });
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);

    const res = await c.filesUploadV2({
      channel_id: MLOPS_CHANNEL_ID,
      thread_ts: parent.ts!,
      file: png,
      filename: 'drift.png',
      title: 'PSI over 7 days',
      initial_comment: 'PSI chart',
    });

    expect(res.ok).toBe(true);
    const fileId = t.lastCall('files.getUploadURLExternal')?.response as {
      file_id: string;
      upload_url: string;
    };
    expect(fileId.upload_url.startsWith(`${t.url}/`)).toBe(true);
    expect(t.file(fileId.file_id)?.bytes?.equals(png)).toBe(true);
    const share = t.messages(MLOPS_CHANNEL_ID).find((m) => m.files);
    expect(share).toMatchObject({
      thread_ts: parent.ts,
      text: 'PSI chart',
      files: [
        expect.objectContaining({ id: fileId.file_id, title: 'PSI over 7 days', mimetype: 'image/png' }),
      ],
    });
    const info = await c.files.info({ file: fileId.file_id });
    expect(info.file?.shares?.public?.[MLOPS_CHANNEL_ID]?.[0]).toMatchObject({
      ts: share?.ts,
      thread_ts: parent.ts,
    });
    const served = await fetch(info.file!.url_private!);
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await served.arrayBuffer()).equals(png)).toBe(true);
  });
});

describe('Slack twin: auth, scopes and faults', () => {
  it('answers invalid_auth for an unknown token and not_authed for none', async () => {
    const t = await twin();
    expect(await failureOf(client(t, 'xoxb-wrong').auth.test())).toMatchObject({ error: 'invalid_auth' });
    expect(await failureOf(client(t, null).auth.test())).toMatchObject({ error: 'not_authed' });
  });

  it('answers missing_scope with needed and provided scopes', async () => {
    const t = await twin({ scopes: ['commands', 'chat:write'] });
    expect(await failureOf(client(t).conversations.history({ channel: MLOPS_CHANNEL_ID }))).toMatchObject({
      error: 'missing_scope',
      needed: 'channels:history',
    });
    expect(await failureOf(client(t).usergroups.users.list({ usergroup: APPROVERS_USERGROUP_ID }))).toEqual(
      expect.objectContaining({
        error: 'missing_scope',
        needed: 'usergroups:read',
        provided: 'commands,chat:write',
      }),
    );
    t.setScopes([...DEFAULT_BOT_SCOPES]);
    const ok = await client(t).usergroups.users.list({ usergroup: APPROVERS_USERGROUP_ID });
    expect(ok.users).toEqual([APPROVER_USER_ID]);
  });

  it('rate-limits with 429 and Retry-After, which the client waits out before succeeding', async () => {
    const t = await twin();
    t.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    const c = client(t, t.botToken, { retryConfig: { retries: 1 } });
    const waits: number[] = [];
    c.on(webApi.WebClientEvent.RATE_LIMITED, (seconds: number) => waits.push(seconds));

    const res = await c.chat.postMessage({ channel: MLOPS_CHANNEL_ID, text: 'after the pause' });

    expect(res.ok).toBe(true);
    expect(waits).toEqual([1]);
    expect(t.calls('chat.postMessage').map((call) => call.status)).toEqual([429, 200]);
    expect(t.messages(MLOPS_CHANNEL_ID).map((m) => m.text)).toEqual(['after the pause']);
  });

  it('injects platform errors and HTTP 500s for the next N calls only', async () => {
    const t = await twin();
    const c = client(t);
    t.failNext('usergroups.users.list', { error: 'ratelimited' }, 2);
    t.failNext('chat.postMessage', { status: 500 });
    for (let i = 0; i < 2; i += 1) {
      expect(await failureOf(c.usergroups.users.list({ usergroup: APPROVERS_USERGROUP_ID }))).toMatchObject({
        error: 'ratelimited',
      });
    }
    expect((await c.usergroups.users.list({ usergroup: APPROVERS_USERGROUP_ID })).ok).toBe(true);
    await expect(c.chat.postMessage({ channel: MLOPS_CHANNEL_ID, text: 'x' })).rejects.toMatchObject({
      code: webApi.ErrorCode.HTTPError,
      statusCode: 500,
    });
    expect((await c.chat.postMessage({ channel: MLOPS_CHANNEL_ID, text: 'x' })).ok).toBe(true);
  });

  it('answers unknown_method and records it so a test can assert none happened', async () => {
    const t = await twin();
    expect(
      await failureOf(client(t).apiCall('chat.scheduleMessage', { channel: MLOPS_CHANNEL_ID })),
    ).toMatchObject({ error: 'unknown_method' });
    expect(t.unknownCalls().map((c) => c.method)).toEqual(['chat.scheduleMessage']);
  });
});

describe('Slack twin: response_url', () => {
  async function respond(url: string, body: unknown) {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it('posts ephemeral and in_channel responses, replaces and deletes the original', async () => {
    const t = await twin();
    const posted = await client(t).chat.postMessage({ channel: MLOPS_CHANNEL_ID, text: 'Approve?' });
    const url = t.createResponseUrl({
      channel: MLOPS_CHANNEL_ID,
      user: VIEWER_USER_ID,
      messageTs: posted.ts!,
    });

    expect((await respond(url, { text: 'You may not approve' })).status).toBe(200);
    expect((await respond(url, { response_type: 'in_channel', text: 'Someone tried' })).status).toBe(200);
    expect((await respond(url, { replace_original: true, text: 'Approved' })).status).toBe(200);
    expect(t.messages(MLOPS_CHANNEL_ID).map((m) => [m.text, m.ephemeral_to])).toEqual([
      ['Approved', undefined],
      ['You may not approve', VIEWER_USER_ID],
      ['Someone tried', undefined],
    ]);
    expect((await respond(url, { delete_original: true })).status).toBe(200);
    expect(t.messages(MLOPS_CHANNEL_ID).some((m) => m.ts === posted.ts)).toBe(false);
    expect(t.calls('response_url')).toHaveLength(4);
  });

  it('accepts at most five uses, then answers 404 used_url', async () => {
    const t = await twin();
    const url = t.createResponseUrl({ channel: MLOPS_CHANNEL_ID, user: REQUESTER_USER_ID });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) statuses.push((await respond(url, { text: `reply ${i}` })).status);
    const sixth = await respond(url, { text: 'one too many' });
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    expect(sixth).toEqual({ status: 404, body: { ok: false, error: 'used_url' } });
    expect(t.messages(MLOPS_CHANNEL_ID)).toHaveLength(5);
  });
});

describe('Slack twin: recording and change notifications', () => {
  it('resolves waitFor when a matching message arrives later', async () => {
    const t = await twin();
    const waiting = t.waitFor(() => t.messages(MLOPS_CHANNEL_ID).find((m) => m.text === 'deployed'));
    await client(t).chat.postMessage({ channel: MLOPS_CHANNEL_ID, text: 'deploying' });
    await client(t).chat.postMessage({ channel: MLOPS_CHANNEL_ID, text: 'deployed' });
    expect((await waiting).text).toBe('deployed');
    await expect(
      t.waitForCall('chat.postMessage', (c) => c.args.text === 'deploying'),
    ).resolves.toMatchObject({
      method: 'chat.postMessage',
    });
  });

  it('rejects waitFor with the calls seen so far when nothing matches in time', async () => {
    const t = await twin();
    await client(t).auth.test();
    await expect(t.waitForCall('chat.update', undefined, 50)).rejects.toThrow(/auth\.test/);
  });

  it('notifies subscribers and the SSE stream of posts, updates and ephemerals', async () => {
    const t = await twin();
    const changes: SlackChange['type'][] = [];
    t.subscribe((change) => changes.push(change.type));
    const controller = new AbortController();
    const stream = await fetch(`${t.url}/console/events`, { signal: controller.signal });
    const reader = stream.body!.getReader();

    const c = client(t);
    const posted = await c.chat.postMessage({ channel: MLOPS_CHANNEL_ID, text: 'a' });
    await c.chat.update({ channel: MLOPS_CHANNEL_ID, ts: posted.ts!, text: 'b' });
    await c.chat.postEphemeral({ channel: MLOPS_CHANNEL_ID, user: VIEWER_USER_ID, text: 'c' });

    expect(changes).toEqual(['message_posted', 'message_updated', 'ephemeral_posted']);
    let text = '';
    const decoder = new TextDecoder();
    while (!text.includes('event: ephemeral_posted')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    expect(text).toContain('event: message_posted');
    expect(text).toContain('event: message_updated');
    controller.abort();
  });
});

describe('signed Slack requests against a real Bolt app', () => {
  async function startBolt(t: SlackTwin): Promise<string> {
    const receiver = new HTTPReceiver({
      signingSecret: TEST_SIGNING_SECRET,
      unhandledRequestTimeoutMillis: 1000,
      logLevel: LogLevel.ERROR,
    });
    const app = new App({
      token: t.botToken,
      receiver,
      logLevel: LogLevel.ERROR,
      clientOptions: { slackApiUrl: t.apiUrl, retryConfig: { retries: 0 } },
    });
    app.command('/mlops', async ({ ack, command, respond }) => {
      await ack({ response_type: 'ephemeral', text: `ack: ${command.text}` });
      await respond({ response_type: 'ephemeral', text: `working on ${command.text}` });
    });
    app.action('approve-request', async ({ ack, body, client: web }) => {
      await ack();
      if (body.type !== 'block_actions' || !body.channel || !body.message) return;
      await web.chat.update({
        channel: body.channel.id,
        ts: body.message.ts,
        text: `Approved by <@${body.user.id}>`,
      });
    });
    apps.push(app);
    const server = await app.start(0);
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('accepts a signed slash command, acks it and lets respond() reach the twin', async () => {
    const t = await twin();
    const bolt = await startBolt(t);

    const res = await postToBolt(bolt, slashCommand({ text: 'deploy churn 3', twin: t }));

    expect(res.status).toBe(200);
    expect(res.json).toEqual({ response_type: 'ephemeral', text: 'ack: deploy churn 3' });
    const ephemeral = await t.waitFor(() => t.messages(MLOPS_CHANNEL_ID).find((m) => m.ephemeral_to));
    expect(ephemeral).toMatchObject({ text: 'working on deploy churn 3', ephemeral_to: REQUESTER_USER_ID });
    expect(t.unknownCalls()).toEqual([]);
  });

  it('rejects a bad signature, a stale timestamp and a missing signature with 401', async () => {
    const t = await twin();
    const bolt = await startBolt(t);
    for (const signature of ['bad', 'stale', 'missing'] as const) {
      const res = await postToBolt(bolt, slashCommand({ text: 'deploy', twin: t }, { signature }));
      expect(res.status, signature).toBe(401);
    }
  });

  it('delivers a signed button click built from the twin’s stored message', async () => {
    const t = await twin();
    const bolt = await startBolt(t);
    const posted = await client(t).chat.postMessage({
      channel: MLOPS_CHANNEL_ID,
      text: 'Approve?',
      blocks: approveBlocks,
    });

    const res = await postToBolt(
      bolt,
      blockAction(
        {
          action_id: 'approve-request',
          value: 'req-1',
          user: APPROVER_USER_ID,
          message_ts: posted.ts!,
          twin: t,
        },
        { retryNum: 1 },
      ),
    );

    expect(res.status).toBe(200);
    const update = await t.waitForCall('chat.update');
    expect(update.args).toMatchObject({ ts: posted.ts, text: `Approved by <@${APPROVER_USER_ID}>` });
  });
});
