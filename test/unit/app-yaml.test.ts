import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { databricksEnvSchema } from '../../src/config/databricks-connection.js';
import { envSchema, parseEnv } from '../../src/config/env.js';

const root = new URL('../../', import.meta.url);
const appYamlSchema = z
  .object({
    command: z.array(z.string()).min(1),
    env: z.array(
      z.union([
        z.object({ name: z.string(), value: z.string() }).strict(),
        z.object({ name: z.string(), valueFrom: z.string() }).strict(),
      ]),
    ),
  })
  .strict();
const app = appYamlSchema.parse(parse(readFileSync(new URL('app.yaml', root), 'utf8')));
const READ = new Set([...Object.keys(envSchema.shape), ...Object.keys(databricksEnvSchema.shape)]);
/** What the platform sets itself: app.yaml must not override them. */
const INJECTED = [
  'DATABRICKS_HOST',
  'DATABRICKS_CLIENT_ID',
  'DATABRICKS_CLIENT_SECRET',
  'DATABRICKS_APP_PORT',
];

describe('app.yaml (the Databricks App)', () => {
  it('runs the compiled entry point with node, as a sequence (no shell)', () => {
    expect(app.command).toEqual(['node', 'dist/main.js']);
    expect(existsSync(new URL('src/main.ts', root))).toBe(true);
  });

  it('names only variables modelgate reads, and none the platform injects', () => {
    const names = app.env.map((e) => e.name);
    expect(names.filter((n) => !READ.has(n))).toEqual([]);
    expect(names.filter((n) => INJECTED.includes(n))).toEqual([]);
    expect(new Set(names).size).toBe(names.length);
  });

  it('takes every token and secret from a secret resource (valueFrom), never a literal', () => {
    const secretish = app.env.filter((e) => /TOKEN|SECRET|PASSWORD/.test(e.name));
    expect(secretish.map((e) => e.name).sort()).toEqual(['SLACK_APP_TOKEN', 'SLACK_BOT_TOKEN']);
    for (const e of secretish) expect(e).toHaveProperty('valueFrom');
  });

  it('with what the platform injects, starts in Socket Mode with /healthz on the app port and Lakebase', () => {
    const env: Record<string, string> = {
      DATABRICKS_HOST: 'adb-1.2.azuredatabricks.net',
      DATABRICKS_CLIENT_ID: 'app-sp',
      DATABRICKS_CLIENT_SECRET: 'app-sp-secret',
      DATABRICKS_APP_PORT: '8000',
    };
    const resources: Record<string, string> = {
      'slack-app-token': 'xapp-1-A1-secret',
      'slack-bot-token': 'xoxb-1-2-secret',
    };
    for (const e of app.env) env[e.name] = 'value' in e ? e.value : resources[e.valueFrom]!;
    const config = parseEnv(env, { readFile: () => '', home: '/nowhere' });
    expect(config.slack.mode).toBe('socket');
    expect(config.databricks?.auth.kind).toBe('oauth-m2m');
    expect(config.databricks?.host).toBe('https://adb-1.2.azuredatabricks.net');
    expect(config.healthPort).toBe(8000);
    expect(config.host).toBe('0.0.0.0');
    expect(config.lakebase).toEqual({ kind: 'provisioned', instance: 'modelgate' });
  });
});
