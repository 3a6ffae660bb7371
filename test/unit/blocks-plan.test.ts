import { describe, expect, it } from 'vitest';
import { planDeploy, planPromote } from '../../src/changes/plan/index.js';
import type { Plan } from '../../src/domain/change.js';
import type { ModelVersionInfo } from '../../src/domain/ports/registry.js';
import type { Endpoint } from '../../src/domain/ports/serving.js';
import { ACTION_APPLY, ACTION_CANCEL } from '../../src/slack/blocks/action-ids.js';
import type { SlackBlock } from '../../src/slack/blocks/block-kit.js';
import { checkBlocks } from '../../src/slack/blocks/limits.js';
import { buildPlanReply } from '../../src/slack/blocks/plan.js';

const HOST = 'https://adb-1.2.azuredatabricks.net';
const MODEL = 'acme.mlops.churn_model';
const version = (v: number): ModelVersionInfo => ({
  modelName: MODEL,
  version: v,
  status: 'READY',
  createdAt: new Date(0),
  aliases: [],
});
const live: Endpoint = {
  name: 'churn-endpoint',
  ready: true,
  updating: false,
  updateState: 'NOT_UPDATING',
  current: {
    servedVersions: [
      {
        name: 'churn_model-2',
        modelName: MODEL,
        modelVersion: '2',
        workloadSize: 'Small',
        scaleToZero: true,
      },
    ],
    traffic: [{ servedName: 'churn_model-2', percent: 100 }],
    configVersion: 1,
  },
};
const deployPlan = planDeploy({ endpointName: 'churn-endpoint', endpoint: live, version: version(3) });
const promotePlan = planPromote({
  model: { fullName: MODEL, aliases: [{ alias: 'Champion', version: 2 }] },
  alias: 'Champion',
  version: version(3),
});

/** Every piece of text a person can read in the blocks. */
function readable(blocks: SlackBlock[] | undefined): string {
  return JSON.stringify(blocks ?? [])
    .match(/"text":"(?:[^"\\]|\\.)*"/g)!
    .map((m) => JSON.parse(m.slice(7)) as string)
    .join('\n');
}

type Button = { action_id: string; value: string; style?: string; confirm?: { text: { text: string } } };
function buttons(blocks: SlackBlock[] | undefined): Button[] {
  return (blocks ?? []).flatMap((b) =>
    b.type === 'actions' ? ((b as { elements: Button[] }).elements ?? []) : [],
  );
}

describe('buildPlanReply', () => {
  it('shows the diff, the requester and Apply / Cancel buttons carrying only the change id', () => {
    const reply = buildPlanReply(deployPlan, {
      changeId: 'chg_42',
      dryRun: false,
      requesterId: 'U0REQUEST',
      workspaceHost: HOST,
    });
    expect(checkBlocks(reply.blocks)).toEqual([]);
    expect(reply.visibility).toBe('in_channel');
    expect(reply.text).toContain('Plan: Deploy churn_model v3 to churn-endpoint');
    expect(reply.text).toContain('churn_model v2 traffic: 100% → removed');
    const text = readable(reply.blocks);
    expect(text).toContain('Plan: Deploy churn_model v3 to churn-endpoint');
    expect(text).toContain('<@U0REQUEST>');
    expect(text).toContain(`<${HOST}/ml/endpoints/churn-endpoint|churn-endpoint>`);
    expect(text).toMatch(/-\s+churn_model v2 traffic\s+100%\s+removed/);
    expect(text).toMatch(/\+\s+churn_model v3 traffic\s+not served\s+100%/);
    expect(text).toContain('Only <@U0REQUEST> can apply or cancel this plan.');
    expect(buttons(reply.blocks)).toEqual([
      expect.objectContaining({ action_id: ACTION_APPLY, value: 'chg_42', style: 'primary' }),
      expect.objectContaining({ action_id: ACTION_CANCEL, value: 'chg_42' }),
    ]);
    expect(buttons(reply.blocks)[0]!.confirm).toBeUndefined();
  });

  it('shows a dry run without buttons, privately, saying nothing changed', () => {
    const reply = buildPlanReply(deployPlan, { dryRun: true, requesterId: 'U0REQUEST', workspaceHost: HOST });
    expect(checkBlocks(reply.blocks)).toEqual([]);
    expect(reply.visibility).toBe('ephemeral');
    expect(buttons(reply.blocks)).toEqual([]);
    expect(reply.text).toMatch(/^Dry run: Deploy churn_model v3/);
    expect(readable(reply.blocks)).toContain('Dry run: nothing was changed.');
  });

  it('puts an "are you sure" dialog on Apply for a protected endpoint, and shows the note', () => {
    const reply = buildPlanReply(deployPlan, {
      changeId: 'chg_1',
      dryRun: false,
      requesterId: 'U0REQUEST',
      workspaceHost: HOST,
      note: '*churn-endpoint is protected*: only approvers may apply.',
    });
    expect(checkBlocks(reply.blocks)).toEqual([]);
    expect(readable(reply.blocks)).toContain('*churn-endpoint is protected*');
    expect(buttons(reply.blocks)[0]!.confirm?.text.text).toContain('Deploy churn_model v3 to churn-endpoint');
    const forced = buildPlanReply(deployPlan, {
      changeId: 'chg_1',
      dryRun: false,
      requesterId: 'U0REQUEST',
      workspaceHost: HOST,
      confirm: true,
    });
    expect(buttons(forced.blocks)[0]!.confirm).toBeDefined();
  });

  it('shows an alias move with a link to the version', () => {
    const reply = buildPlanReply(promotePlan, {
      changeId: 'chg_7',
      dryRun: false,
      requesterId: 'U0REQUEST',
      workspaceHost: HOST,
    });
    expect(checkBlocks(reply.blocks)).toEqual([]);
    const text = readable(reply.blocks);
    expect(text).toContain('Plan: Move Champion of churn_model from v2 to v3');
    expect(text).toMatch(/~\s+churn_model alias Champion\s+v2\s+v3/);
    expect(text).toContain(`${HOST}/explore/data/models/acme/mlops/churn_model/version/3`);
  });

  it('stays within Block Kit limits for a split over twenty versions with long names', () => {
    const long = `acme.mlops.${'m'.repeat(200)}`;
    const many: Plan = {
      kind: 'endpoint',
      subcommand: 'split',
      endpoint: 'e',
      create: false,
      before: {
        servedVersions: Array.from({ length: 10 }, (_, i) => ({
          name: `a-${i}`,
          modelName: long,
          modelVersion: String(i + 1),
          workloadSize: 'Small' as const,
          scaleToZero: true,
        })),
        traffic: Array.from({ length: 10 }, (_, i) => ({ servedName: `a-${i}`, percent: 10 })),
      },
      after: {
        servedVersions: Array.from({ length: 10 }, (_, i) => ({
          name: `b-${i}`,
          modelName: long,
          modelVersion: String(i + 11),
          workloadSize: 'Large' as const,
          scaleToZero: false,
        })),
        traffic: Array.from({ length: 10 }, (_, i) => ({ servedName: `b-${i}`, percent: 10 })),
      },
      fingerprint: 'x',
    };
    const reply = buildPlanReply(many, {
      changeId: 'c'.repeat(300),
      dryRun: false,
      requesterId: 'U1',
      workspaceHost: HOST,
      note: 'n'.repeat(5000),
    });
    expect(checkBlocks(reply.blocks)).toEqual([]);
    expect(reply.text.length).toBeLessThanOrEqual(3000);
  });
});
