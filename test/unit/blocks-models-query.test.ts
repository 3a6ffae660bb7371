import { describe, expect, it } from 'vitest';
import type { ModelVersionInfo } from '../../src/domain/ports/registry.js';
import type { SlackBlock } from '../../src/slack/blocks/block-kit.js';
import { checkBlocks } from '../../src/slack/blocks/limits.js';
import { buildModelsReply, MAX_LISTED_VERSIONS } from '../../src/slack/blocks/models.js';
import { buildQueryReply, MAX_SHOWN_PREDICTIONS } from '../../src/slack/blocks/query.js';

const HOST = 'https://adb-1.2.azuredatabricks.net';
const MODEL = 'acme.mlops.churn_model';

function readable(blocks: SlackBlock[] | undefined): string {
  return JSON.stringify(blocks ?? [])
    .match(/"text":"(?:[^"\\]|\\.)*"/g)!
    .map((m) => JSON.parse(m.slice(7)) as string)
    .join('\n');
}

const version = (v: number, more: Partial<ModelVersionInfo> = {}): ModelVersionInfo => ({
  modelName: MODEL,
  version: v,
  status: 'READY',
  createdAt: new Date(Date.UTC(2026, 10, v, 14, 3)),
  createdBy: 'riley@acme.test',
  aliases: [],
  ...more,
});

describe('buildModelsReply', () => {
  it('lists versions with status, creation time in UTC, creator and aliases', () => {
    const reply = buildModelsReply({
      model: MODEL,
      versions: [
        version(3, { aliases: ['Challenger'], status: 'PENDING_REGISTRATION' }),
        version(2, { aliases: ['Champion'] }),
      ],
      workspaceHost: HOST,
    });
    expect(checkBlocks(reply.blocks)).toEqual([]);
    const text = readable(reply.blocks);
    expect(text).toContain(MODEL);
    expect(text).toMatch(/v3\s+PENDING_REGISTRATION\s+2026-11-03 14:03 UTC\s+riley@acme.test\s+Challenger/);
    expect(text).toMatch(/v2\s+READY\s+2026-11-02 14:03 UTC\s+riley@acme.test\s+Champion/);
    expect(text.indexOf('v3')).toBeLessThan(text.indexOf('v2 '));
    expect(text).toContain(`${HOST}/explore/data/models/acme/mlops/churn_model/version/3`);
    expect(reply.text).toBe(`${MODEL}: 2 versions, newest v3; Challenger → v3; Champion → v2`);
  });

  it('caps the rows and counts the older versions', () => {
    const versions = Array.from({ length: 60 }, (_, i) =>
      version(60 - i, { createdBy: `${'a'.repeat(80)}@acme.test` }),
    );
    const reply = buildModelsReply({ model: MODEL, versions, workspaceHost: HOST });
    expect(checkBlocks(reply.blocks)).toEqual([]);
    expect(readable(reply.blocks)).toContain(`…and ${60 - MAX_LISTED_VERSIONS} older versions.`);
  });

  it('says when a model has no versions', () => {
    const reply = buildModelsReply({ model: MODEL, versions: [], workspaceHost: HOST });
    expect(checkBlocks(reply.blocks)).toEqual([]);
    expect(reply.text).toBe(`${MODEL} has no versions yet.`);
  });
});

describe('buildQueryReply', () => {
  it('shows object predictions as a table and names the version that answered', () => {
    const reply = buildQueryReply({
      endpoint: 'churn-endpoint',
      records: 2,
      predictions: [
        { prediction: 'Yes', probability: 0.812345 },
        { prediction: 'No', probability: 0.1 },
      ],
      servedName: 'churn_model-2',
      answeredBy: { modelName: MODEL, modelVersion: '2' },
      workspaceHost: HOST,
    });
    expect(checkBlocks(reply.blocks)).toEqual([]);
    const text = readable(reply.blocks);
    expect(text).toContain('answered 2 records with *churn_model v2* (churn_model-2).');
    expect(text).toMatch(/#\s+prediction\s+probability/);
    expect(text).toMatch(/1\s+Yes\s+0\.8123/);
    expect(text).toMatch(/2\s+No\s+0\.1/);
    expect(reply.text).toBe('churn-endpoint answered 2 records with churn_model v2: Yes 0.8123; No 0.1');
  });

  it('shows plain predictions one per row and says when the version is unknown', () => {
    const reply = buildQueryReply({ endpoint: 'e', records: 1, predictions: [0.5], workspaceHost: HOST });
    expect(checkBlocks(reply.blocks)).toEqual([]);
    expect(readable(reply.blocks)).toContain('answered 1 record with *an unknown version*');
    expect(readable(reply.blocks)).toMatch(/1\s+0\.5/);
  });

  it('caps the rows, escapes text and keeps backticks from breaking the table', () => {
    const predictions = Array.from({ length: 100 }, (_, i) => ({ label: `<b>\`x\`${i}` }));
    const reply = buildQueryReply({ endpoint: 'e', records: 100, predictions, workspaceHost: HOST });
    expect(checkBlocks(reply.blocks)).toEqual([]);
    const text = readable(reply.blocks);
    expect(text).toContain(`…and ${100 - MAX_SHOWN_PREDICTIONS} more predictions not shown.`);
    expect(text).toContain("&lt;b&gt;'x'0");
    expect(text).not.toContain('<b>');
  });
});
