import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildPlanFor } from '../../src/changes/plan/index.js';
import type { CommandDeps } from '../../src/commands/deps.js';
import { dispatch, parseCommand } from '../../src/commands/index.js';
import { createRegistryClient } from '../../src/databricks/registry.js';
import { createServingClient } from '../../src/databricks/serving.js';
import type { Plan } from '../../src/domain/change.js';
import { UserError } from '../../src/domain/errors.js';
import type { EndpointConfig } from '../../src/domain/ports/serving.js';
import type { Actor, ChangePipeline, Origin, ParsedCommand, Reply } from '../../src/domain/vocabulary.js';
import { simulatedClock } from '../../src/lib/clock.js';
import { DEMO, seedDemoWorkspace } from '../../src/sandbox/workspace/demo.js';
import type { WorkspaceTwin } from '../../src/sandbox/workspace/server.js';
import type { SlackBlock } from '../../src/slack/blocks/block-kit.js';
import { describeError } from '../../src/slack/blocks/errors.js';
import { checkBlocks } from '../../src/slack/blocks/limits.js';
import { buildPlanReply } from '../../src/slack/blocks/plan.js';
import { commandViews } from '../../src/slack/blocks/views.js';
import { startTwinWithClient } from '../support/workspace.js';

const HOST = 'https://adb-1.2.azuredatabricks.net';
const actor: Actor = { userId: 'U0REQUEST', userName: 'riley' };
const origin: Origin = { channelId: 'C0MLOPS', triggerId: 'trigger-1' };
const defaults = { catalog: DEMO.catalog, schema: DEMO.schema, endpoint: DEMO.endpoint };

type Proposal = Parameters<ChangePipeline['propose']>[0];

/** Records what handlers hand over and answers with the plan message, as the real pipeline does. */
class RecordingPipeline implements ChangePipeline {
  readonly proposals: Proposal[] = [];
  async propose(request: Proposal): Promise<Reply> {
    this.proposals.push(request);
    return buildPlanReply(request.plan, {
      ...(request.dryRun ? {} : { changeId: `chg_${this.proposals.length}` }),
      dryRun: request.dryRun,
      requesterId: request.actor.userId,
      workspaceHost: HOST,
    });
  }
}

class History implements Pick<CommandDeps['history'], 'previousConfig'> {
  readonly configs = new Map<string, EndpointConfig>();
  async previousConfig(endpoint: string) {
    return this.configs.get(endpoint);
  }
}

function readable(reply: Reply): string {
  const blocks: SlackBlock[] = reply.blocks ?? [];
  return JSON.stringify(blocks)
    .match(/"text":"(?:[^"\\]|\\.)*"/g)!
    .map((m) => JSON.parse(m.slice(7)) as string)
    .join('\n');
}

let twin: WorkspaceTwin;
let deps: CommandDeps;
let pipeline: RecordingPipeline;
let history: History;

beforeEach(async () => {
  const clock = simulatedClock(Date.parse('2026-11-20T12:00:00Z'));
  const started = await startTwinWithClient(
    { state: seedDemoWorkspace({ now: clock.now() }), clock },
    { clock },
  );
  twin = started.twin;
  pipeline = new RecordingPipeline();
  history = new History();
  deps = {
    serving: createServingClient(started.http),
    registry: createRegistryClient(started.http),
    changes: pipeline,
    views: commandViews,
    history,
    clock,
    workspaceHost: HOST,
    defaults,
  };
});

afterEach(async () => {
  await twin.stop();
});

/** Parses and runs a command as the Slack layer will. */
async function run(text: string): Promise<Reply> {
  const reply = await dispatch(parseCommand(text, defaults), deps, actor, origin);
  expect(checkBlocks(reply.blocks)).toEqual([]);
  expect(reply.text.length).toBeGreaterThan(0);
  return reply;
}

