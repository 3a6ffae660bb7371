/**
 * The README's demo story, in a real browser: the sandbox exactly as `npm start` runs it with
 * nothing configured, and Debian's Chromium on its console. Each step types or clicks what a
 * person would, then checks what the page shows and what the Databricks twin now serves.
 * The steps depend on each other, in order, like the story.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/start.js';
import { DEMO } from '../../src/sandbox/workspace/demo.js';
import { ConsolePage, launchChromium, SHOWS_WITHIN_MS, startTestSandbox } from './support/console-page.js';

/** Set UPDATE_SCREENSHOT=1 to refresh the README's picture of the console. */
const SCREENSHOT = fileURLToPath(new URL('../../docs/console.png', import.meta.url));
/** A step that waits for a rollout or a job run (2 to 4 s each in the twin). */
const STEP_MS = 45_000;

let browser: Browser;
let env: Awaited<ReturnType<typeof startTestSandbox>>;
let sandbox: Sandbox;
let ui: ConsolePage;
/** The version the approved retraining registered. */
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

function workspace() {
  return sandbox.databricks!.workspace.state;
}

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

function aliasVersion(alias: string): number | undefined {
  return workspace().models.get(DEMO.model)?.aliases.get(alias.toLowerCase())?.version_num;
}

async function text(locator: Locator): Promise<string> {
  return (await locator.textContent()) ?? '';
}

/** Applies the plan the last command showed, confirming the dialog a protected endpoint puts on Apply. */
async function applyPlan(plan: RegExp, confirm?: 'confirm'): Promise<void> {
  const message = await ui.message(plan);
  await ui.press(message, 'Apply', confirm);
}

/** avery approves the pending request of `what` in #mlops-approvals, through the confirm dialog. */
async function approveAsAvery(what: RegExp): Promise<Locator> {
  await ui.actAs('avery');
  await ui.openChannel('mlops-approvals');
  const card = await ui.message(new RegExp(`Approval needed: ${what.source}`));
  await ui.press(card, 'Approve', 'confirm');
  return card;
}

