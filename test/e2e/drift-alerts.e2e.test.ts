/**
 * Drift alerts readable at a glance, in a real browser on the sandbox console (as `npm start` runs it):
 * the short alert, Details to the clicker only, a Snooze refused to vic (not a responder), and one
 * Retrain per model per episode. The steps depend on each other, in order.
 */
import type { Browser, Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsolePage, launchChromium, SHOWS_WITHIN_MS, startTestSandbox } from './support/console-page.js';

const STEP_MS = 30_000;

let browser: Browser;
let env: Awaited<ReturnType<typeof startTestSandbox>>;
let ui: ConsolePage;

beforeAll(async () => {
  browser = await launchChromium();
  env = await startTestSandbox();
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  ui = new ConsolePage(page);
  await ui.open(env.sandbox.console!.url);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await env?.stop();
});

const text = async (l: Locator) => (await l.textContent()) ?? '';
const buttons = async (l: Locator) => l.locator('button[data-action-id]').allTextContents();

describe('drift alerts in the console', () => {
  it(
    'shows a short alert: the threshold crossed and since when, the figures, and four buttons',
    async () => {
      await ui.type('/mlops drift');
      const alert = await ui.message(/Drift alert: churn · performance/);
      const shown = await text(alert);
      expect(shown).toMatch(
        /churn_model \(all versions\): f1_score\.macro below 0\.5 and \|expected_loss\| above 30 since \d{4}-\d\d-\d\d/,
      );
      expect(shown).toMatch(/f1_score\.macro [\d.]+ ✗ \(limit < 0\.5\)/);
      expect(shown).not.toMatch(/reference design/);
      expect((await buttons(alert)).map((b) => b.trim())).toEqual([
        'Retrain',
        'Snooze 24 h',
        'Acknowledge',
        'Details',
      ]);
    },
    STEP_MS,
  );

  it(
    'refuses a Snooze to vic, naming who may, and the alert stays as it was',
    async () => {
      await ui.actAs('vic');
      const alert = await ui.message(/Drift alert: churn · performance/);
      const before = await text(alert);
      await ui.press(alert, 'Snooze 24 h');
      const refusal = await ui.message(/may snooze alerts of churn/);
      expect(await text(refusal)).toMatch(/Only visible to you/);
      expect(await text(refusal)).toMatch(/Nothing was changed/);
      expect(await text(alert)).toBe(before);
      expect(await text(alert)).not.toMatch(/Snoozed until/);
    },
    STEP_MS,
  );

  it(
    'opens Details to the clicker only: the per-window table and how the counting works',
    async () => {
      const alert = await ui.message(/Drift alert: churn · performance/);
      await ui.press(alert, 'Details');
      const details = await ui.message(/Details: churn · performance/);
      expect(await text(details)).toMatch(/Only visible to you/);
      expect(await text(details)).toMatch(/reference design/);
    },
    STEP_MS,
  );

  it(
    'asks for retraining once: both alerts of the model then show the request instead of Retrain',
    async () => {
      await ui.actAs('riley');
      const drift = await ui.message(/Drift alert: churn · drift/);
      await ui.press(drift, 'Retrain');
      await expect
        .poll(() => text(drift), { timeout: SHOWS_WITHIN_MS })
        .toMatch(/Retrain requested by @riley/);
      const perf = await ui.message(/Drift alert: churn · performance/);
      await expect
        .poll(() => text(perf), { timeout: SHOWS_WITHIN_MS })
        .toMatch(/Retrain requested by @riley/);
      expect(await buttons(perf)).not.toContain('Retrain');
      const requests = env.sandbox
        .slack!.messages('C0APPROVALS')
        .filter((m) => /Retrain churn_model/.test(m.text));
      expect(requests).toHaveLength(1);
    },
    STEP_MS,
  );

  it(
    'snoozes for riley, a responder, and the alert says who',
    async () => {
      const alert = await ui.message(/Drift alert: churn · performance/);
      await ui.press(alert, 'Snooze 24 h');
      await expect
        .poll(() => text(alert), { timeout: SHOWS_WITHIN_MS })
        .toMatch(/Snoozed until .* by @riley/);
    },
    STEP_MS,
  );
});
