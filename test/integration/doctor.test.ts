import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXAMPLE_POLICY_PATH } from '../../src/config/env.js';
import {
  type CheckResult,
  checkConfiguration,
  createDoctorDeps,
  type DoctorTargets,
  doctor,
  formatResults,
  runDoctor,
} from '../../src/doctor/cli.js';
import { type SlackTwin, startSlackTwin } from '../../src/sandbox/slack/start-slack-twin.js';
import { type DatabricksTwins, startDatabricksTwins } from '../../src/sandbox/start.js';
import { seedDemoWorkspace } from '../../src/sandbox/workspace/demo.js';
import { startWorkspaceTwin, type WorkspaceTwin } from '../../src/sandbox/workspace/server.js';

const fixture = (name: string) => new URL(`../fixtures/policy/${name}`, import.meta.url).pathname;
/** No ~/.databrickscfg: only the variables a test passes count. */
const noProfile = {
  readFile: () => {
    throw new Error('ENOENT');
  },
  home: '/nowhere',
};

let slack: SlackTwin;
let workspace: WorkspaceTwin;

beforeEach(async () => {
  [slack, workspace] = await Promise.all([
    startSlackTwin(),
    startWorkspaceTwin({ state: seedDemoWorkspace() }),
  ]);
});

afterEach(async () => {
  expect(slack.unknownCalls()).toEqual([]);
  await Promise.all([slack.stop(), workspace.stop()]);
});

/** A production-shaped environment pointing at the two twins. */
function envFor(overrides: Record<string, string | undefined> = {}) {
  return {
    SLACK_BOT_TOKEN: slack.botToken,
    SLACK_SIGNING_SECRET: 'sandbox-signing-secret',
    SLACK_API_URL: slack.apiUrl,
    DATABRICKS_HOST: workspace.url,
    DATABRICKS_TOKEN: workspace.token,
    MODELGATE_CONFIG: EXAMPLE_POLICY_PATH,
    MODELGATE_DB: ':memory:',
    ...overrides,
  };
}

const find = (results: CheckResult[], name: string) => results.find((r) => r.name === name);
const failures = (results: CheckResult[]) => results.filter((r) => r.status === 'fail');

describe('doctor against the twins', () => {
  it('tells a wrong Databricks token by its 401 and says how to get a new one', async () => {
    const results = await doctor(envFor({ DATABRICKS_TOKEN: 'dapi-wrong-secret' }), noProfile);
    expect(find(results, 'Databricks')).toEqual({
      status: 'fail',
      name: 'Databricks',
      detail: `${workspace.url} refused the credentials (HTTP 401 Unauthorized)`,
      fix: expect.stringContaining('create a new personal access token'),
    });
    expect(find(results, 'Endpoint churn-endpoint')?.status).toBe('skip');
    expect(find(results, 'Monitor churn')?.status).toBe('skip');
    expect(find(results, 'Monitor churn retrain job')?.status).toBe('skip');
    expect(formatResults(results)).not.toContain('dapi-wrong-secret');
  });

  it('tells a 403 apart from a 401', async () => {
    // The workspace twin has no permission model; a loopback server answering 403 stands in for a
    // workspace that knows the principal but denies it.
    const denying = createServer((_req, res) => {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error_code: 'PERMISSION_DENIED', message: 'User is not authorized.' }));
    });
    await new Promise<void>((resolve) => denying.listen(0, '127.0.0.1', resolve));
    const { port } = denying.address() as AddressInfo;
    try {
      const results = await doctor(envFor({ DATABRICKS_HOST: `http://127.0.0.1:${port}` }), noProfile);
      expect(find(results, 'Databricks')).toMatchObject({
        status: 'fail',
        detail: expect.stringContaining('accepted the credentials but refused to list serving endpoints'),
        fix: expect.stringContaining('CAN VIEW'),
      });
    } finally {
      await new Promise((resolve) => denying.close(resolve));
    }
  });

  it('says when the workspace cannot be reached at all', async () => {
    const results = await doctor(envFor({ DATABRICKS_HOST: 'http://127.0.0.1:9' }), noProfile);
    expect(find(results, 'Databricks')).toMatchObject({
      status: 'fail',
      detail: 'cannot reach http://127.0.0.1:9 (connection failed)',
      fix: expect.stringContaining('DATABRICKS_HOST'),
    });
  });

  it('names an endpoint of the policy that does not exist', async () => {
    const results = await doctor(envFor({ MODELGATE_CONFIG: fixture('missing-endpoint.yml') }), noProfile);
    expect(find(results, 'Endpoint churn-endpoint')?.status).toBe('ok');
    expect(find(results, 'Endpoint fraud-endpoint')).toEqual({
      status: 'fail',
      name: 'Endpoint fraud-endpoint',
      detail: `not found in ${workspace.url}`,
      fix: expect.stringMatching(
        /^fix the name under protectedEndpoints in .*missing-endpoint\.yml, or create it/,
      ),
    });
    expect(failures(results)).toHaveLength(1);
  });

  it('names a user group of the policy that Slack does not know', async () => {
    const results = await doctor(envFor({ MODELGATE_CONFIG: fixture('unknown-group.yml') }), noProfile);
    expect(find(results, 'Slack user groups')).toMatchObject({
      status: 'fail',
      detail: 'no user group @ml-aprovers in this workspace',
    });
  });

  it('says a Slack token was refused and how to get the right one', async () => {
    const results = await doctor(envFor({ SLACK_BOT_TOKEN: 'xoxb-revoked-secret' }), noProfile);
    expect(find(results, 'Slack token')).toMatchObject({
      status: 'fail',
      detail: 'Slack refused SLACK_BOT_TOKEN (invalid_auth)',
      fix: expect.stringContaining('Bot User OAuth Token'),
    });
    expect(find(results, 'Slack user groups')?.status).toBe('skip');
    expect(formatResults(results)).not.toContain('xoxb-revoked-secret');
  });

  it('lists the scopes the installed app is missing', async () => {
    slack.setScopes(['commands', 'chat:write']);
    const results = await doctor(envFor(), noProfile);
    expect(find(results, 'Slack scopes')).toMatchObject({
      status: 'fail',
      detail: 'missing chat:write.public, usergroups:read, im:write, files:write',
      fix: expect.stringContaining('reinstall the app'),
    });
    expect(find(results, 'Slack user groups')).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('usergroups:read'),
    });
  });

  it('lists every configuration problem and checks no connection until they are fixed', async () => {
    const results = await doctor(
      envFor({ SLACK_SIGNING_SECRET: undefined, MODELGATE_CONFIG: fixture('many-problems.yml') }),
      noProfile,
    );
    expect(failures(results).map((r) => r.name)).toEqual([
      'SLACK_SIGNING_SECRET',
      expect.stringMatching(/many-problems\.yml: defaults\.catalog$/),
      expect.stringMatching(/channels\[0\]$/),
      expect.stringMatching(/access\.deploy\.groups\[0\]$/),
      expect.stringMatching(/access\.split\.users$/),
      expect.stringMatching(/autoApply\[0\]$/),
    ]);
    expect(results.at(-1)).toMatchObject({ status: 'skip', name: 'Connections' });
    expect(slack.calls()).toEqual([]);
  });
});

