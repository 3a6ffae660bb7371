/**
 * Monitor status and batch scoring in a real browser: the sandbox as `npm start` runs it with
 * nothing configured, and Debian's Chromium on its console. riley types what a person would and
 * the test checks what the page shows and what the Databricks twins now hold.
 */
import type { Browser, Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/start.js';
import { DEMO } from '../../src/sandbox/workspace/demo.js';
import { ConsolePage, launchChromium, startTestSandbox } from './support/console-page.js';

/** A step that waits for a job run (about 4 s in the twin). */
const STEP_MS = 45_000;

let browser: Browser;
let env: Awaited<ReturnType<typeof startTestSandbox>>;
let sandbox: Sandbox;
let ui: ConsolePage;

beforeAll(async () => {
  browser = await launchChromium();
  env = await startTestSandbox();
  sandbox = env.sandbox;
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  ui = new ConsolePage(page);
  await ui.open(sandbox.console!.url);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await env?.stop();
});

async function text(locator: Locator): Promise<string> {
  return (await locator.textContent()) ?? '';
}

describe('monitor status and batch scoring in the sandbox console', () => {
  it(
    'shows riley the churn monitor: its state, last refresh and metric tables, only to riley',
    async () => {
      await ui.type('/mlops monitor status churn');
      const reply = await ui.message(/Monitors/);
      await expect.poll(() => text(reply)).toContain(DEMO.profileTable);
      const shown = await text(reply);
      expect(shown).toContain('Only visible to you');
      expect(shown).toContain('ACTIVE');
      expect(shown).toContain(DEMO.driftTable);
      expect(shown).toMatch(/Last refresh\s*SUCCESS/);
      expect(await reply.locator('a', { hasText: 'open' }).count()).toBe(1);
    },
    STEP_MS,
  );

  it(
    'scores the baseline table with the Champion and reports the rows written with a link',
    async () => {
      await ui.type('/mlops score churn_model@Champion churn_baseline');
      const message = await ui.message(/Batch scoring/);
      await expect.poll(() => text(message), { timeout: 30_000 }).toMatch(/rows written/);
      const shown = await text(message);
      expect(shown).toContain('churn_model v2 (Champion)');
      expect(shown).toContain('acme.mlops.churn_baseline_scored');
      const run = [...sandbox.databricks!.workspace.state.runs.values()].find(
        (r) => r.job_id === DEMO.scoringJobId,
      )!;
      expect(await message.locator('a', { hasText: `run ${run.run_id}` }).count()).toBe(1);
      const rows = await sandbox.databricks!.db.all(
        'SELECT DISTINCT model_version, model_alias FROM acme.mlops.churn_baseline_scored',
      );
      expect(rows).toEqual([{ model_version: '2', model_alias: 'Champion' }]);
    },
    STEP_MS,
  );
});
