import { request } from 'node:http';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mountConsole, type SandboxConsole } from '../../src/sandbox/console/mount-console.js';
import type { WorkspaceView } from '../../src/sandbox/console/workspace-view.js';
import {
  APPROVALS_CHANNEL_ID,
  APPROVER_USER_ID,
  MLOPS_CHANNEL_ID,
  REQUESTER_USER_ID,
  VIEWER_USER_ID,
} from '../../src/sandbox/slack/index.js';
import { DEMO } from '../../src/sandbox/workspace/demo.js';
import { ACTION_APPLY } from '../../src/slack/blocks/action-ids.js';
import { type BotOnTwins, startBotOnTwins } from '../support/bot.js';
import { TEST_SIGNING_SECRET } from '../support/slack-requests.js';

let env: BotOnTwins;
let page: SandboxConsole;
beforeEach(async () => {
  env = await startBotOnTwins();
  page = mountConsole(env.slack, { eventsUrl: env.bot.eventsUrl!, signingSecret: TEST_SIGNING_SECRET });
});
afterEach(async () => {
  page.unmount();
  await env.stop();
});

async function post(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(new URL(path, page.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** Opens the console's event stream as `user` and collects its events until closed. */
async function openStream(user: string) {
  const controller = new AbortController();
  const res = await fetch(new URL(`/console/api/stream?user=${user}`, page.url), {
    signal: controller.signal,
  });
  const events: Array<{ event: string; data: unknown }> = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const pump = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const chunk = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(chunk)?.[1];
          const data = /^data: (.*)$/m.exec(chunk)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) });
          end = buffer.indexOf('\n\n');
        }
      }
    } catch {
      // aborted
    }
  })();
  return {
    events,
    async close() {
      controller.abort();
      await pump;
    },
  };
}

describe('the sandbox console', () => {
  it('serves the page and its scripts on the twin address', async () => {
    const html = await (await fetch(page.url)).text();
    expect(html).toContain('/console/static/console.js');
    for (const file of ['console.js', 'blocks.js', 'mrkdwn.js', 'console.css']) {
      const res = await fetch(new URL(`/console/static/${file}`, page.url));
      expect(res.status, file).toBe(200);
    }
    expect((await fetch(new URL('/console/static/mount-console.ts', page.url))).status).toBe(404);
    expect(env.slack.unknownCalls()).toHaveLength(0);
  });

  it('delivers a typed command to the bot as a signed slash command and shows the answer to its user only', async () => {
    const riley = await openStream(REQUESTER_USER_ID);
    const avery = await openStream(APPROVER_USER_ID);
    const res = await post('/console/api/command', {
      user: REQUESTER_USER_ID,
      channel: MLOPS_CHANNEL_ID,
      text: `status ${DEMO.endpoint}`,
    });
    expect(res.json).toEqual({ ok: true });
    await vi.waitFor(() => expect(riley.events.map((e) => e.event)).toContain('change'), 5_000);
    const reply = env.slack.lastCall('response_url');
    expect(reply?.args.response_type).toBe('ephemeral');
    await riley.close();
    await avery.close();
    expect(avery.events.map((e) => e.event)).toEqual(['snapshot']);
    const snapshot = riley.events[0]?.data as WorkspaceView;
    expect(snapshot.viewer).toBe(REQUESTER_USER_ID);
    expect(snapshot.users.find((u) => u.id === APPROVER_USER_ID)).toMatchObject({
      persona: 'approver',
      groups: ['ml-approvers'],
    });
  });

  it('presses a stored button with the value the message carries, as the clicking user', async () => {
    await post('/console/api/command', {
      user: REQUESTER_USER_ID,
      channel: MLOPS_CHANNEL_ID,
      text: `deploy ${DEMO.modelName} 3 to ${DEMO.endpoint}`,
    });
    const plan = await env.slack.waitFor(() =>
      env.slack
        .messages(MLOPS_CHANNEL_ID)
        .find((m) => JSON.stringify(m.blocks ?? []).includes(ACTION_APPLY) && !m.ephemeral_to),
    );
    const res = await post('/console/api/action', {
      user: REQUESTER_USER_ID,
      channel: MLOPS_CHANNEL_ID,
      ts: plan.ts,
      action_id: ACTION_APPLY,
    });
    expect(res.json).toEqual({ ok: true });
    // The plan message itself follows the change once Databricks has it.
    await env.slack.waitFor(
      () =>
        /: (rolling out|done)/.test(env.slack.state.findMessage(MLOPS_CHANNEL_ID, plan.ts)?.text ?? '')
          ? true
          : undefined,
      10_000,
    );
    expect(env.workspace.requests.filter((r) => r.method === 'PUT')).toHaveLength(1);
  });

  it('refuses what Slack would not send: a stranger to the channel, a missing button, a hidden message', async () => {
    const stranger = await post('/console/api/command', {
      user: VIEWER_USER_ID,
      channel: APPROVALS_CHANNEL_ID,
      text: 'help',
    });
    expect(stranger).toMatchObject({ status: 403, json: { ok: false, error: 'not_in_channel' } });
    const hidden = env.slack.state.postMessage({
      channel: MLOPS_CHANNEL_ID,
      user: env.slack.state.bot.userId,
      text: 'for riley',
      blocks: [
        {
          type: 'actions',
          elements: [{ type: 'button', action_id: 'x', text: { type: 'plain_text', text: 'X' } }],
        },
      ],
      ephemeral_to: REQUESTER_USER_ID,
    });
    const click = { channel: MLOPS_CHANNEL_ID, ts: hidden.ts, action_id: 'x' };
    expect((await post('/console/api/action', { ...click, user: APPROVER_USER_ID })).json.error).toBe(
      'message_not_found',
    );
    expect(
      (await post('/console/api/action', { ...click, action_id: 'y', user: REQUESTER_USER_ID })).json.error,
    ).toBe('button_not_found');
    expect(
      (await post('/console/api/command', { user: 'riley', channel: MLOPS_CHANNEL_ID, text: '' })).status,
    ).toBe(400);
  });

  it('reports a request the app rejects the way Slack does', async () => {
    page.unmount();
    page = mountConsole(env.slack, { eventsUrl: env.bot.eventsUrl!, signingSecret: 'not-the-secret' });
    const res = await post('/console/api/command', {
      user: REQUESTER_USER_ID,
      channel: MLOPS_CHANNEL_ID,
      text: 'help',
    });
    expect(res.json).toMatchObject({ ok: false, error: 'http_client_error', status: 401 });
  });

  it('answers only requests addressed to the loopback address', async () => {
    const { port } = new URL(page.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path: '/', headers: { host: `evil.example:${port}` } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
  });
});
