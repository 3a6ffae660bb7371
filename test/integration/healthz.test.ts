import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { EXAMPLE_POLICY_PATH } from '../../src/config/env.js';
import { loadPolicy } from '../../src/config/policy.js';
import { staticTokenProvider } from '../../src/databricks/auth.js';
import type { HealthBody } from '../../src/health/report.js';
import { systemClock } from '../../src/lib/clock.js';
import { BOT_USER_ID, type SlackTwin, startSlackTwin } from '../../src/sandbox/slack/index.js';
import { seedDemoWorkspace } from '../../src/sandbox/workspace/demo.js';
import { startWorkspaceTwin, type WorkspaceTwin } from '../../src/sandbox/workspace/server.js';
import { openOwnedDatabase } from '../../src/storage/database.js';
import { newProcessIdentity } from '../../src/storage/process-lock.js';
import { type RunningBot, startBot } from '../../src/wiring/bot.js';
import { type BotOnTwins, startBotOnTwins } from '../support/bot.js';

const APP_TOKEN = 'xapp-1-sandbox-health';

async function getHealth(url: string): Promise<{ status: number; text: string; body: HealthBody }> {
  const res = await fetch(url);
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) as HealthBody };
}

/** A port nothing listens on right now (taken and given back). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('/healthz in HTTP mode, on the bot port', () => {
  let h: BotOnTwins;
  beforeAll(async () => {
    h = await startBotOnTwins();
  });
  afterAll(async () => {
    await h.stop();
  });

  it('answers 200 with the store, Slack, the scheduler leader and the version, and no token', async () => {
    const url = h.bot.eventsUrl!.replace('/slack/events', '/healthz');
    const { status, text, body } = await getHealth(url);
    expect(status).toBe(200);
    expect(body).toEqual({
      ok: true,
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      store: { state: 'ready' },
      slack: { state: 'http' },
      scheduler: { leader: true, holder: h.bot.identity.instance, since: expect.any(String) },
    });
    expect(text).not.toContain(h.slack.botToken);
    expect(text).not.toContain(h.workspace.token);
  });

  it('needs no Slack signature, and answers nothing but GET', async () => {
    const url = h.bot.eventsUrl!.replace('/slack/events', '/healthz');
    expect((await fetch(url, { method: 'POST' })).status).toBe(404);
  });
});

describe('/healthz in Socket Mode, on a port of its own', () => {
  let slack: SlackTwin;
  let workspace: WorkspaceTwin;
  let wss: WebSocketServer;
  let dir: string;
  let bot: RunningBot | undefined;
  let starting: Promise<RunningBot>;
  let release: () => void;
  let healthPort: number;

  beforeAll(async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    wss.on('connection', (socket) => socket.send(JSON.stringify({ type: 'hello', num_connections: 1 })));
    slack = await startSlackTwin({
      tokens: [{ token: APP_TOKEN, userId: BOT_USER_ID, scopes: ['connections:write'] }],
    });
    slack.state.socketModeUrl = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`;
    workspace = await startWorkspaceTwin({ state: seedDemoWorkspace() });
    dir = mkdtempSync(join(tmpdir(), 'modelgate-health-'));
    const dbPath = join(dir, 'modelgate.db');
    // Another live process holds the store: the bot waits for it, and /healthz says so meanwhile.
    const holder = await openOwnedDatabase(dbPath, {
      me: newProcessIdentity(),
      leaseMs: 30_000,
      waitMs: 0,
      clock: systemClock,
    });
    release = () => {
      holder.lock.release();
      holder.db.close();
    };
    healthPort = await freePort();
    starting = startBot({
      policy: loadPolicy(EXAMPLE_POLICY_PATH),
      slack: { mode: 'socket', botToken: slack.botToken, appToken: APP_TOKEN, apiUrl: slack.apiUrl },
      databricks: { host: workspace.url, tokens: staticTokenProvider(workspace.token) },
      dbPath,
      slackRetries: { retries: 0 },
      store: { waitMs: 20_000 },
      health: { port: healthPort, host: '127.0.0.1' },
    });
  });
  afterAll(async () => {
    await bot?.stop();
    await new Promise((r) => wss.close(r));
    await slack.stop();
    await workspace.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 "connecting" while the store is not open, then 200 once connected', async () => {
    const url = `http://127.0.0.1:${healthPort}/healthz`;
    const waiting = await until(
      () => getHealth(url).catch(() => ({ status: 0, text: '', body: {} as HealthBody })),
      (r) => r.status !== 0,
    );
    expect(waiting.status).toBe(503);
    expect(waiting.body.store).toEqual({ state: 'connecting', detail: 'opening the store' });
    expect(waiting.body.scheduler).toEqual({ leader: false, holder: null, since: null });

    release();
    bot = await starting;
    expect(bot.healthUrl).toBe(url);
    const up = await until(
      () => getHealth(url),
      (r) => r.status === 200,
    );
    expect(up.body).toMatchObject({
      ok: true,
      store: { state: 'ready' },
      slack: { state: 'connected' },
      scheduler: { leader: true, holder: bot.identity.instance },
    });
    expect(up.text).not.toContain(APP_TOKEN);
    expect(up.text).not.toContain(slack.botToken);
  });

  it('answers 503 while the Socket Mode connection is lost, and 200 again once it is back', async () => {
    const url = `http://127.0.0.1:${healthPort}/healthz`;
    for (const socket of wss.clients) socket.terminate();
    const down = await until(
      () => getHealth(url),
      (r) => r.status === 503,
    );
    expect(down.status).toBe(503);
    expect(down.body.slack.state).not.toBe('connected');
    expect(down.body.store).toEqual({ state: 'ready' });
    // The client reconnects on its own (after its ping time-out, 5 s by default).
    const back = await until(
      () => getHealth(url),
      (r) => r.status === 200,
      15_000,
    );
    expect(back.body.slack).toEqual({ state: 'connected' });
  }, 20_000);
});