describe('the demo story in the sandbox console', () => {
  it('binds everything to 127.0.0.1 and says in the banner which address to open', () => {
    expect(sandbox.console!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(sandbox.banner).toContain('SANDBOX');
    expect(sandbox.banner).toContain(`Open ${sandbox.console!.url}`);
    const loopback = /^https?:\/\/127\.0\.0\.1:\d+/;
    expect(sandbox.bot.eventsUrl).toMatch(loopback);
    expect(sandbox.slack!.url).toMatch(loopback);
    expect(sandbox.databricks!.workspace.url).toMatch(loopback);
    expect(sandbox.databricks!.warehouse.url).toMatch(loopback);
  });

  it(
    'shows riley the status of the endpoint, only to riley',
    async () => {
      await ui.type(`/mlops status ${DEMO.endpoint}`);
      const reply = await ui.message('Only visible to you');
      await expect.poll(() => text(reply)).toContain(DEMO.endpoint);
      expect(await text(reply)).toMatch(/churn_model v2/);
      expect(await reply.locator('.blk-header').count()).toBe(1);
      expect(await reply.locator('.blk-fields').count()).toBeGreaterThan(0);
    },
    STEP_MS,
  );

  it(
    'answers a query with the prediction of the served version',
    async () => {
      await ui.type(
        `/mlops query ${DEMO.endpoint} tenure=2 monthly_charges=95.5 contract=Month-to-month senior_citizen=1`,
      );
      const reply = await ui.message(/prediction/i);
      expect(await text(reply)).toMatch(/Only visible to you/);
    },
    STEP_MS,
  );

  it(
    'posts a drift alert with Retrain, Snooze and Acknowledge, and its chart in the thread',
    async () => {
      await ui.type('/mlops drift');
      const alert = await ui.message(/Drift alert: churn · drift/);
      for (const label of ['Retrain', 'Snooze 24 h', 'Acknowledge']) {
        expect(await alert.locator('button[data-action-id]', { hasText: label }).count(), label).toBe(1);
      }
      await alert.locator('.thread-toggle').click();
      const chart = alert.locator('.thread .msg-file img');
      await chart.waitFor({ timeout: SHOWS_WITHIN_MS });
      // The PNG the bot uploaded with files.uploadV2, served by the twin and drawn by the browser.
      await expect
        .poll(() => chart.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth))
        .toBeGreaterThan(100);
      expect(sandbox.slack!.calls('files.completeUploadExternal').length).toBeGreaterThan(0);
    },
    STEP_MS,
  );

  it(
    'turns Retrain into an approval request in #mlops-approvals that riley cannot approve',
    async () => {
      const alert = await ui.message(/Drift alert: churn · drift/);
      await ui.press(alert, 'Retrain');
      await ui.page
        .locator('.channel-link.unread', { hasText: 'mlops-approvals' })
        .waitFor({ timeout: SHOWS_WITHIN_MS });
      await ui.openChannel('mlops-approvals');
      const card = await ui.message(/Approval needed: Retrain churn_model/);
      expect(await card.locator('.btn-primary', { hasText: 'Approve' }).count()).toBe(1);
      expect(await card.locator('.btn-danger', { hasText: 'Reject' }).count()).toBe(1);

      await ui.press(card, 'Approve', 'confirm');
      const refusal = await ui.message(/Only visible to you/);
      expect(await text(refusal)).toMatch(/you cannot approve it/);
      expect([...workspace().runs.values()]).toHaveLength(0);
    },
    STEP_MS,
  );

  it(
    'saves the screenshot of a drift alert and an approval card when asked',
    async () => {
      if (!process.env.UPDATE_SCREENSHOT) return;
      const { url } = sandbox.console!;
      const shot = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
      await shot.setContent(
        '<body style="margin:0;display:flex">' +
          `<iframe id="left" src="${url}?user=U0REQUEST&channel=C0MLOPS" style="width:960px;height:1080px;border:0;border-right:4px solid #ddd"></iframe>` +
          `<iframe id="right" src="${url}?user=U0APPROVE&channel=C0APPROVALS" style="width:956px;height:1080px;border:0"></iframe>` +
          '</body>',
      );
      const left = shot.frameLocator('#left');
      const right = shot.frameLocator('#right');
      const alert = left.locator('#messages > .msg').filter({ hasText: /Drift alert: churn · drift/ });
      await alert.locator('.thread-toggle').click();
      const chart = alert.locator('.thread .msg-file img');
      await chart.waitFor();
      await expect
        .poll(() => chart.evaluate((img) => (img as unknown as { complete: boolean }).complete))
        .toBe(true);
      // The alert's buttons and its chart in the thread, at the bottom of the channel like a fresh post.
      await chart.evaluate((img) => img.scrollIntoView({ block: 'end' }));
      await right
        .locator('#messages > .msg')
        .filter({ hasText: /Approval needed: Retrain/ })
        .waitFor();
      await shot.waitForTimeout(300);
      mkdirSync(dirname(SCREENSHOT), { recursive: true });
      await shot.screenshot({ path: SCREENSHOT });
      await shot.close();
    },
    STEP_MS,
  );

  it(
    'runs the retraining job once avery approves, and the card says which version it registered',
    async () => {
      const card = await approveAsAvery(/Retrain churn_model/);
      await expect
        .poll(() => text(card), { timeout: STEP_MS - 5_000 })
        .toMatch(/Done: Retrain churn_model.*registered churn_model v\d+/s);
      const runs = [...workspace().runs.values()];
      expect(runs).toHaveLength(1);
      expect(runs[0]?.job_id).toBe(DEMO.jobId);
      retrained = Math.max(...workspace().models.get(DEMO.model)!.versions.keys());
      expect(retrained).toBeGreaterThan(DEMO.challengerVersion);
      expect(await text(card)).toContain(`churn_model v${retrained}`);
    },
    STEP_MS,
  );

  it(
    'makes the new version the Challenger, then the Champion, on riley’s Apply',
    async () => {
      await ui.actAs('riley');
      await ui.openChannel('mlops');
      await ui.type(`/mlops promote ${DEMO.modelName} ${retrained} Challenger`);
      await applyPlan(/Plan: .*Challenger/);
      await expect.poll(() => aliasVersion('Challenger'), { timeout: SHOWS_WITHIN_MS }).toBe(retrained);

      await ui.type(`/mlops promote ${DEMO.modelName} ${retrained} Champion`);
      await applyPlan(/Plan: .*Champion/);
      await expect.poll(() => aliasVersion('Champion'), { timeout: SHOWS_WITHIN_MS }).toBe(retrained);
      await ui.sees(/Champion → churn_model v\d+ — done/);
    },
    STEP_MS,
  );

  it(
    'rolls the endpoint out to the new version when avery approves Production',
    async () => {
      await ui.type(`/mlops promote ${DEMO.modelName} ${retrained} Production`);
      await ui.sees(/Approval requested/);
      expect(aliasVersion('Production')).toBeUndefined();

      await approveAsAvery(/.*Production/);
      await expect.poll(() => aliasVersion('Production'), { timeout: STEP_MS - 5_000 }).toBe(retrained);
      expect(servedTraffic()).toEqual({ [retrained]: 100 });
    },
    STEP_MS,
  );

  it(
    'keeps vic, who has no rights, from deploying, and tells only vic',
    async () => {
      await ui.actAs('vic');
      await ui.openChannel('mlops');
      await ui.type(`/mlops deploy ${DEMO.modelName} 3`);
      const refusal = await ui.message(/may deploy/);
      expect(await text(refusal)).toMatch(/Only visible to you/);
      // riley's status and query answers were for riley alone.
      expect(await ui.channelText()).not.toMatch(/answered 1 record/);
      expect(await ui.page.locator('#messages .msg-ephemeral').count()).toBe(1);
      expect(servedTraffic()).toEqual({ [retrained]: 100 });
    },
    STEP_MS,
  );

  it(
    'splits traffic 90/10 after riley confirms the protected-endpoint dialog',
    async () => {
      await ui.actAs('riley');
      await ui.type(`/mlops split ${DEMO.endpoint} ${retrained}=90 ${DEMO.championVersion}=10`);
      await applyPlan(/Plan: Split traffic/, 'confirm');
      const progress = await ui.message(/Traffic split on churn-endpoint — done/);
      expect(await text(progress)).toMatch(/90%.*10%/);
      expect(servedTraffic()).toEqual({ [retrained]: 90, [DEMO.championVersion]: 10 });
    },
    STEP_MS,
  );

  it(
    'rolls the split back when riley applies the rollback',
    async () => {
      await ui.type(`/mlops rollback ${DEMO.endpoint}`);
      await applyPlan(/Plan: .*[Rr]oll/, 'confirm');
      await expect.poll(() => servedTraffic(), { timeout: SHOWS_WITHIN_MS }).toEqual({ [retrained]: 100 });
      expect(sandbox.slack!.unknownCalls()).toEqual([]);
    },
    STEP_MS,
  );
});
