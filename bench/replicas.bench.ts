/**
 * The chaos bench for several replicas (issue #13): 3 bot processes on one throwaway PostgreSQL
 * (test/support/postgres-server.ts), in HTTP mode behind a loopback round-robin front (a node:http
 * proxy in this process that skips a replica it cannot reach, as a load balancer would), with the
 * Slack and Databricks twins in a process of their own.
 *
 * Load, spread over BENCH_LOAD_SECONDS (default 40): BENCH_COMMANDS slash commands (default 500,
 * 10 in flight; among them one deploy per bench endpoint and one promote per bench model, each of
 * whose plans then gets 10 concurrent Apply clicks) and BENCH_REQUESTS approval clicks (default
 * 1000: 100 retraining requests × 10 concurrent approvers, 2 needed). A request the front could not
 * deliver is sent again, up to 3 times, with Slack's retry headers.
 * Faults meanwhile: every BENCH_KILL_SECONDS (default 6) one replica is SIGKILLed and restarted;
 * every 2 s the Databricks twin answers its next calls with a 429, a 503 and a dropped connection.
 * Then the same commands and clicks, paced alike, go through the same kind of front to a bare Bolt
 * app that only acks, for the ack ratio. Figures are counted at the twins and in the store.
 */
import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { EXAMPLE_POLICY_PATH } from '../src/config/env.js';
import { loadPolicy } from '../src/config/policy.js';
import { staticTokenProvider } from '../src/databricks/auth.js';
import {
  APPROVALS_CHANNEL_ID,
  createDefaultSlackSeed,
  MLOPS_CHANNEL_ID,
  REQUESTER_USER_ID,
  startSlackTwin,
} from '../src/sandbox/slack/index.js';
import { DEMO, seedDemoWorkspace } from '../src/sandbox/workspace/demo.js';
import { startWorkspaceTwin } from '../src/sandbox/workspace/server.js';
import { ACTION_APPLY, ACTION_APPROVAL_APPROVE } from '../src/slack/blocks/action-ids.js';
import { startBot } from '../src/wiring/bot.js';
import { startPostgresServer } from '../test/support/postgres-server.js';
import { blockAction, slashCommand, TEST_SIGNING_SECRET } from '../test/support/slack-requests.js';
import {
  announceTwins,
  type CallableChild,
  forkCallable,
  forkChild,
  serveCalls,
  type TwinsReady,
} from './children.js';
import type { BenchRow } from './run.js';
import { percentile } from './stats.js';

const COMMANDS = Number(process.env.BENCH_COMMANDS ?? 500);
const CLICKS = Number(process.env.BENCH_REQUESTS ?? 1000);
const APPROVERS = 10;
const REQUIRED = 2;
const REQUESTS = Math.max(1, Math.round(CLICKS / APPROVERS));
const LOAD_MS = Number(process.env.BENCH_LOAD_SECONDS ?? 40) * 1000;
const KILL_EVERY_MS = Number(process.env.BENCH_KILL_SECONDS ?? 6) * 1000;
const REPLICAS = 3;
/** Changes applied under the chaos: one deploy per bench endpoint, one promote per bench model. */
const ENDPOINTS = Number(process.env.BENCH_ENDPOINTS ?? 10);
const MODELS = Number(process.env.BENCH_MODELS ?? 10);
const CONCURRENCY = 10;
const FIRST_JOB = 7001;
/** The replicas' store lease and take-over job: short, so a killed replica's work is settled in the run. */
const LEASE_MS = 10_000;
const endpointOf = (i: number) => `bench-ep-${i}`;
const modelOf = (i: number) => `${DEMO.catalog}.${DEMO.schema}.bench_m_${i}`;
const approverIds = Array.from({ length: APPROVERS }, (_, i) => `U0APPR${String(i).padStart(2, '0')}`);
const READS = [
  'status churn-endpoint',
  'models churn_model',
  'help',
  'status',
  'deploy churn_model 3 --dry-run',
];

// ---------------------------------------------------------------------------------------------
// The twins' process
// ---------------------------------------------------------------------------------------------

