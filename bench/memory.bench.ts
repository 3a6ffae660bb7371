/**
 * Resident memory after start: the compiled bot (`node dist/main.js`, HTTP mode, real Slack and
 * Databricks settings pointing at the twins) against a bare Bolt app on plain node, in the same run,
 * each in a process of its own. Each round starts both fresh, waits until each says it is listening,
 * lets them idle (BENCH_IDLE_MS, default 4 s) and reads VmRSS from /proc/<pid>/status. Rounds:
 * BENCH_ROUNDS (default 5). Builds dist/ first (`npm run build`, incremental). Linux only (/proc).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXAMPLE_POLICY_PATH } from '../src/config/env.js';
import { TEST_SIGNING_SECRET } from '../test/support/slack-requests.js';
import { forkChild, type TwinsReady } from './children.js';
import { median, ROUNDS } from './rounds.js';
import type { BenchRow } from './run.js';

/** The target for the bot's resident memory over the bare app's. */
export const RSS_RATIO_TARGET = 1.3;

const ROOT = join(import.meta.dirname, '..');
const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 4_000);
const READY_TIMEOUT_MS = 60_000;

/** The floor: a Bolt app that acks /mlops, on plain node, doing the same auth.test against the twin at start. */
const BARE_BOLT_APP = `
import { App, HTTPReceiver } from '@slack/bolt';
const app = new App({
  token: process.env.SLACK_BOT_TOKEN,
  receiver: new HTTPReceiver({ signingSecret: process.env.SLACK_SIGNING_SECRET }),
  clientOptions: { slackApiUrl: process.env.SLACK_API_URL },
});
app.command('/mlops', async ({ ack }) => { await ack(); });
await app.start({ port: 0, host: '127.0.0.1' });
console.error('bare Bolt app is running');
`;

/** What a process reports of itself: resident memory now, in MB, and the native addons it has mapped. */
function residentMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  if (!kb) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(kb) / 1024;
}

function nativeAddons(pid: number): string[] {
  const maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
  const names = new Set<string>();
  for (const m of maps.matchAll(/\/([^/\s]+\.node)$/gm)) names.add(m[1]!);
  return [...names].sort();
}

/** Starts a process and resolves once its output contains `ready`; rejects if it exits first. */
function startUntil(
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<{ proc: ChildProcess; pid: number }> {
  const proc = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => fail(new Error(`not ready after ${READY_TIMEOUT_MS} ms`)),
      READY_TIMEOUT_MS,
    );
    const fail = (e: Error) => {
      clearTimeout(timer);
      proc.kill('SIGKILL');
      reject(new Error(`${args.join(' ')}: ${e.message}\n${output}`));
    };
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve({ proc, pid: proc.pid! });
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => fail(new Error(`exited (${code}) before it was ready`)));
  });
}

async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

interface Sample {
  rssMb: number;
  addons: string[];
}

/** Starts one side, lets it idle, reads its memory, stops it. */
async function measure(side: 'bot' | 'bare', twins: TwinsReady, dir: string, round: number): Promise<Sample> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    // No ~/.databrickscfg or other profile can leak in: every setting below is the whole configuration.
    HOME: dir,
    SLACK_BOT_TOKEN: twins.botToken,
    SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
    SLACK_API_URL: twins.slackApiUrl,
  };
  const started =
    side === 'bot'
      ? await startUntil(
          ['dist/main.js'],
          {
            ...env,
            DATABRICKS_HOST: twins.workspaceUrl,
            DATABRICKS_TOKEN: twins.workspaceToken,
            MODELGATE_CONFIG: EXAMPLE_POLICY_PATH,
            MODELGATE_DB: join(dir, `bench-${round}.db`),
            PORT: '0',
          },
          /modelgate is running \(http mode\)/,
        )
      : await startUntil(['--input-type=module', '-e', BARE_BOLT_APP], env, /bare Bolt app is running/);
  try {
    await new Promise((r) => setTimeout(r, IDLE_MS));
    if (started.proc.exitCode !== null) throw new Error(`the ${side} exited while idle`);
    return { rssMb: residentMb(started.pid), addons: nativeAddons(started.pid) };
  } finally {
    await stopProcess(started.proc);
  }
}

export default async function bench(): Promise<BenchRow[]> {
  const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('npm run build failed');
  const twins = forkChild(join(import.meta.dirname, 'twins-process.ts'));
  const dir = mkdtempSync(join(tmpdir(), 'modelgate-memory-'));
  try {
    const { ready } = await twins.next<{ ready: TwinsReady }>();
    const bot: Sample[] = [];
    const bare: Sample[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Both sides at once: memory does not depend on sharing the CPU, and the run takes half as long.
      const [b, a] = await Promise.all([
        measure('bot', ready, dir, round),
        measure('bare', ready, dir, round),
      ]);
      bot.push(b);
      bare.push(a);
    }
    const ratios = bot.map((b, i) => b.rssMb / bare[i]!.rssMb);
    const mid = median(ratios);
    const list = (xs: Sample[]) => xs.map((x) => x.rssMb.toFixed(1)).join(' · ');
    return [
      { name: 'RSS after start per round, modelgate node dist/main.js (MB)', value: list(bot) },
      { name: 'RSS after start per round, bare Bolt app (MB)', value: list(bare) },
      {
        name: `RSS median, modelgate / bare Bolt app (MB)`,
        value: `${median(bot.map((b) => b.rssMb)).toFixed(1)} / ${median(bare.map((b) => b.rssMb)).toFixed(1)}`,
      },
      {
        name: `RSS ratio modelgate / bare: median (min–max) of ${ratios.length} rounds`,
        value: `${mid.toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}×)`,
        target: `≤ ${RSS_RATIO_TARGET}×: ${mid <= RSS_RATIO_TARGET ? 'met' : 'MISSED'}`,
      },
      // DuckDB's and Skia's addons would show here if the lazy loading regressed.
      { name: 'native addons loaded by modelgate', value: bot[0]?.addons.join(', ') || 'none' },
    ];
  } finally {
    twins.proc.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
}
