import { describe, expect, it } from 'vitest';
import { ConfigError, type ConfigIssue } from '../../src/config/databricks-connection.js';
import {
  DEFAULT_DB_PATH,
  DEFAULT_STORE_WAIT_SECONDS,
  describeConfig,
  displayPath,
  EXAMPLE_POLICY_PATH,
  formatConfigError,
  parseEnv,
} from '../../src/config/env.js';
import { loadConfig } from '../../src/config/load.js';

/** No ~/.databrickscfg: the tests see only the variables they pass. */
const noProfile = {
  readFile: () => {
    throw new Error('ENOENT');
  },
  home: '/nowhere',
};

const BOT = 'xoxb-1111-2222-secretbotvalue';
const APP = 'xapp-1-A111-secretappvalue';
const SECRET = '8f14e45fceea167a5a36dedd4bea2543';
const POLICY = 'modelgate.yml';

function issuesOf(fn: () => unknown): ConfigIssue[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.issues;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

const parse = (env: Record<string, string | undefined>) => parseEnv(env, noProfile);
const issues = (env: Record<string, string | undefined>) => issuesOf(() => parse(env));

describe('parseEnv: Slack modes', () => {
  it('uses Socket Mode when an app-level token is set', () => {
    const config = parse({ SLACK_APP_TOKEN: APP, SLACK_BOT_TOKEN: BOT, MODELGATE_CONFIG: POLICY });
    expect(config.slack).toEqual({ mode: 'socket', botToken: BOT, appToken: APP });
  });

  it('uses HTTP mode with the signing secret otherwise, on PORT or 3000', () => {
    expect(
      parse({ SLACK_BOT_TOKEN: BOT, SLACK_SIGNING_SECRET: SECRET, MODELGATE_CONFIG: POLICY }),
    ).toMatchObject({
      slack: { mode: 'http', botToken: BOT, signingSecret: SECRET },
      port: 3000,
    });
    expect(
      parse({ SLACK_BOT_TOKEN: BOT, SLACK_SIGNING_SECRET: SECRET, MODELGATE_CONFIG: POLICY, PORT: '8080' })
        .port,
    ).toBe(8080);
  });

  it('runs the sandbox when no Slack variable is set, with the example policy and the twins', () => {
    expect(parse({})).toEqual({
      slack: { mode: 'sandbox' },
      port: 3000,
      databricks: undefined,
      policyPath: EXAMPLE_POLICY_PATH,
      dbPath: DEFAULT_DB_PATH,
      database: { kind: 'sqlite', path: DEFAULT_DB_PATH },
      storeWaitMs: DEFAULT_STORE_WAIT_SECONDS * 1000,
      logLevel: 'info',
      host: '127.0.0.1',
      queueLimit: 200,
    });
  });

  it('treats empty and blank values as unset', () => {
    expect(parse({ SLACK_BOT_TOKEN: '', SLACK_APP_TOKEN: '  ', PORT: '' }).slack.mode).toBe('sandbox');
  });

  it('accepts rotating bot tokens (xoxe.xoxb-)', () => {
    const config = parse({
      SLACK_APP_TOKEN: APP,
      SLACK_BOT_TOKEN: 'xoxe.xoxb-1-abc',
      MODELGATE_CONFIG: POLICY,
    });
    expect(config.slack.mode).toBe('socket');
  });

  it('replaces the Web API base URL with SLACK_API_URL, adding the trailing slash', () => {
    const config = parse({
      SLACK_APP_TOKEN: APP,
      SLACK_BOT_TOKEN: BOT,
      SLACK_API_URL: 'https://slack-gov.com/api',
      MODELGATE_CONFIG: POLICY,
    });
    expect(config.slack).toMatchObject({ apiUrl: 'https://slack-gov.com/api/' });
  });

  it('allows plain http for SLACK_API_URL only on loopback', () => {
    const ok = parse({
      SLACK_BOT_TOKEN: BOT,
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_API_URL: 'http://127.0.0.1:4010/api/',
      MODELGATE_CONFIG: POLICY,
    });
    expect(ok.slack).toMatchObject({ apiUrl: 'http://127.0.0.1:4010/api/' });
    expect(
      issues({
        SLACK_BOT_TOKEN: BOT,
        SLACK_SIGNING_SECRET: SECRET,
        SLACK_API_URL: 'http://slack.internal/api/',
        MODELGATE_CONFIG: POLICY,
      }),
    ).toEqual([
      expect.objectContaining({ key: 'SLACK_API_URL', problem: expect.stringContaining('in clear') }),
    ]);
  });
});

describe('parseEnv: problems', () => {
  it.each([
    {
      name: 'HTTP mode without the signing secret',
      env: { SLACK_BOT_TOKEN: BOT, MODELGATE_CONFIG: POLICY },
      want: [
        { key: 'SLACK_SIGNING_SECRET', fix: expect.stringContaining('SLACK_APP_TOKEN to use Socket Mode') },
      ],
    },
    {
      name: 'HTTP mode without the bot token',
      env: { SLACK_SIGNING_SECRET: SECRET, MODELGATE_CONFIG: POLICY },
      want: [{ key: 'SLACK_BOT_TOKEN', problem: 'is not set' }],
    },
    {
      name: 'Socket Mode without the bot token',
      env: { SLACK_APP_TOKEN: APP, MODELGATE_CONFIG: POLICY },
      want: [{ key: 'SLACK_BOT_TOKEN', problem: expect.stringContaining('Socket Mode needs it') }],
    },
    {
      name: 'the two tokens swapped',
      env: { SLACK_APP_TOKEN: BOT, SLACK_BOT_TOKEN: APP, MODELGATE_CONFIG: POLICY },
      want: [
        { key: 'SLACK_BOT_TOKEN', problem: 'is an app-level token (xapp-), not the bot token' },
        { key: 'SLACK_APP_TOKEN', problem: 'is a bot token (xoxb-), not an app-level token (xapp-)' },
      ],
    },
    {
      name: 'a user token as the bot token',
      env: { SLACK_BOT_TOKEN: 'xoxp-1-user', SLACK_SIGNING_SECRET: SECRET, MODELGATE_CONFIG: POLICY },
      want: [{ key: 'SLACK_BOT_TOKEN', problem: 'is a user token (xoxp-), not the bot token' }],
    },
    {
      name: 'a token pasted as the signing secret',
      env: { SLACK_BOT_TOKEN: BOT, SLACK_SIGNING_SECRET: BOT, MODELGATE_CONFIG: POLICY },
      want: [{ key: 'SLACK_SIGNING_SECRET', problem: 'is a bot token (xoxb-), not the signing secret' }],
    },
    {
      name: 'no policy file outside the sandbox',
      env: { SLACK_BOT_TOKEN: BOT, SLACK_SIGNING_SECRET: SECRET },
      want: [{ key: 'MODELGATE_CONFIG', problem: 'is not set' }],
    },
    {
      name: 'SLACK_API_URL alone',
      env: { SLACK_API_URL: 'https://slack-gov.com/api/' },
      want: [
        { key: 'SLACK_API_URL', problem: 'is set but no Slack token is' },
        { key: 'MODELGATE_CONFIG', problem: 'is not set' },
      ],
    },
    {
      name: 'a port that is not a number',
      env: { PORT: '80a' },
      want: [{ key: 'PORT', problem: '"80a" is not a port number' }],
    },
    {
      name: 'an unknown log level',
      env: { LOG_LEVEL: 'verbose' },
      want: [{ key: 'LOG_LEVEL', fix: expect.stringContaining('debug, info, warn, error') }],
    },
  ])('reports $name', ({ env, want }) => {
    expect(issues(env)).toEqual(want.map((w) => expect.objectContaining(w)));
  });

  it('reports Slack, Databricks and other problems together', () => {
    const found = issues({ SLACK_BOT_TOKEN: BOT, DATABRICKS_TOKEN: 'dapi-x', PORT: 'x' });
    expect(found.map((i) => i.key).sort()).toEqual(
      ['DATABRICKS_HOST', 'MODELGATE_CONFIG', 'PORT', 'SLACK_SIGNING_SECRET'].sort(),
    );
  });

  it('never puts a token or secret into a message', () => {
    const found = issues({
      SLACK_BOT_TOKEN: APP,
      SLACK_APP_TOKEN: BOT,
      SLACK_SIGNING_SECRET: 'xoxp-9-secretuservalue',
      DATABRICKS_TOKEN: 'dapi-secretdatabricksvalue',
    });
    const text = formatConfigError(new ConfigError(found));
    for (const secret of ['secretbotvalue', 'secretappvalue', 'secretuservalue', 'secretdatabricksvalue']) {
      expect(text).not.toContain(secret);
    }
  });
});

describe('parseEnv: the rest', () => {
  it('reads how long start-up waits for a store another process holds, and refuses what is not seconds', () => {
    expect(parse({ MODELGATE_STORE_WAIT_SECONDS: '0' }).storeWaitMs).toBe(0);
    expect(parse({ MODELGATE_STORE_WAIT_SECONDS: '120' }).storeWaitMs).toBe(120_000);
    expect(issues({ MODELGATE_STORE_WAIT_SECONDS: '2m' })).toEqual([
      expect.objectContaining({
        key: 'MODELGATE_STORE_WAIT_SECONDS',
        problem: '"2m" is not a number of seconds',
        fix: expect.stringContaining('0 (refuse at once'),
      }),
    ]);
  });

  it('chooses Postgres from MODELGATE_DATABASE_URL, or from PGHOST without it, and SQLite otherwise', () => {
    expect(parse({}).database).toEqual({ kind: 'sqlite', path: '.data/modelgate.db' });
    expect(
      parse({ MODELGATE_DATABASE_URL: 'postgresql://app:pw@db.internal:6432/modelgate' }).database,
    ).toEqual({
      kind: 'postgres',
      postgres: { connectionString: 'postgresql://app:pw@db.internal:6432/modelgate' },
    });
    expect(
      parse({ PGHOST: 'db.internal', PGPORT: '5433', PGUSER: 'app', PGDATABASE: 'mg' }).database,
    ).toEqual({
      kind: 'postgres',
      postgres: { host: 'db.internal', port: 5433, user: 'app', database: 'mg' },
    });
    // The URL wins over the PG* variables.
    expect(parse({ MODELGATE_DATABASE_URL: 'postgres://a@x/y', PGHOST: 'other' }).database).toMatchObject({
      postgres: { connectionString: 'postgres://a@x/y' },
    });
    expect(describeConfig(parse({ MODELGATE_DATABASE_URL: 'postgres://app:secretpw@db:5432/mg' }))).toContain(
      'store: Postgres db:5432/mg',
    );
    expect(
      describeConfig(parse({ MODELGATE_DATABASE_URL: 'postgres://app:secretpw@db:5432/mg' })),
    ).not.toContain('secretpw');
  });

  it('refuses a malformed database URL with the fix, and never shows the URL (it may hold a password)', () => {
    for (const bad of ['mysql://app@db/mg', 'postgres://', 'postgres://app:pw@db:99999/mg']) {
      const found = issues({ MODELGATE_DATABASE_URL: bad });
      expect(found).toEqual([
        expect.objectContaining({
          key: 'MODELGATE_DATABASE_URL',
          fix: expect.stringContaining('postgres://user:password@host:5432/database'),
        }),
      ]);
      expect(JSON.stringify(found)).not.toContain('pw@');
    }
    expect(issues({ PGHOST: 'db', PGPORT: 'five' })).toEqual([expect.objectContaining({ key: 'PGPORT' })]);
  });

  it('reads the store path, log level and Databricks connection', () => {
    const config = parse({
      MODELGATE_DB: '/var/lib/modelgate/changes.db',
      LOG_LEVEL: 'WARNING',
      DATABRICKS_HOST: 'adb-1.2.azuredatabricks.net',
      DATABRICKS_TOKEN: 'dapi-1',
    });
    expect(config.dbPath).toBe('/var/lib/modelgate/changes.db');
    expect(config.logLevel).toBe('warn');
    expect(config.databricks).toMatchObject({
      host: 'https://adb-1.2.azuredatabricks.net',
      source: 'environment',
    });
  });

  it('describes a configuration in one line without secrets', () => {
    const line = describeConfig(
      parse({
        SLACK_APP_TOKEN: APP,
        SLACK_BOT_TOKEN: BOT,
        MODELGATE_CONFIG: POLICY,
        DATABRICKS_HOST: 'https://adb-1.azuredatabricks.net',
        DATABRICKS_TOKEN: 'dapi-secretdatabricksvalue',
      }),
    );
    expect(line).toBe(
      'Slack: Socket Mode; Databricks: https://adb-1.azuredatabricks.net (environment, personal access token); policy: modelgate.yml; store: .data/modelgate.db',
    );
  });

  it('listens on 0.0.0.0 in HTTP mode and on loopback in the sandbox unless HOST says otherwise', () => {
    const http = { SLACK_BOT_TOKEN: BOT, SLACK_SIGNING_SECRET: SECRET, MODELGATE_CONFIG: POLICY };
    expect(parse(http).host).toBe('0.0.0.0');
    expect(parse({}).host).toBe('127.0.0.1');
    expect(parse({ ...http, HOST: '10.1.2.3' }).host).toBe('10.1.2.3');
    expect(parse({ ...http, HOST: '::' }).host).toBe('::');
    expect(parse({ ...http, HOST: 'bot.internal' }).host).toBe('bot.internal');
    expect(parse({ HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
    expect(parse({ ...http, HOST: ' ' }).host).toBe('0.0.0.0');
    expect(describeConfig(parse({ ...http, HOST: '10.1.2.3', PORT: '8080' }))).toContain(
      'Slack: HTTP mode on 10.1.2.3:8080',
    );
  });

  it('bounds the queue of acknowledged work at MODELGATE_QUEUE_LIMIT, 200 by default', () => {
    expect(parse({}).queueLimit).toBe(200);
    expect(parse({ MODELGATE_QUEUE_LIMIT: '50' }).queueLimit).toBe(50);
    expect(parse({ MODELGATE_QUEUE_LIMIT: '0' }).queueLimit).toBe(0);
  });

  it('reports a bad HOST and a bad queue limit together with every other problem', () => {
    const found = issues({
      SLACK_BOT_TOKEN: BOT,
      SLACK_SIGNING_SECRET: SECRET,
      HOST: 'http://0.0.0.0:3000',
      PORT: 'eighty',
      MODELGATE_QUEUE_LIMIT: '-5',
    });
    expect(found.map((i) => i.key).sort()).toEqual([
      'HOST',
      'MODELGATE_CONFIG',
      'MODELGATE_QUEUE_LIMIT',
      'PORT',
    ]);
    expect(found.find((i) => i.key === 'HOST')).toMatchObject({
      problem: '"http://0.0.0.0:3000" is not an IP address or host name',
      fix: expect.stringContaining('e.g. 127.0.0.1 or 0.0.0.0'),
    });
    expect(found.find((i) => i.key === 'MODELGATE_QUEUE_LIMIT')?.fix).toContain('unset it for 200');
  });

  it('shows paths below the working directory relative to it', () => {
    expect(displayPath('/srv/app/modelgate.yml', '/srv/app')).toBe('modelgate.yml');
    expect(displayPath('/etc/modelgate.yml', '/srv/app')).toBe('/etc/modelgate.yml');
    expect(displayPath('conf/modelgate.yml', '/srv/app')).toBe('conf/modelgate.yml');
  });
});

describe('formatConfigError', () => {
  it('lists each problem with its key, line and fix, then points at doctor', () => {
    const text = formatConfigError(
      new ConfigError([
        { key: 'SLACK_BOT_TOKEN', problem: 'is not set', fix: 'set it' },
        {
          key: 'modelgate.yml: access.deploy.users[1]',
          problem: '"riley" is not a Slack user id',
          fix: 'use the id',
          line: 12,
        } as ConfigIssue,
      ]),
    );
    expect(text).toBe(
      [
        'modelgate cannot start: 2 problems in the configuration.',
        '',
        '  ✗ SLACK_BOT_TOKEN: is not set',
        '      fix: set it',
        '  ✗ modelgate.yml: access.deploy.users[1] (line 12): "riley" is not a Slack user id',
        '      fix: use the id',
        '',
        'Fix these, then run `npm run doctor` to check the connections as well.',
      ].join('\n'),
    );
  });
});

describe('loadConfig', () => {
  it('loads the environment and the policy it names', () => {
    const { config, policy } = loadConfig({}, noProfile);
    expect(config.slack.mode).toBe('sandbox');
    expect(policy.defaults.catalog).toBe('acme');
  });

  it('reports environment and policy problems in one error, policy keys prefixed with the file', () => {
    const found = issuesOf(() =>
      loadConfig(
        { SLACK_BOT_TOKEN: BOT, MODELGATE_CONFIG: 'team.yml' },
        {
          ...noProfile,
          readPolicy: () => 'defaults: { catalog: acme, schema: mlops }\nchanels: [C0MLOPS]\n',
        },
      ),
    );
    expect(found).toEqual([
      expect.objectContaining({ key: 'SLACK_SIGNING_SECRET' }),
      expect.objectContaining({ key: 'team.yml: chanels', fix: 'rename it to channels', line: 2 }),
    ]);
  });
});