export interface TwinReport {
  /** Successful PUT …/config per bench endpoint. */
  puts: Record<string, number>;
  /** Successful alias moves per bench model. */
  aliasMoves: Record<string, number>;
  /** Job runs per retraining job. */
  runs: Record<number, number>;
  runNowCalls: number;
  /** The version each bench endpoint serves of churn_model, and where each bench model's Champion points. */
  served: Record<string, string[]>;
  champion: Record<string, number | undefined>;
  /** The latest text of every message in the channel, by ts. */
  texts: Record<string, string>;
  /** Every message the bot posted in the two channels (not ephemerals), as channel:ts. */
  posted: string[];
  faultsInjected: number;
}

async function twinsProcess(): Promise<void> {
  const seed = createDefaultSlackSeed();
  for (const id of approverIds) {
    seed.users.push({ id, name: id.toLowerCase(), realName: `Approver ${id}` });
    for (const c of seed.channels) c.members.push(id);
  }
  const slack = await startSlackTwin({ seed });
  const state = seedDemoWorkspace();
  const template = state.jobs.get(DEMO.jobId)!;
  for (let i = 0; i < REQUESTS; i++) {
    const job_id = FIRST_JOB + i;
    state.jobs.set(job_id, { ...template, job_id, name: `bench-retrain-${i}` });
  }
  const endpoint = state.endpoints.get(DEMO.endpoint)!;
  for (let i = 0; i < ENDPOINTS; i++) {
    const name = endpointOf(i);
    state.endpoints.set(name, { ...structuredClone(endpoint), name, id: `ep-bench-${i}` });
  }
  const model = state.models.get(DEMO.model)!;
  for (let i = 0; i < MODELS; i++) {
    state.models.set(modelOf(i), {
      ...model,
      name: modelOf(i).split('.').at(-1)!,
      versions: new Map(model.versions),
      aliases: new Map(model.aliases),
    });
  }
  const workspace = await startWorkspaceTwin({
    state,
    rolloutDelayMs: 200,
    jobQueueMs: 10,
    jobRunMs: 100,
    listPageSize: 100,
  });
  let faultsInjected = 0;
  process.on(
    'message',
    (m: { mint?: Array<{ ts?: string; user: string }>; faults?: true; report?: true }) => {
      if (m.mint) {
        const urls = m.mint.map((t) =>
          slack.createResponseUrl({
            channel: t.ts ? APPROVALS_CHANNEL_ID : MLOPS_CHANNEL_ID,
            user: t.user,
            ...(t.ts ? { messageTs: t.ts } : {}),
          }),
        );
        process.send?.({ urls });
      } else if (m.faults) {
        workspace.faults.next('*', { kind: 'status', status: 429, retryAfterSeconds: 1 });
        workspace.faults.next('*', { kind: 'status', status: 503 });
        workspace.faults.next('*', { kind: 'drop' });
        faultsInjected += 3;
      } else if (m.report) {
        const ok = workspace.requests.filter((r) => r.status >= 200 && r.status < 300 && r.method === 'PUT');
        const puts: Record<string, number> = {};
        const aliasMoves: Record<string, number> = {};
        for (const r of ok) {
          const path = decodeURIComponent(r.path);
          const ep = /serving-endpoints\/(bench-ep-\d+)\/config/.exec(path)?.[1];
          if (ep) puts[ep] = (puts[ep] ?? 0) + 1;
          const mod = /models\/([^/]*bench_m_\d+)\/aliases\//.exec(path)?.[1];
          if (mod) aliasMoves[mod] = (aliasMoves[mod] ?? 0) + 1;
        }
        const runs: Record<number, number> = {};
        for (const run of workspace.state.runs.values())
          if (run.job_id >= FIRST_JOB) runs[run.job_id] = (runs[run.job_id] ?? 0) + 1;
        const served: Record<string, string[]> = {};
        for (let i = 0; i < ENDPOINTS; i++) {
          const e = workspace.state.endpoints.get(endpointOf(i));
          served[endpointOf(i)] = (e?.config?.served_entities ?? []).map((s) => s.entity_version);
        }
        const champion: Record<string, number | undefined> = {};
        for (let i = 0; i < MODELS; i++) {
          champion[modelOf(i)] = workspace.state.models.get(modelOf(i))?.aliases.get('champion')?.version_num;
        }
        const texts: Record<string, string> = {};
        for (const msg of slack.messages(MLOPS_CHANNEL_ID)) texts[msg.ts] = msg.text ?? '';
        const posted = [MLOPS_CHANNEL_ID, APPROVALS_CHANNEL_ID].flatMap((c) =>
          slack
            .messages(c)
            .filter((msg) => !msg.ephemeral_to && msg.bot_id !== undefined)
            .map((msg) => `${c}:${msg.ts}`),
        );
        process.send?.({
          report: {
            puts,
            aliasMoves,
            runs,
            runNowCalls: workspace.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/run-now'))
              .length,
            served,
            champion,
            texts,
            posted,
            faultsInjected,
          } satisfies TwinReport,
        });
      }
    },
  );
  announceTwins(slack, workspace);
}

