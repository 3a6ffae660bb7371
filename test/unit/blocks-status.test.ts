import { describe, expect, it } from 'vitest';
import { servedKey } from '../../src/commands/views.js';
import type { Endpoint, EndpointSummary, ServedVersion } from '../../src/domain/ports/serving.js';
import type { SlackBlock } from '../../src/slack/blocks/block-kit.js';
import { buildEndpointListReply, MAX_LISTED_ENDPOINTS } from '../../src/slack/blocks/endpoint-list.js';
import { checkBlocks } from '../../src/slack/blocks/limits.js';
import { buildStatusReply } from '../../src/slack/blocks/status.js';

const HOST = 'https://adb-1.2.azuredatabricks.net/';
const MODEL = 'acme.mlops.churn_model';

function readable(blocks: SlackBlock[] | undefined): string {
  return JSON.stringify(blocks ?? [])
    .match(/"text":"(?:[^"\\]|\\.)*"/g)!
    .map((m) => JSON.parse(m.slice(7)) as string)
    .join('\n');
}

const served = (v: number, more: Partial<ServedVersion> = {}): ServedVersion => ({
  name: `churn_model-${v}`,
  modelName: MODEL,
  modelVersion: String(v),
  workloadSize: 'Small',
  scaleToZero: true,
  state: 'DEPLOYMENT_READY',
  ...more,
});

const steady: Endpoint = {
  name: 'churn-endpoint',
  ready: true,
  updating: false,
  updateState: 'NOT_UPDATING',
  updatedAt: new Date('2026-11-20T14:03:27Z'),
  current: {
    servedVersions: [served(2), served(3, { workloadSize: 'Medium', scaleToZero: false })],
    traffic: [
      { servedName: 'churn_model-2', percent: 90 },
      { servedName: 'churn_model-3', percent: 10 },
    ],
    configVersion: 4,
  },
};
const aliases = new Map([
  [servedKey(MODEL, 2), ['Champion']],
  [servedKey(MODEL, 3), ['Challenger']],
]);

describe('buildStatusReply', () => {
  it('shows readiness, served versions with size, scale-to-zero, traffic and aliases, and a link', () => {
    const reply = buildStatusReply({ endpoint: steady, aliases, workspaceHost: HOST });
    expect(checkBlocks(reply.blocks)).toEqual([]);
    expect(reply.visibility).toBe('ephemeral');
    expect(reply.text).toBe('churn-endpoint: ready; serving churn_model v2 90%, churn_model v3 10%');
    const text = readable(reply.blocks);
    expect(text).toContain('*State*\nReady');
    expect(text).toContain('*Config update*\nNot updating');
    expect(text).toContain('*Config version*\n4');
    expect(text).toContain('2026-11-20 14:03 UTC');
    expect(text).toMatch(/churn_model v2\s+Small\s+on\s+90%\s+ready\s+Champion/);
    expect(text).toMatch(/churn_model v3\s+Medium\s+off\s+10%\s+ready\s+Challenger/);
    expect(text).toContain(
      '<https://adb-1.2.azuredatabricks.net/ml/endpoints/churn-endpoint|Open churn-endpoint in Databricks>',
    );
  });

  it('says a rollout is in progress and what is pending', () => {
    const rolling: Endpoint = {
      ...steady,
      updating: true,
      updateState: 'IN_PROGRESS',
      pending: {
        servedVersions: [served(4, { state: 'DEPLOYMENT_CREATING' })],
        traffic: [{ servedName: 'churn_model-4', percent: 100 }],
        configVersion: 5,
      },
    };
    const reply = buildStatusReply({ endpoint: rolling, aliases, workspaceHost: HOST });
    expect(checkBlocks(reply.blocks)).toEqual([]);
    expect(reply.text).toContain('rollout in progress to churn_model v4 100%');
    const text = readable(reply.blocks);
    expect(text).toContain('*Rollout in progress* to config 5: churn_model v4 100%.');
    expect(text).toContain('Pending: churn_model v4 (creating)');
  });

  it("gives Databricks' reason for a failed update and what is still serving, escaped", () => {
    const failed: Endpoint = {
      ...steady,
      updateState: 'UPDATE_FAILED',
      failureReason: 'churn_model-4: Container build failed: <pip> & co',
    };
    const reply = buildStatusReply({ endpoint: failed, aliases: new Map(), workspaceHost: HOST });
    expect(checkBlocks(reply.blocks)).toEqual([]);
    const text = readable(reply.blocks);
    expect(text).toContain(
      '*Last update failed:* churn_model-4: Container build failed: &lt;pip&gt; &amp; co',
    );
    expect(text).toContain('Still serving: churn_model v2 90%, churn_model v3 10%');
  });

  it('says when an endpoint has no live config yet', () => {
    const fresh: Endpoint = {
      name: 'new-endpoint',
      ready: false,
      updating: true,
      updateState: 'IN_PROGRESS',
    };
    const reply = buildStatusReply({ endpoint: fresh, aliases: new Map(), workspaceHost: HOST });
    expect(checkBlocks(reply.blocks)).toEqual([]);
    expect(readable(reply.blocks)).toContain('No live config yet');
    expect(reply.text).toBe('new-endpoint: not ready; rollout in progress');
  });
});

describe('buildEndpointListReply', () => {
  const summary = (name: string, more: Partial<EndpointSummary> = {}): EndpointSummary => ({
    name,
    ready: true,
    updating: false,
    updateState: 'NOT_UPDATING',
    servedVersions: [{ name: 'churn_model-2', modelName: MODEL, modelVersion: '2' }],
    ...more,
  });

  it('lists every endpoint on one line with its state and served versions', () => {
    const reply = buildEndpointListReply(
      [summary('zeta', { updating: true, updateState: 'IN_PROGRESS' }), summary('churn-endpoint')],
      HOST,
    );
    expect(checkBlocks(reply.blocks)).toEqual([]);
    const text = readable(reply.blocks);
    expect(text).toContain('Serving endpoints (2)');
    expect(text).toContain(
      '• <https://adb-1.2.azuredatabricks.net/ml/endpoints/churn-endpoint|churn-endpoint> · ready · churn_model v2',
    );
    expect(text).toContain('zeta> · rollout in progress · churn_model v2');
    expect(text.indexOf('churn-endpoint')).toBeLessThan(text.indexOf('zeta'));
    expect(reply.text).toBe('2 serving endpoints: churn-endpoint (ready), zeta (rollout in progress)');
  });

  it('says there are none, and how to create one', () => {
    const reply = buildEndpointListReply([], HOST);
    expect(checkBlocks(reply.blocks)).toEqual([]);
    expect(readable(reply.blocks)).toContain('There are no serving endpoints in this workspace yet.');
  });

  it('caps a long list and counts the rest, within Block Kit limits', () => {
    const many = Array.from({ length: 150 }, (_, i) =>
      summary(`endpoint-${String(i).padStart(3, '0')}-${'x'.repeat(40)}`),
    );
    const reply = buildEndpointListReply(many, HOST);
    expect(checkBlocks(reply.blocks)).toEqual([]);
    expect(readable(reply.blocks)).toContain(`…and ${150 - MAX_LISTED_ENDPOINTS} more.`);
  });
});
