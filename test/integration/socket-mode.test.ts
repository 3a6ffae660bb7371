import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { EXAMPLE_POLICY_PATH } from '../../src/config/env.js';
import { loadPolicy } from '../../src/config/policy.js';
import { staticTokenProvider } from '../../src/databricks/auth.js';
import { BOT_USER_ID, type SlackTwin, startSlackTwin } from '../../src/sandbox/slack/index.js';
import { slashCommandFields } from '../../src/sandbox/slack/payloads.js';
import { seedDemoWorkspace } from '../../src/sandbox/workspace/demo.js';
import { startWorkspaceTwin, type WorkspaceTwin } from '../../src/sandbox/workspace/server.js';
import { type RunningBot, startBot } from '../../src/wiring/bot.js';

/**
 * Socket Mode, for teams without a public URL: the bot opens a WebSocket at the address
 * apps.connections.open gives it (here, a loopback server playing Slack's side), receives
 * envelopes, and acknowledges each with its envelope id.
 */
describe('Socket Mode', () => {
  let slack: SlackTwin;
  let workspace: WorkspaceTwin;
  let wss: WebSocketServer;
  let bot: RunningBot;
  let dir: string;
  let onConnection: (socket: WebSocket) => void = () => {};
  const connected = new Promise<WebSocket>((resolve) => {
    onConnection = resolve;
  });
  beforeAll(async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    wss.on('connection', (socket) => {
      socket.send(JSON.stringify({ type: 'hello', num_connections: 1 }));
      onConnection(socket);
    });
    slack = await startSlackTwin({
      tokens: [{ token: 'xapp-1-sandbox', userId: BOT_USER_ID, scopes: ['connections:write'] }],
    });
    slack.state.socketModeUrl = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`;
    workspace = await startWorkspaceTwin({ state: seedDemoWorkspace() });
    dir = mkdtempSync(join(tmpdir(), 'modelgate-socket-'));
    bot = await startBot({
      policy: loadPolicy(EXAMPLE_POLICY_PATH),
      slack: { mode: 'socket', botToken: slack.botToken, appToken: 'xapp-1-sandbox', apiUrl: slack.apiUrl },
      databricks: { host: workspace.url, tokens: staticTokenProvider(workspace.token) },
      dbPath: join(dir, 'modelgate.db'),
      slackRetries: { retries: 0 },
    });
  });
  afterAll(async () => {
    await bot.stop();
    await new Promise((r) => wss.close(r));
    await slack.stop();
    await workspace.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('acknowledges a slash command envelope and answers it through the response URL', async () => {
    const socket = await connected;
    const acked = new Promise<{ envelope_id: string }>((resolve) =>
      socket.on('message', (data) => resolve(JSON.parse(String(data)) as { envelope_id: string })),
    );
    const fields = slashCommandFields({ text: 'status churn-endpoint', twin: slack });
    socket.send(
      JSON.stringify({
        envelope_id: 'env-1',
        type: 'slash_commands',
        accepts_response_payload: true,
        payload: fields,
      }),
    );
    expect((await acked).envelope_id).toBe('env-1');
    const reply = await slack.waitForCall('response_url');
    expect(String(reply.args.text)).toContain('churn-endpoint');
  });
});