describe('doctor and the drift watch', () => {
  let twins: DatabricksTwins;

  beforeEach(async () => {
    twins = await startDatabricksTwins();
  });

  afterEach(async () => {
    await twins.stop();
  });

  /** Databricks is the sandbox's twins (workspace and SQL warehouse over the demo tables). */
  const driftEnv = (overrides: Record<string, string | undefined> = {}) =>
    envFor({
      DATABRICKS_HOST: twins.workspace.url,
      DATABRICKS_TOKEN: twins.workspace.token,
      DATABRICKS_WAREHOUSE_ID: 'sandbox0000000001',
      ...overrides,
    });

  /**
   * The doctor as `doctor()` runs it, except that the warehouse is given as a target: the twin speaks
   * HTTPS on its own port with a self-signed CA, which no environment variable can carry.
   */
  async function doctorWithWarehouse(
    env: Record<string, string | undefined>,
    warehouse: NonNullable<DoctorTargets['warehouse']> = {
      host: twins.warehouse.url,
      httpPath: twins.warehouse.httpPath,
      ca: twins.warehouse.ca,
    },
  ): Promise<CheckResult[]> {
    const { results, config, policy } = checkConfiguration(env, noProfile);
    if (!config?.databricks || !policy)
      throw new Error(`invalid test configuration: ${formatResults(results)}`);
    const deps = createDoctorDeps({
      slack: { botToken: slack.botToken, apiUrl: slack.apiUrl },
      databricks: config.databricks,
      warehouse,
    });
    try {
      return [...results, ...(await runDoctor(config, policy, deps))];
    } finally {
      await deps.close();
    }
  }

  it('passes every check for a healthy configuration, the drift watch included', async () => {
    const results = await doctorWithWarehouse(driftEnv());
    expect(failures(results)).toEqual([]);
    expect(results.map((r) => r.name)).toEqual([
      'Environment',
      'Policy',
      'Slack token',
      'Slack scopes',
      'Slack signing secret',
      'Slack user groups',
      'Databricks',
      'Endpoint churn-endpoint',
      'Model acme.mlops.churn_model',
      'SQL warehouse',
      'Monitor churn',
      'Monitor churn tables',
      'Monitor churn retrain job',
      'Deployment job churn_model',
      'Change store',
    ]);
    expect(find(results, 'Deployment job churn_model')?.detail).toBe(
      'job 2001 (churn-deployment) has tasks evaluation and approval',
    );
    expect(find(results, 'Slack token')?.detail).toBe(
      'signed in to Modelgate Sandbox as @modelgate (bot B0BOT)',
    );
    expect(find(results, 'Endpoint churn-endpoint')?.detail).toContain('serving acme.mlops.churn_model v2');
    expect(find(results, 'SQL warehouse')?.detail).toBe(
      `${twins.warehouse.url}/sql/1.0/warehouses/sandbox0000000001 answers a parameterised query`,
    );
    expect(find(results, 'Monitor churn')?.detail).toBe(
      'acme.mlops.churn_inference has a monitor writing acme.mlops.churn_inference_profile_metrics and acme.mlops.churn_inference_drift_metrics (1 day windows)',
    );
    expect(find(results, 'Monitor churn tables')?.detail).toBe(
      'profile and drift metric tables can be read through the SQL warehouse (model-id column model_version)',
    );
    expect(find(results, 'Monitor churn retrain job')?.detail).toBe('job 1001 (churn-retrain) exists');
    expect(formatResults(results)).toMatch(/All checks passed\.$/);
  });

  it('names a monitored table that has no monitor, and how to create one', async () => {
    const results = await doctorWithWarehouse(
      driftEnv({ MODELGATE_CONFIG: fixture('monitor-problems.yml') }),
    );
    expect(find(results, 'Monitor payloads')).toEqual({
      status: 'fail',
      name: 'Monitor payloads',
      detail: 'acme.mlops.churn_endpoint_payload has no data-profiling monitor',
      fix: expect.stringMatching(
        /^create an InferenceLog monitor on acme\.mlops\.churn_endpoint_payload .*, or fix monitors\.payloads\.table in .*monitor-problems\.yml$/,
      ),
    });
    expect(find(results, 'Monitor payloads tables')?.status).toBe('skip');
    expect(find(results, 'Monitor fraud')?.status).toBe('ok');
  });

  it('names a metric table the warehouse cannot find, and the policy key that names it', async () => {
    const results = await doctorWithWarehouse(
      driftEnv({ MODELGATE_CONFIG: fixture('monitor-problems.yml') }),
    );
    expect(find(results, 'Monitor renamed')?.status).toBe('info');
    expect(find(results, 'Monitor renamed tables')).toEqual({
      status: 'fail',
      name: 'Monitor renamed tables',
      detail:
        'the drift metrics table acme.mlops.churn_inference_drift_metrics_v2 cannot be found through the SQL warehouse',
      fix: expect.stringMatching(/^fix monitors\.renamed\.driftTable in .*monitor-problems\.yml, or give/),
    });
    expect(find(results, 'Monitor fraud tables')?.status).toBe('ok');
  });

  it('names a retraining job that does not exist, and the policy key that names it', async () => {
    const results = await doctorWithWarehouse(
      driftEnv({ MODELGATE_CONFIG: fixture('monitor-problems.yml') }),
    );
    expect(find(results, 'Monitor renamed retrain job')).toEqual({
      status: 'fail',
      name: 'Monitor renamed retrain job',
      detail: `there is no job 4242 in ${twins.workspace.url} (monitors.renamed.retrainJob)`,
      fix: expect.stringMatching(/^fix monitors\.renamed\.retrainJob in .*monitor-problems\.yml/),
    });
    expect(find(results, 'Monitor fraud retrain job')).toMatchObject({
      status: 'fail',
      detail: `there is no job 4343 in ${twins.workspace.url} (retraining.fraud_model.job)`,
      fix: expect.stringContaining('fix retraining.fraud_model.job in'),
    });
    expect(find(results, 'Monitor payloads retrain job')?.status).toBe('skip');
    // The model a monitor and a retraining entry name is checked like any model of the policy.
    expect(find(results, 'Model acme.mlops.fraud_model')).toMatchObject({
      status: 'fail',
      detail: 'There is no model called acme.mlops.fraud_model.',
    });
    expect(failures(results).map((r) => r.name)).toEqual([
      'Model acme.mlops.fraud_model',
      'Monitor payloads',
      'Monitor renamed tables',
      'Monitor renamed retrain job',
      'Monitor fraud retrain job',
    ]);
  });

  it('says which variable to set when the policy has monitors but no warehouse is configured', async () => {
    const results = await doctor(driftEnv({ DATABRICKS_WAREHOUSE_ID: undefined }), noProfile);
    expect(find(results, 'SQL warehouse')).toEqual({
      status: 'fail',
      name: 'SQL warehouse',
      detail: expect.stringContaining('none is configured, but the policy has 1 monitor (churn)'),
      fix: expect.stringMatching(/^set DATABRICKS_WAREHOUSE_ID to the id of a SQL warehouse/),
    });
    expect(find(results, 'Monitor churn')?.status).toBe('ok');
    expect(find(results, 'Monitor churn tables')).toMatchObject({
      status: 'skip',
      detail: 'needs a working SQL warehouse',
    });
    expect(failures(results)).toHaveLength(1);
  });

  it('says nothing needs a warehouse when the policy has no monitors', async () => {
    const results = await doctor(
      driftEnv({ DATABRICKS_WAREHOUSE_ID: undefined, MODELGATE_CONFIG: fixture('valid.yml') }),
      noProfile,
    );
    expect(find(results, 'SQL warehouse')?.status).toBe('skip');
    expect(results.some((r) => r.name.startsWith('Monitor '))).toBe(false);
  });

  it('says when the SQL warehouse cannot be reached, and what to check', async () => {
    const results = await doctorWithWarehouse(driftEnv(), {
      host: 'https://127.0.0.1:9',
      warehouseId: 'sandbox0000000001',
    });
    expect(find(results, 'SQL warehouse')).toEqual({
      status: 'fail',
      name: 'SQL warehouse',
      detail: expect.stringMatching(/^Could not reach the SQL warehouse: .*ECONNREFUSED/),
      fix: expect.stringContaining('check DATABRICKS_HOST'),
    });
    expect(find(results, 'Monitor churn tables')?.status).toBe('skip');
    expect(failures(results)).toHaveLength(1);
  });

  it('names the variable to check when no warehouse answers at its id', async () => {
    const results = await doctorWithWarehouse(driftEnv({ DATABRICKS_WAREHOUSE_ID: 'abc123' }), {
      host: twins.warehouse.url,
      warehouseId: 'abc123',
      ca: twins.warehouse.ca,
    });
    expect(find(results, 'SQL warehouse')).toEqual({
      status: 'fail',
      name: 'SQL warehouse',
      detail: 'No SQL warehouse answers at /sql/1.0/warehouses/abc123 (HTTP 404).',
      fix: expect.stringMatching(/^check DATABRICKS_WAREHOUSE_ID against the warehouse's Connection details/),
    });
  });

  it('says a stopped warehouse is starting up and to run the doctor again shortly', async () => {
    twins.warehouse.faults.warehouseStarting(1);
    const results = await doctorWithWarehouse(driftEnv());
    expect(find(results, 'SQL warehouse')).toEqual({
      status: 'fail',
      name: 'SQL warehouse',
      detail: 'The SQL warehouse is starting up.',
      fix: expect.stringContaining('wait a few minutes and run the doctor again'),
    });
  });

  it('refuses an http:// workspace host for the warehouse with the reason', async () => {
    // The workspace twin speaks plain http on loopback, which the REST client accepts but no warehouse does.
    const results = await doctor(driftEnv(), noProfile);
    expect(find(results, 'Databricks')?.status).toBe('ok');
    expect(find(results, 'SQL warehouse')).toMatchObject({
      status: 'fail',
      detail: `DATABRICKS_HOST "${twins.workspace.url}" is not HTTPS.`,
      fix: expect.stringContaining('HTTPS'),
    });
  });
});

describe('doctor with nothing configured', () => {
  it('says it would run the sandbox and checks the local twins instead', async () => {
    const results = await doctor({ MODELGATE_DB: ':memory:' }, noProfile);
    expect(results[0]).toMatchObject({
      status: 'info',
      name: 'Mode',
      detail: expect.stringContaining('sandbox mode'),
    });
    expect(failures(results)).toEqual([]);
    expect(find(results, 'Databricks')?.detail).toContain('the local workspace twin');
    expect(find(results, 'Endpoint churn-endpoint')?.status).toBe('ok');
    expect(find(results, 'SQL warehouse')?.detail).toContain('(the local SQL warehouse twin)');
    expect(results.filter((r) => r.name.startsWith('Monitor churn'))).toEqual([
      expect.objectContaining({ status: 'ok', name: 'Monitor churn' }),
      expect.objectContaining({ status: 'ok', name: 'Monitor churn tables' }),
      expect.objectContaining({ status: 'ok', name: 'Monitor churn retrain job' }),
    ]);
  });
});

describe('formatResults', () => {
  it('prints one line per check with the fix under each failure, and counts the failures', () => {
    const text = formatResults([
      { status: 'ok', name: 'Slack token', detail: 'signed in' },
      { status: 'fail', name: 'Databricks', detail: 'HTTP 401', fix: 'new token' },
      { status: 'skip', name: 'Endpoint e', detail: 'needs Databricks' },
    ]);
    expect(text).toBe(
      [
        'modelgate doctor',
        '',
        '  ✓ Slack token: signed in',
        '  ✗ Databricks: HTTP 401',
        '      fix: new token',
        '  – Endpoint e: needs Databricks',
        '',
        '1 check failed.',
      ].join('\n'),
    );
  });
});