// ---------------------------------------------------------------------------------------------
// One replica's process
// ---------------------------------------------------------------------------------------------

async function replicaProcess(): Promise<void> {
  let bot: Awaited<ReturnType<typeof startBot>> | undefined;
  serveCalls({
    async start(twins: TwinsReady, url: string) {
      const policy = loadPolicy(EXAMPLE_POLICY_PATH);
      policy.gates!.retrain = {
        approvers: { users: approverIds, groups: [] },
        approvals: REQUIRED,
        expiresAfter: 86_400_000,
      };
      bot = await startBot({
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
        dbPath: join(tmpdir(), 'unused-on-postgres.db'),
        postgres: { connectionString: url },
        store: { leaseMs: LEASE_MS, takeoverCron: '*/5 * * * * *' },
        approvalWait: { initialDelayMs: 500, maxDelayMs: 2_000, timeoutMs: 120_000 },
        rolloutWait: { initialDelayMs: 300, maxDelayMs: 1_000, timeoutMs: 120_000 },
        approvalExpiryCron: false,
        ledgerCron: false,
        queueLimit: 5_000,
      });
      return { url: bot.eventsUrl!, instance: bot.identity.instance };
    },
    async requestRetrains(count: number) {
      const b = bot!;
      for (let i = 0; i < count; i++) {
        await b.approvals.requestRetrain({
          model: DEMO.model,
          jobId: FIRST_JOB + i,
          reason: `bench ${i}`,
          actor: { userId: REQUESTER_USER_ID },
          origin: { channelId: APPROVALS_CHANNEL_ID },
        });
      }
      return (await b.approvals.pending())
        .filter((r) => r.plan.kind === 'retrain' && r.plan.jobId >= FIRST_JOB && r.message)
        .map((r) => ({ id: r.id, ts: r.message!.ts }));
    },
    stop: async () => {
      await bot?.stop();
    },
  });
}

if (process.env.BENCH_ROLE === 'twins') await twinsProcess();
if (process.env.BENCH_ROLE === 'replica') await replicaProcess();

// ---------------------------------------------------------------------------------------------
// The front: round robin over the replicas that are up; one it cannot reach is skipped
// ---------------------------------------------------------------------------------------------

interface Front {
  url: string;
  /** Requests no upstream answered (the client sends them again, as Slack retries). */
  unanswered: number;
  stop(): void;
}

