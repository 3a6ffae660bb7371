import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { EXAMPLE_POLICY_PATH } from '../../src/config/env.js';
import { type SlackTwin, startSlackTwin } from '../../src/sandbox/slack/index.js';
import { seedDemoWorkspace } from '../../src/sandbox/workspace/demo.js';
import { startWorkspaceTwin, type WorkspaceTwin } from '../../src/sandbox/workspace/server.js';
import { TEST_SIGNING_SECRET } from '../support/slack-requests.js';

/** Packages a production bot in HTTP mode must not load at start (each is tens of MB resident). */
const LAZY_PACKAGES = ['@duckdb/node-api', '@napi-rs/canvas', 'chart.js', 'quickchart-js', '@databricks/sql'];

let slack: SlackTwin;
let workspace: WorkspaceTwin;
let dir: string;
let bot: ChildProcess | undefined;

beforeEach(async () => {
  slack = await startSlackTwin();
  workspace = await startWorkspaceTwin({ state: seedDemoWorkspace() });
  dir = mkdtempSync(join(tmpdir(), 'modelgate-start-'));
});
afterEach(async () => {
  if (bot && bot.exitCode === null) {
    const exited = new Promise((r) => bot!.once('exit', r));
    bot.kill('SIGTERM');
    await exited;
  }
  await workspace.stop();
  await slack.stop();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Starts src/main.ts in a child with a probe: a module hook logs every ESM resolution to a file, and
 * the child answers an IPC message with the CommonJS modules it has loaded (require(), createRequire).
 */
function startMain(env: Record<string, string>): { ready: Promise<void>; loaded(): Promise<string[]> } {
  const log = join(dir, 'resolved.txt');
  writeFileSync(
    join(dir, 'hooks.mjs'),
    `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(${JSON.stringify(log)}, r.url + '\\n');
  return r;
}`,
  );
  writeFileSync(
    join(dir, 'probe.mjs'),
    `import { createRequire, register } from 'node:module';
register(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});
const cache = createRequire(import.meta.url).cache;
process.on('message', () => process.send(Object.keys(cache)));`,
  );
  const child = fork('src/main.ts', [], {
    execArgv: ['--import', 'tsx', '--import', pathToFileURL(join(dir, 'probe.mjs')).href],
    env: { PATH: process.env.PATH ?? '', HOME: dir, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  bot = child;
  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/modelgate is running \(http mode\)/.test(output)) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`main.ts exited (${code}) before it was running:\n${output}`)),
    );
  });
  return {
    ready,
    async loaded() {
      const cjs = new Promise<string[]>((resolve) => child.once('message', (m) => resolve(m as string[])));
      child.send('loaded?');
      return [...readFileSync(log, 'utf8').split('\n'), ...(await cjs)];
    },
  };
}

it('starts in HTTP mode without loading DuckDB, the canvas, Chart.js, quickchart-js or the SQL driver', async () => {
  const main = startMain({
    SLACK_BOT_TOKEN: slack.botToken,
    SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
    SLACK_API_URL: slack.apiUrl,
    DATABRICKS_HOST: workspace.url,
    DATABRICKS_TOKEN: workspace.token,
    MODELGATE_CONFIG: EXAMPLE_POLICY_PATH,
    MODELGATE_DB: join(dir, 'modelgate.db'),
    PORT: '0',
  });
  await main.ready;
  const loaded = await main.loaded();
  const packageLoaded = (name: string) => loaded.some((p) => p.includes(`/node_modules/${name}/`));

  // The probe sees what a started bot needs, so an empty list cannot pass for a lazy one.
  expect(packageLoaded('@slack/bolt')).toBe(true);
  expect(packageLoaded('better-sqlite3')).toBe(true);
  expect(LAZY_PACKAGES.filter(packageLoaded)).toEqual([]);
  expect(loaded.some((p) => p.includes('/src/sandbox/'))).toBe(false);
}, 60_000);
