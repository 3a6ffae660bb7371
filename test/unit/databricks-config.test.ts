import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  normaliseHost,
  parseDatabricksCfg,
  resolveDatabricksConnection,
} from '../../src/config/databricks-connection.js';

const noFile = {
  readFile: () => {
    throw new Error('ENOENT');
  },
  home: '/nowhere',
};

function issuesOf(fn: () => unknown) {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.issues;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('resolveDatabricksConnection', () => {
  it('returns nothing when no Databricks setting exists, so the bot can use the local twin', () => {
    expect(resolveDatabricksConnection({}, noFile)).toBeUndefined();
  });

  it('uses a personal access token from the environment and adds https:// to a bare host', () => {
    const c = resolveDatabricksConnection(
      { DATABRICKS_HOST: 'adb-1.2.azuredatabricks.net/', DATABRICKS_TOKEN: 'dapi123' },
      noFile,
    );
    expect(c).toMatchObject({
      host: 'https://adb-1.2.azuredatabricks.net',
      auth: { kind: 'pat', token: 'dapi123' },
    });
  });

  it('prefers OAuth machine-to-machine when a client id and secret are set', () => {
    const c = resolveDatabricksConnection(
      {
        DATABRICKS_HOST: 'https://h',
        DATABRICKS_TOKEN: 'dapi',
        DATABRICKS_CLIENT_ID: 'id',
        DATABRICKS_CLIENT_SECRET: 's',
      },
      noFile,
    );
    expect(c?.auth).toEqual({ kind: 'oauth-m2m', clientId: 'id', clientSecret: 's' });
  });

  it('refuses plain http:// to a host that is not loopback, so tokens never travel in clear', () => {
    const issues = issuesOf(() =>
      resolveDatabricksConnection(
        { DATABRICKS_HOST: 'http://adb-1.example.com', DATABRICKS_TOKEN: 't' },
        noFile,
      ),
    );
    expect(issues).toEqual([
      expect.objectContaining({ key: 'DATABRICKS_HOST', problem: expect.stringContaining('in clear') }),
    ]);
  });

  it('allows plain http:// to loopback addresses, where the twin runs', () => {
    expect(normaliseHost('http://127.0.0.1:8123')).toEqual({ host: 'http://127.0.0.1:8123' });
    expect(normaliseHost('http://localhost:9')).toEqual({ host: 'http://localhost:9' });
  });

  it('reports every problem at once: missing host and a half-set OAuth pair', () => {
    const issues = issuesOf(() => resolveDatabricksConnection({ DATABRICKS_CLIENT_ID: 'id' }, noFile));
    expect(issues.map((i) => i.key).sort()).toEqual(['DATABRICKS_CLIENT_SECRET', 'DATABRICKS_HOST']);
    for (const issue of issues) expect(issue.fix).not.toBe('');
  });

  it('reads the DEFAULT profile of ~/.databrickscfg when the environment is empty', () => {
    const c = resolveDatabricksConnection(
      {},
      {
        readFile: () => '[DEFAULT]\nhost = https://dbc-1.cloud.databricks.com\ntoken = dapiX\n',
        home: '/home/me',
      },
    );
    expect(c).toMatchObject({
      host: 'https://dbc-1.cloud.databricks.com',
      auth: { kind: 'pat', token: 'dapiX' },
    });
    expect(c?.source).toContain('[DEFAULT]');
  });

  it('reads the named profile and lets environment variables override it', () => {
    const file =
      '[DEFAULT]\nhost = https://a\ntoken = x\n\n[prod]\nhost = https://prod\nclient_id = cid\nclient_secret = sec\nwarehouse_id = wh1\n';
    const c = resolveDatabricksConnection(
      { DATABRICKS_CONFIG_PROFILE: 'prod', DATABRICKS_WAREHOUSE_ID: 'wh2' },
      { readFile: () => file, home: '/home/me' },
    );
    expect(c).toMatchObject({
      host: 'https://prod',
      auth: { kind: 'oauth-m2m', clientId: 'cid' },
      warehouseId: 'wh2',
    });
  });

  it('says which profile is missing from the config file', () => {
    const issues = issuesOf(() =>
      resolveDatabricksConnection(
        { DATABRICKS_CONFIG_PROFILE: 'staging' },
        { readFile: () => '[DEFAULT]\nhost=https://a\n' },
      ),
    );
    expect(issues[0]?.problem).toContain('[staging]');
  });
});

describe('parseDatabricksCfg', () => {
  it('ignores comments and keeps keys case-insensitive', () => {
    const s = parseDatabricksCfg('# c\n[p]\nHOST = https://x\n; other\n');
    expect(s.get('p')).toEqual({ host: 'https://x' });
  });
});