async function startFront(upstreams: () => string[]): Promise<Front> {
  let next = 0;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const front = { unanswered: 0 } as Front;
  const forward = (target: string, req: http.IncomingMessage, body: Buffer) =>
    new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      const out = http.request(
        target,
        { method: 'POST', agent, headers: { ...req.headers, host: new URL(target).host } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on('error', reject);
        },
      );
      out.on('error', reject);
      out.end(body);
    });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const targets = upstreams();
      for (let tries = 0; tries < targets.length; tries++) {
        const target = targets[next++ % targets.length]!;
        try {
          const answer = await forward(target, req, body);
          res.writeHead(answer.status, { 'content-type': answer.headers['content-type'] ?? 'text/plain' });
          res.end(answer.body);
          return;
        } catch {
          // That replica is down (refused, or reset mid-request): the next one.
        }
      }
      front.unanswered++;
      res.writeHead(502);
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  front.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/slack/events`;
  front.stop = () => {
    server.close();
    agent.destroy();
  };
  return front;
}

// ---------------------------------------------------------------------------------------------
// The load: signed requests, paced over the load window, sent again (as Slack would) on a 5xx
// ---------------------------------------------------------------------------------------------

interface SlackRequest {
  headers: Record<string, string>;
  body: string;
}

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function poster(url: string) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const target = new URL(url);
  const once = (r: SlackRequest, retry: number) =>
    new Promise<number>((resolve) => {
      const headers: Record<string, string | number> = {
        ...r.headers,
        'content-length': Buffer.byteLength(r.body),
      };
      if (retry > 0)
        Object.assign(headers, { 'x-slack-retry-num': String(retry), 'x-slack-retry-reason': 'http_error' });
      const req = http.request(target, { method: 'POST', agent, headers }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      });
      req.on('error', () => resolve(0));
      req.end(r.body);
    });
  return {
    /** Resolves with the first attempt's ack time (undefined when it failed) and whether any attempt got a 200. */
    async send(r: SlackRequest): Promise<{ ackMs?: number; ok: boolean; retries: number }> {
      for (let retry = 0; retry <= 3; retry++) {
        const t = performance.now();
        const status = await once(r, retry);
        if (status === 200)
          return { ...(retry === 0 ? { ackMs: performance.now() - t } : {}), ok: true, retries: retry };
        await sleep(200);
      }
      return { ok: false, retries: 3 };
    },
    close: () => agent.destroy(),
  };
}

/** Runs `batches` one after another, spread evenly over `windowMs`; each batch's requests at once. */
async function paced(
  post: ReturnType<typeof poster>,
  batches: SlackRequest[][],
  windowMs: number,
): Promise<{ acks: number[]; failed: number; retried: number }> {
  const acks: number[] = [];
  let failed = 0;
  let retried = 0;
  const start = performance.now();
  for (const [i, batch] of batches.entries()) {
    const due = start + (windowMs * i) / Math.max(1, batches.length);
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const results = await Promise.all(batch.map((r) => post.send(r)));
    for (const r of results) {
      if (r.ackMs !== undefined) acks.push(r.ackMs);
      if (!r.ok) failed++;
      if (r.retries > 0) retried++;
    }
  }
  return { acks, failed, retried };
}

// ---------------------------------------------------------------------------------------------
// The bench
// ---------------------------------------------------------------------------------------------

interface Replica {
  name: string;
  child?: CallableChild;
  url?: string;
  instance?: string;
}

export default async function replicasBench(): Promise<BenchRow[]> {
  const here = fileURLToPath(import.meta.url);
  const postgres = await startPostgresServer();
  const twins = forkChild(here, { BENCH_ROLE: 'twins' });
  const bare = forkCallable(join(import.meta.dirname, 'server-process.ts'), { BENCH_SERVER: 'bare' });
  const replicas: Replica[] = Array.from({ length: REPLICAS }, (_, i) => ({ name: `replica-${i + 1}` }));
  const instances = new Map<string, string>();
  const db = new pg.Pool({ connectionString: postgres.url, max: 2 });
  db.on('error', () => {});
  const fronts: Front[] = [];
  let chaos = false;
  try {
    const { ready } = await twins.next<{ ready: TwinsReady }>();
    const start = async (r: Replica) => {
      const child = forkCallable(here, { BENCH_ROLE: 'replica' });
      r.child = child;
      const up = await child.call<{ url: string; instance: string }>('start', ready, postgres.url);
      r.url = up.url;
      r.instance = up.instance;
      instances.set(up.instance, r.name);
    };
    // The first one migrates; the others start together (the migration lock is theirs to take in turn).
    await start(replicas[0]!);
    await Promise.all(replicas.slice(1).map(start));
    const front = await startFront(() => replicas.flatMap((r) => (r.url ? [r.url] : [])));
    fronts.push(front);

    const requests = await replicas[0]!.child!.call<Array<{ id: string; ts: string }>>(
      'requestRetrains',
      REQUESTS,
    );
    if (requests.length !== REQUESTS)
      throw new Error(`expected ${REQUESTS} requests, got ${requests.length}`);

    // Response URLs: one per command, one per click.
    const mint = async (items: Array<{ ts?: string; user: string }>) => {
      const minted = twins.next<{ urls: string[] }>();
      twins.proc.send({ mint: items });
      return (await minted).urls;
    };
    const changeTexts = [
      ...Array.from({ length: ENDPOINTS }, (_, i) => `deploy churn_model 3 to ${endpointOf(i)}`),
      ...Array.from({ length: MODELS }, (_, i) => `promote ${modelOf(i)} 3 Champion`),
    ];
    const texts = Array.from({ length: COMMANDS }, (_, i) =>
      i < changeTexts.length ? changeTexts[i]! : READS[i % READS.length]!,
    );
    const commandUrls = await mint(texts.map(() => ({ user: REQUESTER_USER_ID })));
    const commands = texts.map((text, i) =>
      slashCommand({
        text,
        user_id: REQUESTER_USER_ID,
        channel_id: MLOPS_CHANNEL_ID,
        response_url: commandUrls[i]!,
        trigger_id: `bench-trigger-${i}`,
      }),
    );
    const clickUrls = await mint(requests.flatMap((r) => approverIds.map((user) => ({ ts: r.ts, user }))));
    const clicks = requests.map((r, i) =>
      approverIds.map((user, j) =>
        blockAction({
          action_id: ACTION_APPROVAL_APPROVE,
          value: r.id,
          user,
          channel: APPROVALS_CHANNEL_ID,
          message_ts: r.ts,
          response_url: clickUrls[i * APPROVERS + j]!,
        }),
      ),
    );
    const batchesOf = <T>(items: T[], size: number) =>
      Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

    // Leadership, watched in the store every 200 ms: who leads, and how long the jobs went unled.
    const failovers: number[] = [];
    let leaderKilledAt: number | undefined;
    let killedInstance: string | undefined;
    const leaderOf = async () =>
      (
        await db.query<{ holder: string; expires_at: string }>(
          `SELECT holder, expires_at FROM leadership WHERE name = 'scheduler'`,
        )
      ).rows[0];
    const watcher = setInterval(() => {
      void leaderOf()
        .then((l) => {
          if (leaderKilledAt !== undefined && l && l.holder !== killedInstance) {
            failovers.push(Date.now() - leaderKilledAt);
            leaderKilledAt = undefined;
          }
        })
        .catch(() => {});
    }, 200);

    // Faults: a replica SIGKILLed and restarted every few seconds; Databricks faults every 2 s.
    chaos = true;
    let kills = 0;
    const killer = (async () => {
      let k = 0;
      while (chaos) {
        await sleep(KILL_EVERY_MS);
        if (!chaos) break;
        const victim = replicas[k++ % REPLICAS]!;
        const leader = await leaderOf().catch(() => undefined);
        const wasLeader = leader?.holder === victim.instance;
        victim.url = undefined;
        victim.child?.proc.kill('SIGKILL');
        kills++;
        if (wasLeader && leaderKilledAt === undefined) {
          leaderKilledAt = Date.now();
          killedInstance = victim.instance;
        }
        await start(victim).catch((e) => process.stderr.write(`replica restart failed: ${e}\n`));
      }
    })();
    const faulter = setInterval(() => twins.proc.send({ faults: true }), 2_000);

    // The bare Bolt app gets the same commands and clicks at the same moments, through a front of
    // its own, so both see the same machine (replicas restarting, Postgres, the twins).
    const bareUrl = await bare.call<string>('start', ready, {
      bareAcks: ['/mlops', ACTION_APPROVAL_APPROVE],
    });
    const bareFront = await startFront(() => [bareUrl]);
    fronts.push(bareFront);
    const botPost = poster(front.url);
    const barePost = poster(bareFront.url);
    const [commandLoad, clickLoad, bareCommands, bareClicks] = await Promise.all([
      paced(botPost, batchesOf(commands, CONCURRENCY), LOAD_MS),
      paced(botPost, clicks, LOAD_MS),
      paced(barePost, batchesOf(commands, CONCURRENCY), LOAD_MS),
      paced(barePost, clicks, LOAD_MS),
    ]);
    barePost.close();

    // Each plan the deploy and promote commands made gets 10 Apply clicks at once.
    const planDeadline = Date.now() + 60_000;
    let plans: Array<{ id: string; message_ts: string }> = [];
    for (;;) {
      plans = (
        await db.query<{ id: string; message_ts: string }>(
          `SELECT id, message_ts FROM changes WHERE status = 'proposed' AND message_ts IS NOT NULL
             AND message_ts NOT LIKE 'outbox:%' AND (target LIKE '%bench-ep-%' OR target LIKE '%bench_m_%')`,
        )
      ).rows;
      if (plans.length >= changeTexts.length || Date.now() > planDeadline) break;
      await sleep(500);
    }
    const applyUrls = await mint(
      plans.flatMap((p) => approverIds.map(() => ({ ts: p.message_ts, user: REQUESTER_USER_ID }))),
    );
    const applies = plans.map((p, i) =>
      approverIds.map((_, j) =>
        blockAction({
          action_id: ACTION_APPLY,
          value: p.id,
          user: REQUESTER_USER_ID,
          channel: MLOPS_CHANNEL_ID,
          message_ts: p.message_ts,
          response_url: applyUrls[i * APPROVERS + j]!,
        }),
      ),
    );
    const applyLoad = await paced(botPost, applies, Math.min(LOAD_MS, 10_000));
    botPost.close();

    // The chaos stops; every replica comes back, and the work settles (taken over after the lease).
    chaos = false;
    clearInterval(faulter);
    await killer;
    const settleDeadline = Date.now() + 180_000;
    const ids = requests.map((r) => r.id);
    let open = { requests: 0, changes: 0, owed: 0 };
    for (;;) {
      const q = async (text: string, values: unknown[] = []) =>
        Number((await db.query<{ n: string }>(text, values)).rows[0]?.n ?? 0);
      open = {
        requests: await q(
          `SELECT count(*) AS n FROM approval_requests WHERE id = ANY($1) AND status IN ('pending', 'approved', 'executing')`,
          [ids],
        ),
        changes: await q(`SELECT count(*) AS n FROM changes WHERE status IN ('applying', 'rolling_out')`),
        owed: await q(`SELECT count(*) AS n FROM outbox WHERE status = 'owed'`),
      };
      if ((open.requests === 0 && open.changes === 0 && open.owed === 0) || Date.now() > settleDeadline)
        break;
      await sleep(500);
    }
    clearInterval(watcher);
    const settledIn = 180_000 - (settleDeadline - Date.now());

    // The twin's count against the store's records.
    const reported = twins.next<{ report: TwinReport }>();
    twins.proc.send({ report: true });
    const { report } = await reported;
    const reqRows = (
      await db.query<{ id: string; status: string; plan_json: string }>(
        `SELECT id, status, plan_json FROM approval_requests WHERE id = ANY($1)`,
        [ids],
      )
    ).rows;
    const approved = reqRows.filter(
      (r) => r.status !== 'pending' && r.status !== 'rejected' && r.status !== 'expired',
    );
    const executions = Object.values(report.runs).reduce((a, b) => a + b, 0);
    const dupRuns = Object.values(report.runs).reduce((a, b) => a + Math.max(0, b - 1), 0);
    const dupPuts = Object.values(report.puts).reduce((a, b) => a + Math.max(0, b - 1), 0);
    const dupAliases = Object.values(report.aliasMoves).reduce((a, b) => a + Math.max(0, b - 1), 0);
    let disagree = 0;
    const disagreements: string[] = [];
    for (const r of reqRows) {
      const job = (JSON.parse(r.plan_json) as { jobId: number }).jobId;
      const ran = (report.runs[job] ?? 0) > 0;
      if ((r.status === 'executed') !== ran) {
        disagree++;
        disagreements.push(`request ${r.id} ${r.status}, twin runs ${report.runs[job] ?? 0}`);
      }
    }
    const changes = (
      await db.query<{
        id: string;
        target: string;
        status: string;
        message_ts: string | null;
        message_finished: string;
      }>(
        `SELECT id, target, status, message_ts, message_finished FROM changes
           WHERE target LIKE '%bench-ep-%' OR target LIKE '%bench_m_%'`,
      )
    ).rows;
    const applied = changes.filter((c) => !['proposed', 'cancelled', 'stale'].includes(c.status));
    for (const c of applied) {
      const ep = /bench-ep-\d+/.exec(c.target)?.[0];
      const mod = /[^:]*bench_m_\d+/.exec(c.target)?.[0];
      const inTwin = ep ? (report.served[ep] ?? []).includes('3') : mod ? report.champion[mod] === 3 : false;
      if ((c.status === 'succeeded') !== inTwin) {
        disagree++;
        disagreements.push(
          `change ${c.id} (${c.target}) ${c.status}, twin ${inTwin ? 'changed' : 'unchanged'}`,
        );
      }
    }
    // A change's final Slack message: the store says finished, and Slack shows the outbox's final text.
    let unfinished = 0;
    for (const c of applied) {
      const finals = (
        await db.query<{ body_json: string; status: string }>(
          `SELECT body_json, status FROM outbox WHERE ts = $1 AND final = 1`,
          [c.message_ts],
        )
      ).rows;
      const shown = c.message_ts ? report.texts[c.message_ts] : undefined;
      const final = finals[0];
      const ok =
        Number(c.message_finished) === 1 &&
        final?.status === 'delivered' &&
        shown === (JSON.parse(final.body_json) as { text?: string }).text;
      if (!ok) unfinished++;
    }
    // A message posted twice (two replicas sending one outbox row) leaves a Slack message no row tracks.
    const tracked = new Set(
      (
        await db.query<{ key: string }>(
          `SELECT posted_channel || ':' || ts AS key FROM outbox WHERE ts IS NOT NULL AND ts NOT LIKE 'outbox:%'`,
        )
      ).rows.map((r) => r.key),
    );
    const orphans = report.posted.filter((k) => !tracked.has(k)).length;
    for (const d of disagreements.slice(0, 5)) process.stderr.write(`replicas bench: ${d}\n`);

    const botAcks = [...commandLoad.acks, ...clickLoad.acks, ...applyLoad.acks].sort((a, b) => a - b);
    const bareAcks = [...bareCommands.acks, ...bareClicks.acks].sort((a, b) => a - b);
    const p99 = percentile(botAcks, 99);
    const bareP99 = percentile(bareAcks, 99);
    const failed = commandLoad.failed + clickLoad.failed + applyLoad.failed;
    const retried = commandLoad.retried + clickLoad.retried + applyLoad.retried;
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    return [
      {
        name: `setup: ${REPLICAS} replicas on one Postgres, ${COMMANDS} commands + ${requests.length * APPROVERS} approval clicks (${APPROVERS} at once per request) + ${applies.flat().length} Apply clicks over ${s(LOAD_MS)}`,
        value: `${kills} SIGKILLs, ${report.faultsInjected} Databricks faults`,
      },
      {
        name: `executions (approved requests: ${approved.length} of ${requests.length})`,
        value: String(executions),
        target: `exactly ${approved.length}`,
      },
      {
        name: 'duplicate run-nows / PUTs / alias moves, counted at the twin (of all run-now calls, PUTs, moves)',
        value: `${dupRuns} / ${dupPuts} / ${dupAliases} (${report.runNowCalls}, ${sum(report.puts)}, ${sum(report.aliasMoves)})`,
        target: '0 / 0 / 0',
      },
      {
        name: `changes applied (of ${changeTexts.length} planned): succeeded / other`,
        value: `${applied.filter((c) => c.status === 'succeeded').length} / ${applied.filter((c) => c.status !== 'succeeded').length}`,
      },
      { name: 'records that disagree with the twin', value: String(disagree), target: '0' },
      { name: 'changes without a final Slack message', value: String(unfinished), target: '0' },
      {
        name: `Slack messages posted twice: bot messages no outbox row tracks (of ${report.posted.length})`,
        value: String(orphans),
        target: '0',
      },
      {
        name: `leader failover after SIGKILL of the leader (worst of ${failovers.length})`,
        value: failovers.length
          ? `${s(Math.max(...failovers))} (${failovers.map(s).join(', ')})`
          : 'not killed',
        target: '≤ 30 s (measured)',
      },
      {
        name: 'ack p50 bot / bare Bolt app (same requests, same moments, each via a front)',
        value: `${percentile(botAcks, 50).toFixed(1)} / ${percentile(bareAcks, 50).toFixed(1)} ms`,
      },
      {
        name: 'ack p99 bot / bare Bolt app',
        value: `${p99.toFixed(1)} / ${bareP99.toFixed(1)} ms = ${(p99 / bareP99).toFixed(2)}×`,
        target: '≤ 1.5×',
      },
      {
        name: 'requests sent again (no replica answered first) / never answered',
        value: `${retried} / ${failed}`,
        target: '- / 0',
      },
      {
        name: 'after the chaos: open requests / changes / owed messages, settled in',
        value: `${open.requests} / ${open.changes} / ${open.owed}, ${s(settledIn)}`,
        target: '0 / 0 / 0',
      },
    ];
  } finally {
    chaos = false;
    for (const f of fronts) f.stop();
    await Promise.allSettled(replicas.map((r) => r.child?.call('stop')));
    for (const r of replicas) r.child?.proc.kill('SIGKILL');
    await bare.call('stop').catch(() => {});
    for (const c of [twins.proc, bare.proc] as ChildProcess[]) if (c.connected) c.disconnect();
    await db.end().catch(() => {});
    postgres.stop();
  }
}
