/**
 * The canary demo in a real browser: the sandbox as `npm start` runs it, Debian's Chromium on its
 * console. riley has a new version registered by an approved retraining (the next after the
 * deployment-job story's v4 and v5), turns the sandbox's traffic on, starts a canary of it and
 * watches its one message step up; then turns the canary fault knob on
 * and watches it roll back. Steps depend on each other, in order. The demo analysis checks every
 * minute, so each wait is a minute or two of real time.
 */
import type { Browser, Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/start.js';
import { DEMO } from '../../src/sandbox/workspace/demo.js';
import { ConsolePage, launchChromium, SHOWS_WITHIN_MS, startTestSandbox } from './support/console-page.js';

/** A step that waits for a job run or a config update (a few seconds in the twin). */
const STEP_MS = 45_000;
/** A step that waits for a canary check: the demo analysis dwells a minute, the driver ticks every 10 s. */
const CHECK_MS = 150_000;

let browser: Browser;
let env: Awaited<ReturnType<typeof startTestSandbox>>;
let sandbox: Sandbox;
let ui: ConsolePage;
/** The rollout's one channel message, followed by its ts through every update. */
let canary: Locator;
/** The version the retraining registered: the canary's. */
let retrained: number;

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

const workspace = () => sandbox.databricks!.workspace.state;

/** The endpoint's traffic as version → percent. */
function servedTraffic(): Record<string, number> {
  const config = workspace().endpoints.get(DEMO.endpoint)?.config;
  const versionOf = new Map(config?.served_entities.map((e) => [e.name, e.entity_version]) ?? []);
  return Object.fromEntries(
    (config?.traffic_config.routes ?? []).map((r) => [
      versionOf.get(r.served_model_name) ?? r.served_model_name,
      r.traffic_percentage,
    ]),
  );
}

const invocations = () =>
  sandbox.databricks!.workspace.requests.filter((r) => r.route?.endsWith('/invocations')).length;

async function text(locator: Locator): Promise<string> {
  return (await locator.textContent()) ?? '';
}

/** Turns one of the console's sandbox knobs on or off, as a person ticks its box. */
async function knob(label: string, on: boolean): Promise<void> {
  const box = ui.page.locator('#knobs label', { hasText: label }).locator('input[type="checkbox"]');
  await box.waitFor({ timeout: SHOWS_WITHIN_MS });
  if (on) await box.check();
  else await box.uncheck();
  await expect.poll(() => box.isChecked()).toBe(on);
}

describe('a canary of a retrained version in the sandbox console', () => {
  it(
    'gets a new version registered by a retraining avery approves',
    async () => {
      await ui.type('/mlops retrain churn_model the canary demo needs a new version');
      await ui.actAs('avery');
      await ui.openChannel('mlops-approvals');
      const card = await ui.message(/Approval needed: Retrain churn_model/);
      await ui.press(card, 'Approve', 'confirm');
      await expect
        .poll(() => text(card), { timeout: STEP_MS - 5_000 })
        .toMatch(/Done: Retrain churn_model.*registered churn_model v\d+/s);
      // The sandbox seeds the deployment-job story's v4 and v5: the retraining registers the next one.
      retrained = Math.max(...workspace().models.get(DEMO.model)!.versions.keys());
      expect(retrained).toBeGreaterThan(5);
      expect(await text(card)).toContain(`registered churn_model v${retrained}`);
    },
    STEP_MS,
  );

  it(
    'steps the canary up on the traffic the sandbox sends, in one message that updates',
    async () => {
      await ui.actAs('riley');
      await ui.openChannel('mlops');
      const before = invocations();
      await knob('Send traffic', true);
      // The plan probes the inference table for baseline traffic: let some arrive.
      await expect.poll(invocations, { timeout: SHOWS_WITHIN_MS }).toBeGreaterThan(before + 10);

      await ui.type(
        `/mlops rollout ${DEMO.endpoint} churn_model ${retrained} steps=25,50 every=1m analysis=demo`,
      );
      const plan = await ui.message(/canary at 25% → 50% → 100%/);
      await ui.press(plan, 'Start');
      // The plan was only riley's; the rollout's own message is the channel's, for everyone.
      canary = await ui.message(/Step 1 of 3, canary at 25%/);
      expect(await text(canary)).toContain(`Canary: churn_model v${retrained} on churn-endpoint`);
      await expect.poll(servedTraffic, { timeout: STEP_MS }).toEqual({ '2': 75, [retrained]: 25 });

      await expect
        .poll(() => text(canary), { timeout: CHECK_MS - 10_000, interval: 2_000 })
        .toContain('Step 2 of 3, canary at 50%');
      await expect.poll(servedTraffic, { timeout: STEP_MS }).toEqual({ '2': 50, [retrained]: 50 });
      expect(await text(canary)).toMatch(/Last check.*pass/s);
    },
    CHECK_MS + STEP_MS,
  );

  it(
    'rolls the canary back once the fault knob makes it answer errors',
    async () => {
      await knob('Canary answers 50% errors', true);
      await expect
        .poll(() => text(canary), { timeout: CHECK_MS - 10_000, interval: 2_000 })
        .toContain('Rolled back: churn-endpoint serves churn_model-2 at 100%');
      expect(await text(canary)).toMatch(/error rate/);
      await expect.poll(servedTraffic, { timeout: STEP_MS }).toEqual({ '2': 100 });
      await knob('Canary answers 50% errors', false);
      await knob('Send traffic', false);
    },
    CHECK_MS,
  );
});
