import { describe, expect, it } from 'vitest';
import { ConfigError, type ConfigIssue } from '../../src/config/databricks-connection.js';
import { parseEnv } from '../../src/config/env.js';

const noProfile = { readFile: () => '', home: '/nowhere' };
const parse = (env: Record<string, string>) => parseEnv(env, noProfile);
function issues(env: Record<string, string>): ConfigIssue[] {
  try {
    parse(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues;
    throw e;
  }
  return [];
}

describe('parseEnv: health port and Lakebase', () => {
  it('serves /healthz in Socket Mode on MODELGATE_HEALTH_PORT, else on a Databricks App port, else nowhere', () => {
    expect(parse({}).healthPort).toBeUndefined();
    expect(parse({ DATABRICKS_APP_PORT: '8000' }).healthPort).toBe(8000);
    expect(parse({ DATABRICKS_APP_PORT: '8000', MODELGATE_HEALTH_PORT: '9090' }).healthPort).toBe(9090);
  });

  it('refuses a health port that is not a port, saying how to fix it', () => {
    expect(issues({ MODELGATE_HEALTH_PORT: 'eighty' })).toEqual([
      expect.objectContaining({
        key: 'MODELGATE_HEALTH_PORT',
        problem: '"eighty" is not a port number',
        fix: expect.stringContaining('1 to 65535'),
      }),
    ]);
  });

  it('reads a Provisioned instance or an Autoscaling endpoint, not both', () => {
    expect(parse({}).lakebase).toBeUndefined();
    expect(parse({ MODELGATE_LAKEBASE_INSTANCE: 'modelgate' }).lakebase).toEqual({
      kind: 'provisioned',
      instance: 'modelgate',
    });
    const endpoint = 'projects/p1/branches/main/endpoints/primary';
    expect(parse({ MODELGATE_LAKEBASE_ENDPOINT: endpoint }).lakebase).toEqual({
      kind: 'autoscaling',
      endpoint,
    });
    expect(issues({ MODELGATE_LAKEBASE_INSTANCE: 'a', MODELGATE_LAKEBASE_ENDPOINT: endpoint })).toEqual([
      expect.objectContaining({
        key: 'MODELGATE_LAKEBASE_ENDPOINT',
        problem: expect.stringContaining('together'),
      }),
    ]);
    expect(issues({ MODELGATE_LAKEBASE_ENDPOINT: 'primary' })).toEqual([
      expect.objectContaining({
        key: 'MODELGATE_LAKEBASE_ENDPOINT',
        fix: expect.stringContaining('projects/<project>/branches/<branch>/endpoints/<endpoint>'),
      }),
    ]);
  });
});
