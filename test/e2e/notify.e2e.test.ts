/**
 * Notifications in a real browser, on the sandbox as `npm start` runs it: the approver group is
 * pinged on the card, avery approves from the bot's DM (under the console's Direct messages, the
 * viewer's own DMs with the app), and riley hears how it went by DM.
 */
import type { Browser, Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVALS_CHANNEL_ID, APPROVERS_USERGROUP_ID } from '../../src/sandbox/slack/index.js';
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

const aliasVersion = (alias: string) =>
  sandbox.databricks!.workspace.state.models.get(DEMO.model)?.aliases.get(alias.toLowerCase())?.version_num;

/**
 * Opens the viewer's DM with the bot: the one entry of the console's Direct messages pane, named
 * after the app as Slack does; the conversation itself is `dm-<name>`.
 */
async function openDm(name: string): Promise<void> {
  await ui.page.locator('#dm-list .channel-link').click();
  await ui.page.locator('#channel-name', { hasText: `dm-${name}` }).waitFor({ timeout: SHOWS_WITHIN_MS });
}

async function text(locator: Locator): Promise<string> {
  return (await locator.textContent()) ?? '';
}

describe('the people a request concerns are told, with the button in front of them', () => {
  it(
    'pings the approver group on the card and DMs avery the request',
    async () => {
      await ui.actAs('riley');
      await ui.openChannel('mlops');
      await ui.type(`/mlops promote ${DEMO.modelName} 3 Production`);
      await ui.sees(/Approval requested/);
      const card = sandbox
        .slack!.state.messages(APPROVALS_CHANNEL_ID)
        .find((m) => /Approval needed/.test(m.text ?? ''));
      expect(card?.text).toContain(`<!subteam^${APPROVERS_USERGROUP_ID}>`);
      await ui.actAs('avery');
      await ui.openChannel('mlops-approvals');
      expect(await text(await ui.message(/Approval needed: Production/))).toContain('Approvers:');
    },
    STEP_MS,
  );

  it(
    'lets avery approve from the DM: Production moves, and every copy loses its buttons',
    async () => {
      await openDm('avery');
      const dm = await ui.message(/asks for your approval/);
      await ui.press(dm, 'Approve', 'confirm');
      await expect.poll(() => aliasVersion('Production'), { timeout: STEP_MS - 5_000 }).toBe(3);
      await expect
        .poll(async () => dm.locator('button[data-action-id]').count(), { timeout: SHOWS_WITHIN_MS })
        .toBe(0);
    },
    STEP_MS,
  );

  it(
    'tells riley by DM that the request was approved and is done',
    async () => {
      await ui.actAs('riley');
      await openDm('riley');
      expect(await text(await ui.message(/was approved by/))).toContain('Production');
      expect(await text(await ui.message(/is done/))).toContain('Production');
    },
    STEP_MS,
  );
});
