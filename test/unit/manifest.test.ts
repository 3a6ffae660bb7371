import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SLASH_COMMANDS, SUBCOMMANDS } from '../../src/commands/index.js';
import { DEFAULT_BOT_SCOPES } from '../../src/sandbox/slack/seed.js';
import { BOT_EVENTS, BOT_SCOPE_USES, BOT_SCOPES } from '../../src/slack/scopes.js';

interface Manifest {
  _metadata?: { major_version?: number };
  display_information: { name: string; description?: string; background_color?: string };
  features: {
    bot_user: { display_name: string; always_online?: boolean };
    app_home?: { home_tab_enabled?: boolean; messages_tab_enabled?: boolean };
    slash_commands: Array<{ command: string; description: string; usage_hint?: string; url?: string }>;
  };
  oauth_config: { scopes: { bot: string[]; user?: string[] } };
  settings: {
    interactivity: { is_enabled: boolean; request_url?: string };
    socket_mode_enabled: boolean;
    org_deploy_enabled?: boolean;
    event_subscriptions?: { bot_events?: string[]; request_url?: string };
  };
}

const manifest = parse(readFileSync(new URL('../../manifest.yml', import.meta.url), 'utf8')) as Manifest;

describe('manifest.yml', () => {
  it('lists exactly the slash commands the app registers', () => {
    expect(manifest.features.slash_commands.map((c) => c.command).sort()).toEqual([...SLASH_COMMANDS].sort());
  });

  it('asks for exactly the bot scopes the code uses, and no user scopes', () => {
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual([...BOT_SCOPES].sort());
    expect(manifest.oauth_config.scopes.user).toBeUndefined();
  });

  it('documents why each bot scope is needed', () => {
    for (const scope of BOT_SCOPES) expect(BOT_SCOPE_USES[scope].length).toBeGreaterThan(10);
  });

  it('enables interactivity for the Apply and Cancel buttons, and Socket Mode', () => {
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(manifest.settings.socket_mode_enabled).toBe(true);
    expect(manifest.settings.org_deploy_enabled).toBe(false);
  });

  it('subscribes to exactly the events the app listens to, and enables the Home tab it publishes', async () => {
    expect([...(manifest.settings.event_subscriptions?.bot_events ?? [])].sort()).toEqual(
      [...BOT_EVENTS].sort(),
    );
    expect(manifest.features.app_home?.home_tab_enabled).toBe(BOT_EVENTS.includes('app_home_opened'));
    // app.ts registers a listener for each of them, and for no other event.
    const app = readFileSync(new URL('../../src/app.ts', import.meta.url), 'utf8');
    const registered = [...app.matchAll(/app\.event\('([a-z_]+)'/g)].map((m) => m[1]);
    expect(registered.sort()).toEqual([...BOT_EVENTS].sort());
  });

  it("stays within Slack's manifest limits", () => {
    expect(manifest._metadata?.major_version).toBe(1);
    expect(manifest.display_information.name.length).toBeLessThanOrEqual(35);
    expect(manifest.display_information.description?.length ?? 0).toBeLessThanOrEqual(140);
    expect(manifest.display_information.background_color).toMatch(/^#[0-9a-fA-F]{6}$/);
    expect(manifest.features.bot_user.display_name).toMatch(/^[a-z0-9._-]{1,80}$/);
    for (const command of manifest.features.slash_commands) {
      expect(command.command).toMatch(/^\/[a-z0-9_-]{1,31}$/);
      expect(command.description.length).toBeGreaterThan(0);
      expect(command.description.length).toBeLessThanOrEqual(2000);
      expect(command.usage_hint?.length ?? 0).toBeLessThanOrEqual(1000);
    }
  });

  it('mentions every subcommand in the usage hint of /mlops', () => {
    const hint = manifest.features.slash_commands.find((c) => c.command === '/mlops')?.usage_hint ?? '';
    for (const name of Object.keys(SUBCOMMANDS)) expect(hint).toContain(name);
  });

  it('leaves request URLs out: Socket Mode ignores them (HTTP mode adds them, see the comments)', () => {
    expect(manifest.features.slash_commands.every((c) => c.url === undefined)).toBe(true);
    expect(manifest.settings.interactivity.request_url).toBeUndefined();
    expect(manifest.settings.event_subscriptions?.request_url).toBeUndefined();
  });

  it('shows the DMs the bot sends in the Messages tab, read-only (the bot reads no replies)', () => {
    const features = manifest.features as Manifest['features'] & {
      app_home?: { messages_tab_enabled?: boolean; messages_tab_read_only_enabled?: boolean };
    };
    expect(features.app_home?.messages_tab_enabled).toBe(true);
    expect(features.app_home?.messages_tab_read_only_enabled).toBe(true);
  });

  it("grants the Slack twin's bot token at least the manifest's scopes", () => {
    for (const scope of BOT_SCOPES) expect(DEFAULT_BOT_SCOPES).toContain(scope);
  });
});
