import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import { loadConfig } from '../../../src/config/load.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { type Sandbox, startSandbox } from '../../../src/sandbox/start.js';

/** Debian's Chromium; CHROMIUM_PATH points elsewhere on other systems. Never a downloaded browser. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The flags known to work on this kind of machine: no network of its own, no GPU, no first-run UI. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Debian's Chromium driven by playwright-core (which never downloads a browser). Fails with the
 * install command when Chromium is missing.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM_PATH}. The browser test needs Debian's package: ` +
        'run `apt-get update && apt-get install -y chromium` as root (or `sh scripts/ensure-chromium.sh`), ' +
        'or set CHROMIUM_PATH to a Chromium binary. Never `npx playwright install`.',
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

/**
 * The whole sandbox as `npm start` runs it with nothing configured (both twins, the console), on free
 * ports, with no ~/.databrickscfg read.
 */
export async function startTestSandbox(): Promise<{ sandbox: Sandbox; stop(): Promise<void> }> {
  const home = mkdtempSync(join(tmpdir(), 'modelgate-e2e-home-'));
  const { config, policy } = loadConfig({ PORT: '0' }, { home });
  const sandbox = await startSandbox(config, policy, process.env.TEST_LOG ? console : silentLogger);
  return {
    sandbox,
    async stop() {
      await sandbox.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** How long the page may take to show the bot's answer (rollouts in the twin take about 2 s). */
export const SHOWS_WITHIN_MS = 15_000;

/**
 * The console as a person uses it: type in the composer, switch user or channel, press buttons.
 * Every method waits for what a person would wait for.
 */
export class ConsolePage {
  constructor(readonly page: Page) {}

  async open(url: string): Promise<void> {
    await this.page.goto(url);
    await this.page.locator('#connection.live').waitFor({ timeout: SHOWS_WITHIN_MS });
  }

  /** Types a line into the composer and sends it with Enter. */
  async type(text: string): Promise<void> {
    const input = this.page.locator('#composer-input');
    await input.fill(text);
    await input.press('Enter');
  }

  /** Switches the person the page acts as (riley, avery, vic) and waits for their view. */
  async actAs(name: string): Promise<void> {
    await this.page.locator('.user-choice', { hasText: name }).click();
    await this.page
      .locator('.user-choice[aria-pressed="true"]', { hasText: name })
      .waitFor({ timeout: SHOWS_WITHIN_MS });
    await this.page.locator('#connection.live').waitFor({ timeout: SHOWS_WITHIN_MS });
  }

  async openChannel(name: string): Promise<void> {
    await this.page.locator(`.channel-link[data-channel-name="${name}"]`).click();
    await this.page.locator('#channel-name', { hasText: `# ${name}` }).waitFor();
  }

  /**
   * The last top-level message of the channel showing `text` (waits until one does). The locator
   * follows that message by its ts, so it still finds it once the bot has updated it.
   */
  async message(text: string | RegExp): Promise<Locator> {
    const found = this.page.locator('#messages > .msg').filter({ hasText: text }).last();
    await found.waitFor({ timeout: SHOWS_WITHIN_MS });
    const ts = await found.getAttribute('data-ts');
    return this.page.locator(`#messages > .msg[data-ts="${ts}"]`);
  }

  /** Waits until some message of the channel shows `text`. */
  async sees(text: string | RegExp): Promise<Locator> {
    return this.message(text);
  }

  /** Presses a button of a message; answers its confirm dialog with `confirm` when one opens. */
  async press(message: Locator, label: string, confirm?: 'confirm' | 'deny'): Promise<void> {
    await message.locator('button[data-action-id]', { hasText: label }).click();
    if (confirm) {
      const dialog = this.page.locator('#confirm-dialog[open]');
      await dialog.waitFor({ timeout: SHOWS_WITHIN_MS });
      await dialog.locator(confirm === 'confirm' ? '#confirm-ok' : '#confirm-deny').click();
      await dialog.waitFor({ state: 'hidden' });
    }
  }

  /** Everything the messages pane shows, as text. */
  async channelText(): Promise<string> {
    return (await this.page.locator('#messages').textContent()) ?? '';
  }
}
