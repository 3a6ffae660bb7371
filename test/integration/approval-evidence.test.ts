import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXAMPLE_POLICY_PATH } from '../../src/config/env.js';
import { loadPolicy } from '../../src/config/policy.js';
import { APPROVALS_CHANNEL_ID, checkBlocks } from '../../src/sandbox/slack/index.js';
import { type DatabricksTwins, startDatabricksTwins } from '../../src/sandbox/start.js';
import { type BotOnTwins, startBotOnTwins } from '../support/bot.js';

let twins: DatabricksTwins;
let env: BotOnTwins;

beforeEach(async () => {
  twins = await startDatabricksTwins(new Date());
  const policy = loadPolicy(EXAMPLE_POLICY_PATH);
  env = await startBotOnTwins({
    policy: { ...policy, charts: { renderer: 'local' } },
    workspace: twins.workspace,
    warehouse: twins.warehouse,
  });
});
afterEach(async () => {
  await env.stop();
  await twins.stop();
});

describe('the evidence of a Production request', () => {
  it("shows the monitor's latest figures of the incoming version next to those of the one it replaces", async () => {
    await env.command('promote churn_model 3 Production');
    const m = await env.slack.waitFor(() =>
      env.slack.messages(APPROVALS_CHANNEL_ID).find((x) => !x.ephemeral_to),
    );
    expect(checkBlocks(m.blocks)).toEqual([]);
    const text = JSON.stringify(m.blocks);
    expect(text).toContain('*Monitor churn* (latest figures, window of ');
    // One row per metric of the monitor's rules, v3 (incoming) next to v2 (what churn-endpoint serves).
    const table = /```([^`]*)```/.exec(text)![1]!.split('\\n');
    expect(table[0]).toMatch(/^metric\s+v3\s+v2$/);
    const rows = Object.fromEntries(
      table.slice(1).map((l) => [l.split(/\s{2,}/)[0], l.split(/\s{2,}/).slice(1)]),
    );
    expect(Object.keys(rows)).toEqual(expect.arrayContaining(['f1_score.macro', '|expected_loss|']));
    for (const [, values] of Object.entries(rows)) {
      expect(values).toHaveLength(2);
      for (const v of values as string[]) expect(v).toMatch(/^(-?\d+(\.\d+)?|no data)$/);
    }
    expect(Number(rows['f1_score.macro']![0])).toBeGreaterThan(0);
    expect(Number(rows['f1_score.macro']![1])).toBeGreaterThan(0);
  });
});
