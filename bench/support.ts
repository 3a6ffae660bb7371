/**
 * Setups the benches share: the bot (the one place the benches start it), a bare Bolt app to
 * compare acks with, and a warehouse on its twin.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, HTTPReceiver } from '@slack/bolt';
import { EXAMPLE_POLICY_PATH } from '../src/config/env.js';
import { loadPolicy } from '../src/config/policy.js';
import { staticTokenProvider, type TokenProvider } from '../src/databricks/auth.js';
import { createDatabricksWarehouse } from '../src/databricks/warehouse.js';
import type { Warehouse } from '../src/domain/ports/warehouse.js';
import { openSandboxDuckDb, type SandboxDb } from '../src/sandbox/duckdb.js';
import { APPROVALS_CHANNEL_ID, REQUESTER_USER_ID } from '../src/sandbox/slack/index.js';
import { startWarehouseTwin, type WarehouseTwin } from '../src/sandbox/warehouse/index.js';
import { startBot } from '../src/wiring/bot.js';
import { TEST_SIGNING_SECRET } from '../test/support/slack-requests.js';
import type { TwinsReady } from './children.js';

/** How a bench wants the bot: the example policy, plus a retrain gate for the approvals bench. */
export interface BenchBotOptions {
  /** Gate retraining on these approvers, `approvals` of them needed; also makes the bot fail fast. */
  retrainGate?: { approvers: string[]; approvals: number };
}

/** What the benches need of a running bot, whatever src/ calls it. */
export interface BenchBot {
  eventsUrl: string;
  /** Resolves once the bot's post-ack work (plans, replies, executions in flight) is done. */
  idle(): Promise<void>;
  /** Posts one retraining request per item (as the requester, in the approvals channel). */
  requestRetrains(
    items: Array<{ model: string; jobId: number; reason: string }>,
  ): Promise<Array<{ id: string; ts: string }>>;
  /** Waits until no request is pending, approved or executing; throws after `timeoutMs`. */
  awaitFinal(ids: string[], timeoutMs: number): Promise<void>;
  /** Each request's status, and how many executions the audit trail records for them in all. */
  outcomes(ids: string[]): Promise<{ statuses: Array<string | undefined>; executions: number }>;
  stop(): Promise<void>;
}

/**
 * Starts the real bot against the twins on a fresh database. The benches reach src/ through this
 * one function, so a change to the bot's options or its running shape is fixed here alone.
 */
