/**
 * Owned work with REAL separate processes: bot processes (test/support/bot-process.ts) on one store
 * file, against the Slack and workspace twins this test runs. A slow PUT keeps a change between
 * its call to Databricks and its record while a second process starts, or while the first is
 * killed with SIGKILL.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createChangeStore } from '../../src/changes/store.js';
import {
  MLOPS_CHANNEL_ID,
  REQUESTER_USER_ID,
  type SlackTwin,
  startSlackTwin,
} from '../../src/sandbox/slack/index.js';
import { DEMO, seedDemoWorkspace } from '../../src/sandbox/workspace/demo.js';
import { startWorkspaceTwin, type WorkspaceTwin } from '../../src/sandbox/workspace/server.js';
import { ACTION_APPLY } from '../../src/slack/blocks/action-ids.js';
import { openDatabase } from '../../src/storage/database.js';
import type { BotProcessSettings } from '../support/bot-process.js';
import { blockAction, postToBolt, slashCommand } from '../support/slack-requests.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = join(ROOT, 'test/support/bot-process.ts');
const POLICY = join(ROOT, 'test/fixtures/policy/owned-work-unbound-endpoint.yml');
const PUT_CONFIG = 'PUT /api/2.0/serving-endpoints/:name/config';

interface BotProcess {
  child: ChildProcess;
  /** Resolves once the bot listens; rejects if it exits first. */
  ready: Promise<{ eventsUrl: string; instance: string }>;
  /** Resolves when the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

let slack: SlackTwin;
let workspace: WorkspaceTwin;
let dir: string;
let dbPath: string;
const children: ChildProcess[] = [];

beforeEach(async () => {
  slack = await startSlackTwin();
  workspace = await startWorkspaceTwin({ state: seedDemoWorkspace(), rolloutDelayMs: 300 });
  dir = mkdtempSync(join(tmpdir(), 'modelgate-owned-'));
  dbPath = join(dir, 'modelgate.db');
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;
    }
  }
  await slack.stop();
  await workspace.stop();
  rmSync(dir, { recursive: true, force: true });
});

function startBotProcess(o: { leaseMs: number; waitMs: number }): BotProcess {
  const settings: BotProcessSettings = {
    policyPath: POLICY,
    dbPath,
    workspace: { url: workspace.url, token: workspace.token },
    slack: { apiUrl: slack.apiUrl, botToken: slack.botToken },
    leaseMs: o.leaseMs,
    heartbeatMs: Math.round(o.leaseMs / 5),
    waitMs: o.waitMs,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT], {
    cwd: ROOT,
    env: { ...process.env, BOT_PROCESS: JSON.stringify(settings) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += String(d);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((r) =>
    child.once('exit', (code, signal) => r({ code, signal, stderr })),
  );
  const ready = new Promise<{ eventsUrl: string; instance: string }>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      stdout += String(d);
      const line = stdout.split('\n').find((l) => l.startsWith('{"ready"'));
      if (line) {
        const { ready: eventsUrl, instance } = JSON.parse(line) as { ready: string; instance: string };
        resolve({ eventsUrl, instance });
      }
    });
    void exited.then((e) => reject(new Error(`bot process exited (${e.code ?? e.signal}): ${e.stderr}`)));
  });
  ready.catch(() => undefined);
  return { child, ready, exited };
}

/** Polls `check` until it holds (the workspace twin's state changes without telling anyone). */
async function until(check: () => unknown, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The Apply button of the latest plan in #mlops. */
function latestPlan(): { ts: string; changeId: string } | undefined {
  for (const m of slack.messages(MLOPS_CHANNEL_ID).reverse()) {
    for (const block of (m.blocks ?? []) as Array<{
      elements?: Array<{ action_id?: string; value?: string }>;
    }>) {
      const apply = block.elements?.find((e) => e.action_id === ACTION_APPLY);
      if (apply?.value) return { ts: m.ts, changeId: apply.value };
    }
  }
  return undefined;
}

/** Plans `deploy churn_model 3` on a bot and presses Apply with the config PUT slowed down. */
async function applyDeployWithSlowPut(eventsUrl: string, putMs: number): Promise<string> {
  await postToBolt(
    eventsUrl,
    slashCommand({
      text: `deploy churn_model 3 to ${DEMO.endpoint}`,
      twin: slack,
      user_id: REQUESTER_USER_ID,
    }),
  );
  const plan = await slack.waitFor(latestPlan, 10_000);
  workspace.faults.next(PUT_CONFIG, { kind: 'slow', ms: putMs });
  const res = await postToBolt(
    eventsUrl,
    blockAction({
      action_id: ACTION_APPLY,
      value: plan.changeId,
      message_ts: plan.ts,
      user: REQUESTER_USER_ID,
      twin: slack,
    }),
  );
  expect(res.status).toBe(200);
  // The progress message is posted just before the PUT goes out.
  await slack.waitFor(
    () => slack.calls('chat.postMessage').find((c) => /churn-endpoint/.test(String(c.args.text))),
    10_000,
  );
  return plan.changeId;
}

/** The change as the store file records it, read over a connection of the test's own. */
async function recorded(changeId: string) {
  const db = openDatabase(dbPath);
  try {
    const store = createChangeStore(db);
    return { change: await store.get(changeId), audit: await store.recentAudit({ changeId, limit: 50 }) };
  } finally {
    await db.close();
  }
}

const servedVersions = () =>
  workspace.state.endpoints.get(DEMO.endpoint)?.config?.served_entities.map((e) => e.entity_version);
const configPuts = () => workspace.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/config'));
const finalProgress = () =>
  slack.waitFor(
    () =>
      slack
        .calls('chat.update')
        .find(
          (c) =>
            c.args.channel === MLOPS_CHANNEL_ID &&
            /: (done|failed|stopped following)/.test(String(c.args.text)),
        ),
    20_000,
  );

describe('one live process per store', () => {
  it('refuses a second bot process while the first applies a change, and the record matches the twin', async () => {
    const first = startBotProcess({ leaseMs: 1_000, waitMs: 0 });
    const { eventsUrl, instance } = await first.ready;
    const changeId = await applyDeployWithSlowPut(eventsUrl, 3_000);

    // A rolling deploy starts the next process while the PUT is still on its way, longer than a
    // lease after the first took the store: only its heartbeats keep it the holder.
    await new Promise((r) => setTimeout(r, 1_500));
    const second = startBotProcess({ leaseMs: 1_000, waitMs: 0 });
    // Were the store taken (no heartbeats, no lock), the second bot would start listening.
    expect(
      await second.ready.then(
        () => 'started',
        () => 'ended',
      ),
    ).toBe('ended');
    const refused = await second.exited;
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain(`pid ${first.child.pid}`);
    expect(refused.stderr).toContain(`instance ${instance}`);
    expect(refused.stderr).toMatch(/holding it since \d{4}-\d\d-\d\dT/);
    expect(refused.stderr).toContain('Stop that process first');
    expect(refused.stderr).toContain('MODELGATE_STORE_WAIT_SECONDS');

    // The first process lands its change and records it; nobody ended it behind its back.
    expect(String((await finalProgress()).args.text)).toMatch(/: done/);
    const { change, audit } = await recorded(changeId);
    expect(change?.status).toBe('succeeded');
    expect(servedVersions()).toEqual(['3']);
    expect(configPuts()).toHaveLength(1);
    expect(audit.map((a) => a.action)).not.toContain('failed');
    expect(audit.map((a) => a.action)).not.toContain('late_result');
  }, 40_000);

  it('after kill -9 between the call and its record, the next process waits out the lease and records what the twin did', async () => {
    const first = startBotProcess({ leaseMs: 1_500, waitMs: 0 });
    const { eventsUrl, instance } = await first.ready;
    const changeId = await applyDeployWithSlowPut(eventsUrl, 1_000);
    // The twin took the PUT (its slow fault is used up) and holds it: the bot has no answer yet.
    await until(() => workspace.faults.pending(PUT_CONFIG) === 0, 5_000);
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    // The PUT is still in the twin's hands: it lands although its sender is gone.
    await until(
      () =>
        servedVersions()?.includes('3') ||
        workspace.state.endpoints.get(DEMO.endpoint)?.pending !== undefined,
      5_000,
    );
    expect((await recorded(changeId)).change).toMatchObject({ status: 'applying', owner: instance });

    // Started at once, the next process waits for the dead one's lease to run out, then settles
    // the change from what the endpoint has pending.
    const started = Date.now();
    const second = startBotProcess({ leaseMs: 1_500, waitMs: 15_000 });
    const next = await second.ready;
    expect(String((await finalProgress()).args.text)).toMatch(/: done/);

    const { change, audit } = await recorded(changeId);
    expect(change).toMatchObject({ status: 'succeeded', owner: next.instance });
    expect(servedVersions()).toEqual(['3']);
    expect(configPuts()).toHaveLength(1);
    const takeover = audit.find((a) => a.action === 'taken_over');
    expect(takeover?.detail).toContain(`from ${instance}`);
    expect(audit.map((a) => a.action)).not.toContain('failed');
    // One progress message, finished by the second process.
    expect(
      slack
        .calls('chat.postMessage')
        .filter((c) => c.args.channel === MLOPS_CHANNEL_ID && /churn-endpoint/.test(String(c.args.text))),
    ).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 40_000);
});
