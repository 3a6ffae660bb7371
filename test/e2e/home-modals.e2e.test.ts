/**
 * The App Home and the modals in a real browser: the sandbox as `npm start` runs it, Debian's
 * Chromium on its console. A deploy goes through the deploy modal (its selects filled by the app
 * through block_suggestion) to an applied rollout; the Home tab shows a pending approval.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/start.js';
import { DEMO } from '../../src/sandbox/workspace/demo.js';
import { ConsolePage, launchChromium, SHOWS_WITHIN_MS, startTestSandbox } from './support/console-page.js';

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

const served = () =>
  sandbox
    .databricks!.workspace.state.endpoints.get(DEMO.endpoint)
    ?.config?.served_entities.map((e) => e.entity_version);

/** Opens an external select so the app fills it, then picks the option showing `label`. */
async function pick(block: string, label: string | RegExp) {
  const select = ui.page.locator(`#modal-dialog select[data-input-block="${block}"]`);
  await select.focus();
  const option = select.locator('option', { hasText: label });
  await option.first().waitFor({ state: 'attached', timeout: SHOWS_WITHIN_MS });
  const value = await option.first().getAttribute('value');
  await select.selectOption(value!);
}

describe('the Home tab and the modals in the sandbox console', () => {
  it(
    'deploys through the deploy modal: model, version and endpoint picked, the plan applied',
    async () => {
      await ui.type('/mlops deploy');
      const dialog = ui.page.locator('#modal-dialog[open]');
      await dialog.waitFor({ timeout: SHOWS_WITHIN_MS });
      expect(await ui.page.locator('#modal-title').textContent()).toBe('Deploy a model');
      // Submitting with nothing picked shows the app's field errors, and keeps the modal open.
      await ui.page.locator('#modal-submit').click();
      await dialog.locator('.blk-input-error').first().waitFor({ timeout: SHOWS_WITHIN_MS });
      expect(await dialog.locator('.blk-input-error').allTextContents()).toContain('Pick a model.');

      await pick('deploy-model', 'churn_model');
      await pick('deploy-version', 'v3 · Challenger');
      await pick('deploy-endpoint', DEMO.endpoint);
      await ui.page.locator('#modal-submit').click();
      await dialog.waitFor({ state: 'hidden', timeout: SHOWS_WITHIN_MS });

      const plan = await ui.message(/Deploy churn_model v3 to churn-endpoint/);
      await plan.locator('button[data-action-id]', { hasText: 'Apply' }).click();
      const confirm = ui.page.locator('#confirm-dialog[open]');
      if (await confirm.isVisible().catch(() => false)) await confirm.locator('#confirm-ok').click();
      await ui.sees(/Deployed|serves churn_model v3 100%|done/i);
      await expect.poll(served, { timeout: STEP_MS }).toEqual(['3']);
    },
    STEP_MS * 2,
  );

  it(
    'shows a pending approval on the approver’s Home tab, with its buttons',
    async () => {
      await ui.type('/mlops promote churn_model 3 Production');
      await ui.sees(/approval/i);
      await ui.actAs('avery');
      await ui.page.locator('#home-link').click();
      const home = ui.page.locator('#messages .home-view');
      await home.filter({ hasText: 'Production → churn_model v3' }).waitFor({ timeout: SHOWS_WITHIN_MS });
      const text = (await home.textContent()) ?? '';
      expect(text).toContain('Waiting for your approval');
      expect(text).toContain(DEMO.endpoint);
      expect(await home.locator('button[data-action-id="approval-approve"]').count()).toBe(1);
      expect(await home.locator('button[data-action-id="approval-reject"]').count()).toBe(1);
      // The DM pane lists the viewer's conversations with the app (none yet, or the app's DMs).
      expect(await ui.page.locator('#dm-list').count()).toBe(1);
    },
    STEP_MS,
  );
});