export async function startBenchBot(twins: TwinsReady, options: BenchBotOptions = {}): Promise<BenchBot> {
  const policy = loadPolicy(EXAMPLE_POLICY_PATH);
  const gate = options.retrainGate;
  if (gate) {
    policy.gates!.retrain = {
      approvers: { users: gate.approvers, groups: [] },
      approvals: gate.approvals,
      expiresAfter: 86_400_000,
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'modelgate-bench-'));
  const bot = await startBot({
    policy,
    slack: {
      mode: 'http',
      botToken: twins.botToken,
      signingSecret: TEST_SIGNING_SECRET,
      apiUrl: twins.slackApiUrl,
      port: 0,
      host: '127.0.0.1',
    },
    databricks: { host: twins.workspaceUrl, tokens: staticTokenProvider(twins.workspaceToken) },
    dbPath: join(dir, 'bench.db'),
    ...(gate
      ? {
          slackRetries: { retries: 0 },
          approvalWait: { initialDelayMs: 1_000, maxDelayMs: 2_000, timeoutMs: 120_000 },
          approvalExpiryCron: false as const,
          ledgerCron: false as const,
          // The bench fires 1000 clicks in a second or two, far past any team's rate; the default
          // bound of the post-ack queue (200) would shed most of them as "busy".
          queueLimit: 5_000,
        }
      : {}),
  });
  const statusOf = async (id: string) => (await bot.requests.get(id))?.status;
  const open = async (id: string) => {
    const s = await statusOf(id);
    return s === 'pending' || s === 'approved' || s === 'executing';
  };
  const stillOpen = async (ids: readonly string[]) => {
    const out: string[] = [];
    for (const id of ids) if (await open(id)) out.push(id);
    return out;
  };
  return {
    eventsUrl: bot.eventsUrl!,
    async idle() {
      await bot.pipeline.idle();
      await bot.approvals.idle();
    },
    async requestRetrains(items) {
      for (const item of items) {
        await bot.approvals.requestRetrain({
          ...item,
          actor: { userId: REQUESTER_USER_ID },
          origin: { channelId: APPROVALS_CHANNEL_ID },
        });
      }
      const jobs = new Set(items.map((i) => i.jobId));
      return (await bot.approvals.pending())
        .filter((r) => r.plan.kind === 'retrain' && jobs.has(r.plan.jobId) && r.message)
        .map((r) => ({ id: r.id, ts: r.message!.ts }));
    },
    async awaitFinal(ids, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        await bot.approvals.idle();
        const openIds = await stillOpen(ids);
        const left = openIds.length;
        if (left === 0) return;
        if (Date.now() > deadline) {
          const stuck = [];
          for (const id of openIds) stuck.push(`${id}: ${await statusOf(id)}`);
          throw new Error(`${left} of ${ids.length} requests still open (${stuck.slice(0, 5).join(', ')})`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async outcomes(ids) {
      let executions = 0;
      const statuses = [];
      for (const id of ids) {
        executions += (await bot.store.recentAudit({ changeId: id, action: 'executing', limit: 10 })).length;
        statuses.push(await statusOf(id));
      }
      return { statuses, executions };
    },
    async stop() {
      await bot.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A Bolt app that only acknowledges: the floor a bot's ack latency is compared with.
 * `register` says what it listens to, e.g. `(app, ack) => app.command('/mlops', ack)`.
 */
export async function bareBoltApp(
  register: (app: App) => void,
): Promise<{ url: string; stop: () => Promise<unknown> }> {
  const app = new App({
    token: 'xoxb-bare',
    botId: 'B0BARE',
    botUserId: 'U0BARE',
    receiver: new HTTPReceiver({ signingSecret: TEST_SIGNING_SECRET }),
  });
  register(app);
  const server = await app.start({ port: 0, host: '127.0.0.1' });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}/slack/events`, stop: () => app.stop() };
}

/** DuckDB, the SQL warehouse twin over it, and the production adapter pointed at the twin. */
export async function startWarehouseOnTwin(
  token = 'dapi-bench',
): Promise<{ db: SandboxDb; twin: WarehouseTwin; warehouse: Warehouse; stop(): Promise<void> }> {
  const db = await openSandboxDuckDb();
  const twin = await startWarehouseTwin({ db, token });
  const tokens: TokenProvider = { token: async () => token };
  const warehouse = createDatabricksWarehouse({
    host: twin.url,
    httpPath: twin.httpPath,
    ca: twin.ca,
    tokens,
  });
  return {
    db,
    twin,
    warehouse,
    async stop() {
      await warehouse.close();
      await twin.stop();
      await db.close();
    },
  };
}

/**
 * POSTs a signed request over node:http with kept-alive sockets and resolves with the status.
 * The load generators use it instead of fetch, whose per-request CPU is several times larger, so
 * on a small machine the client steals less CPU from the bot it is timing.
 */
export function createPoster(url: string): {
  post(request: { headers: Record<string, string>; body: string }): Promise<number>;
  close(): void;
} {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const target = new URL(url);
  return {
    post(request) {
      return new Promise((resolve, reject) => {
        const req = http.request(
          target,
          {
            method: 'POST',
            agent,
            headers: { ...request.headers, 'content-length': Buffer.byteLength(request.body) },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(request.body);
      });
    },
    close: () => agent.destroy(),
  };
}
