import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CanaryDemo, startCanaryDemo } from '../../src/sandbox/canary-demo.js';
import { type DatabricksTwins, startDatabricksTwins } from '../../src/sandbox/start.js';
import { DEMO } from '../../src/sandbox/workspace/demo.js';

let twins: DatabricksTwins;
let demo: CanaryDemo;
let canary: { model: string; version: string } | undefined;

beforeEach(async () => {
  twins = await startDatabricksTwins(new Date('2026-11-20T12:00:00Z'));
  canary = undefined;
  demo = startCanaryDemo({
    workspace: twins.workspace,
    endpoint: DEMO.endpoint,
    model: DEMO.model,
    canaryOf: async () => canary,
    timer: false,
  });
});

afterEach(async () => {
  demo.stop();
  await twins.stop();
});

const invocations = () => twins.workspace.requests.filter((r) => r.route?.endsWith('/invocations')).length;
const version = (v: number) => twins.workspace.state.models.get(DEMO.model)!.versions.get(v)!;

describe('the sandbox canary demo', () => {
  it('sends traffic only while its knob is on or a rollout holds the endpoint', async () => {
    await demo.beat();
    expect(invocations()).toBe(0);
    expect(demo.knobs.set('traffic', true)).toBe(true);
    await demo.beat();
    await demo.beat();
    expect(invocations()).toBe(2);
    demo.knobs.set('traffic', false);
    canary = { model: DEMO.model, version: '3' };
    await demo.beat();
    expect(invocations()).toBe(3);
    const rows = await twins.db.all('SELECT count(*) AS n FROM acme.mlops.churn_endpoint_payload');
    expect(Number(rows[0]!.n)).toBe(3);
  });

  it('makes only the canary in flight fail or slow down, and gives it back its behaviour after', async () => {
    const before = structuredClone(version(2).behaviour);
    demo.knobs.set('canary_errors', true);
    demo.knobs.set('canary_slow', true);
    await demo.beat();
    expect(version(3).behaviour?.errorRate).toBeUndefined();
    canary = { model: DEMO.model, version: '3' };
    await demo.beat();
    expect(version(3).behaviour).toMatchObject({ errorRate: 0.5, latencyMs: 60 });
    expect(version(2).behaviour).toEqual(before);
    canary = undefined;
    await demo.beat();
    expect(version(3).behaviour?.errorRate).toBeUndefined();
    expect(version(3).behaviour?.latencyMs ?? 0).toBe(0);
  });

  it('refuses a knob it does not have', () => {
    expect(demo.knobs.set('everything_on_fire', true)).toBe(false);
    expect(demo.knobs.list().map((k) => k.id)).toEqual(['traffic', 'canary_errors', 'canary_slow']);
  });
});