async function refused(text: string): Promise<UserError> {
  try {
    await run(text);
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error(`expected "${text}" to be refused`);
}

function lastPlan(): Plan {
  const p = pipeline.proposals.at(-1);
  if (!p) throw new Error('nothing was proposed');
  return p.plan;
}

describe('status', () => {
  it('shows the demo endpoint: ready, v2 at 100% with its settings, the Champion alias and a link', async () => {
    const reply = await run('status churn-endpoint');
    expect(reply.text).toBe('churn-endpoint: ready; serving churn_model v2 100%');
    const text = readable(reply);
    expect(text).toContain('*State*\nReady');
    expect(text).toMatch(/churn_model v2\s+Small\s+on\s+100%\s+\S+\s+Champion/);
    expect(text).toContain(`${HOST}/ml/endpoints/churn-endpoint`);
  });

  it('shows a rollout in progress and what is pending', async () => {
    await deps.serving.updateConfig(DEMO.endpoint, {
      servedVersions: [{ modelName: DEMO.model, modelVersion: 3, workloadSize: 'Small', scaleToZero: true }],
    });
    const reply = await run('status churn-endpoint');
    expect(reply.text).toContain('rollout in progress to churn_model v3 100%');
    expect(readable(reply)).toMatch(/Pending: churn_model v3/);
  });

  it('lists every endpoint on one line when no endpoint is given', async () => {
    const reply = await run('status');
    expect(reply.text).toBe('1 serving endpoint: churn-endpoint (ready)');
    expect(readable(reply)).toContain('churn-endpoint> · ready · churn_model v2');
  });

  it('says an unknown endpoint does not exist, with a hint', async () => {
    const err = await refused('status nope');
    expect(err.code).toBe('endpoint_not_found');
    expect(describeError(err).hint).toContain('/mlops status');
  });
});

describe('did you mean', () => {
  it('offers the nearest endpoint for a typo, and lists endpoints only on that error path', async () => {
    const before = twin.requests.length;
    await run('status churn-endpoint');
    expect(twin.requests.slice(before).map((r) => r.route)).not.toContain('GET /api/2.0/serving-endpoints');
    const mark = twin.requests.length;
    const err = await refused('status churn-endpiont');
    expect(twin.requests.slice(mark).map((r) => r.route)).toContain('GET /api/2.0/serving-endpoints');
    expect(err.code).toBe('endpoint_not_found');
    expect(describeError(err).text).toBe(
      'No serving endpoint called "churn-endpiont". Did you mean churn-endpoint?',
    );
  });

  it('offers the nearest model of the same schema for a typo', async () => {
    const err = await refused('models churn_modle');
    expect(err.code).toBe('model_not_found');
    expect(describeError(err).text).toBe(
      'There is no model called acme.mlops.churn_modle. Did you mean acme.mlops.churn_model?',
    );
  });

  it('suggests nothing when no name is near', async () => {
    const err = await refused('status zzzzzzzzzzzz');
    expect(describeError(err).text).toBe('No serving endpoint called "zzzzzzzzzzzz".');
  });
});

describe('models', () => {
  it('lists the versions newest first with status, creator and aliases', async () => {
    const reply = await run('models churn_model');
    const text = readable(reply);
    expect(text).toMatch(/v3\s+READY\s+2026-11-17 12:00 UTC\s+jordan@acme.test\s+Challenger/);
    expect(text).toMatch(/v2\s+READY\s+2026-10-30 12:00 UTC\s+sam@acme.test\s+Champion/);
    expect(text).toMatch(/v1\s+READY\s+2026-10-06 12:00 UTC\s+riley@acme.test\s+—/);
    expect(text.indexOf('v3')).toBeLessThan(text.indexOf('v1'));
  });

  it('says an unknown model does not exist', async () => {
    expect((await refused('models nope')).code).toBe('model_not_found');
  });
});

describe('query', () => {
  it('shows the predictions and the version that answered', async () => {
    const reply = await run(
      'query churn-endpoint tenure=2 monthly_charges=95.5 contract=Month-to-month senior_citizen=1',
    );
    const text = readable(reply);
    expect(text).toContain('answered 1 record with *churn_model v2* (churn_model-2).');
    expect(text).toMatch(/#\s+prediction\s+probability/);
    expect(text).toMatch(/1\s+Yes\s+0\.\d+/);
  });

  it('queries with JSON records and columns/data', async () => {
    const records = await run(
      'query churn-endpoint [{"tenure": 60, "monthly_charges": 20, "contract": "Two year", "senior_citizen": 0}, {"tenure": 1, "monthly_charges": 99, "contract": "Month-to-month", "senior_citizen": 1}]',
    );
    expect(readable(records)).toMatch(/1\s+No[\s\S]*2\s+Yes/);
    const split = await run(
      'query churn-endpoint {"columns": ["tenure", "monthly_charges", "contract", "senior_citizen"], "data": [[60, 20, "Two year", 0]]}',
    );
    expect(split.text).toContain('answered 1 record with churn_model v2: No');
  });

  it("passes on Databricks' complaint about missing features", async () => {
    const err = await refused('query churn-endpoint tenure=2');
    expect(err.code).toBe('serving_rejected');
    expect(err.message).toContain(
      "Model is missing inputs ['monthly_charges', 'contract', 'senior_citizen']",
    );
  });

  it('refuses more records than a Slack query may carry, even from callers other than the parser', async () => {
    const parsed: ParsedCommand = {
      subcommand: 'query',
      endpoint: DEMO.endpoint,
      input: { records: Array.from({ length: 101 }, () => ({ tenure: 1 })) },
    };
    await expect(dispatch(parsed, deps, actor, origin)).rejects.toMatchObject({ code: 'bad_input' });
    expect(twin.requests.some((r) => r.path.endsWith('/invocations'))).toBe(false);
  });
});

describe('deploy', () => {
  it('plans replacing v2 by v3 with the same size and scale-to-zero, and hands it to the pipeline', async () => {
    const reply = await run('deploy churn_model 3');
    expect(pipeline.proposals).toHaveLength(1);
    const proposal = pipeline.proposals[0]!;
    expect(proposal).toMatchObject({ actor, origin, dryRun: false });
    expect(proposal.input).toEqual({
      subcommand: 'deploy',
      model: DEMO.model,
      target: { version: 3 },
      endpoint: DEMO.endpoint,
      dryRun: false,
    });
    expect(proposal.plan).toMatchObject({
      kind: 'endpoint',
      subcommand: 'deploy',
      endpoint: DEMO.endpoint,
      create: false,
      after: {
        servedVersions: [
          {
            name: 'churn_model-3',
            modelName: DEMO.model,
            modelVersion: '3',
            workloadSize: 'Small',
            scaleToZero: true,
          },
        ],
        traffic: [{ servedName: 'churn_model-3', percent: 100 }],
      },
    });
    expect(reply.text).toContain('Plan: Deploy churn_model v3 to churn-endpoint');
    // Planning changes nothing.
    expect(twin.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('resolves an alias, and refuses a deploy of what is already served', async () => {
    await run('deploy churn_model @Challenger size=Medium');
    expect(lastPlan()).toMatchObject({
      after: { servedVersions: [{ modelVersion: '3', workloadSize: 'Medium' }] },
    });
    const err = await refused('deploy churn_model @Champion');
    expect(err.code).toBe('no_change');
    expect(describeError(err).text).toBe(
      'churn-endpoint already serves churn_model v2 100%; nothing to change.',
    );
  });

  it('plans creating an endpoint that does not exist', async () => {
    await run('deploy churn_model 3 to churn-canary scale-to-zero=off');
    expect(lastPlan()).toMatchObject({ endpoint: 'churn-canary', create: true, fingerprint: 'absent' });
    expect(lastPlan()).not.toHaveProperty('before');
  });

  it('passes --dry-run on to the pipeline', async () => {
    const reply = await run('deploy churn_model 3 --dry-run');
    expect(pipeline.proposals[0]!.dryRun).toBe(true);
    expect(reply.visibility).toBe('ephemeral');
    expect(reply.text).toMatch(/^Dry run:/);
  });

  it('refuses a version that does not exist or is not READY, proposing nothing', async () => {
    expect((await refused('deploy churn_model 9')).code).toBe('version_not_found');
    twin.state.models.get(DEMO.model)!.versions.set(4, {
      ...twin.state.models.get(DEMO.model)!.versions.get(3)!,
      version: 4,
      status: 'PENDING_REGISTRATION',
    });
    const err = await refused('deploy churn_model 4');
    expect(err.code).toBe('version_not_ready');
    expect(describeError(err).hint).toContain('still uploading');
    expect((await refused('deploy churn_model @Staging')).code).toBe('alias_not_found');
    expect(pipeline.proposals).toEqual([]);
  });
});

describe('split', () => {
  it('plans adding v3 at 10% with the settings of v2', async () => {
    const reply = await run('split churn-endpoint 2=90 3=10');
    expect(lastPlan()).toMatchObject({
      subcommand: 'split',
      after: {
        servedVersions: [
          { name: 'churn_model-2', modelVersion: '2', workloadSize: 'Small', scaleToZero: true },
          { name: 'churn_model-3', modelVersion: '3', workloadSize: 'Small', scaleToZero: true },
        ],
        traffic: [
          { servedName: 'churn_model-2', percent: 90 },
          { servedName: 'churn_model-3', percent: 10 },
        ],
      },
    });
    expect(readable(reply)).toMatch(/~\s+churn_model v2 traffic\s+100%\s+90%/);
  });

  it('refuses a version the model does not have, and an unknown endpoint', async () => {
    expect((await refused('split churn-endpoint 2=90 9=10')).code).toBe('version_not_found');
    expect((await refused('split nope 2=100')).code).toBe('endpoint_not_found');
    expect(pipeline.proposals).toEqual([]);
  });
});

describe('promote', () => {
  it('plans moving Champion from v2 to v3', async () => {
    const reply = await run('promote churn_model 3 champion');
    expect(lastPlan()).toEqual({
      kind: 'alias',
      subcommand: 'promote',
      model: DEMO.model,
      alias: 'Champion',
      fromVersion: 2,
      toVersion: 3,
      fingerprint: '2',
    });
    expect(reply.text).toContain('Move Champion of churn_model from v2 to v3');
  });

  it('refuses a move to where the alias already points, and an unknown version', async () => {
    expect((await refused('promote churn_model 2 Champion')).code).toBe('no_change');
    expect((await refused('promote churn_model 7 Champion')).code).toBe('version_not_found');
  });
});

describe('rollback', () => {
  it('refuses when the bot has no history of the endpoint', async () => {
    const err = await refused('rollback churn-endpoint');
    expect(err.code).toBe('no_history');
  });

  it('plans restoring the previous config from the history', async () => {
    history.configs.set(DEMO.endpoint, {
      servedVersions: [
        {
          name: 'churn_model-1',
          modelName: DEMO.model,
          modelVersion: '1',
          workloadSize: 'Medium',
          scaleToZero: false,
        },
      ],
      traffic: [{ servedName: 'churn_model-1', percent: 100 }],
      configVersion: 0,
    });
    const reply = await run('rollback churn-endpoint --dry-run');
    expect(lastPlan()).toMatchObject({
      subcommand: 'rollback',
      after: { servedVersions: [{ modelVersion: '1', workloadSize: 'Medium', scaleToZero: false }] },
    });
    expect(reply.text).toContain('Roll back churn-endpoint to churn_model v1 100%');
  });
});

describe('buildPlanFor', () => {
  it('rebuilds the same plan while nothing changed, and another fingerprint once the endpoint changed', async () => {
    await run('split churn-endpoint 2=90 3=10');
    const proposal = pipeline.proposals[0]!;
    const again = await buildPlanFor(proposal.input, deps);
    expect(again).toEqual(proposal.plan);

    await deps.serving.updateConfig(DEMO.endpoint, {
      servedVersions: [{ modelName: DEMO.model, modelVersion: 1 }],
    });
    const stale = await buildPlanFor(proposal.input, deps);
    expect(stale.fingerprint).not.toBe(proposal.plan.fingerprint);
  });

  it('notices that the alias a deploy was planned by now points elsewhere', async () => {
    await run('deploy churn_model @Challenger');
    const proposal = pipeline.proposals[0]!;
    expect(await buildPlanFor(proposal.input, deps)).toEqual(proposal.plan);
    await deps.registry.setAlias(DEMO.model, 'Challenger', 1);
    const fresh = await buildPlanFor(proposal.input, deps);
    expect(fresh.fingerprint).not.toBe(proposal.plan.fingerprint);
  });

  it('notices an alias that moved since the plan', async () => {
    await run('promote churn_model 3 Champion');
    const proposal = pipeline.proposals[0]!;
    await deps.registry.setAlias(DEMO.model, 'Champion', 1);
    const fresh = await buildPlanFor(proposal.input, deps);
    expect(fresh.fingerprint).toBe('1');
    expect(fresh.fingerprint).not.toBe(proposal.plan.fingerprint);
  });
});

describe('help', () => {
  it('answers help and help <subcommand> without touching Databricks', async () => {
    expect((await run('')).text).toContain('/mlops subcommands');
    expect((await run('help split')).text).toContain(`Usage: /mlops split`);
    expect(twin.requests).toEqual([]);
  });
});
