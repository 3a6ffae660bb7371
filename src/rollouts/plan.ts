/**
 * Planning a canary rollout: the reads (the endpoint, the version or alias, the policy's analysis
 * and inference table, and one probe of that table through the warehouse) and the pure `planRollout`
 * that turns them into the whole schedule. A plan refuses, with the fix, anything the checks could
 * not read: a rollout never starts on guardrails it cannot read.
 */
import { servedNameFor } from '../domain/endpoint-config.js';
import { hasCode, isUserError, UserError } from '../domain/errors.js';
import { requireReady } from '../domain/model-versions.js';
import type { ModelVersionInfo, Registry } from '../domain/ports/registry.js';
import type { Endpoint, Serving } from '../domain/ports/serving.js';
import type { Warehouse } from '../domain/ports/warehouse.js';
import type { RolloutCommand } from '../domain/vocabulary.js';
import { qualityStatement, readFigures } from './queries.js';
import type { Analysis, EntitySpec, Guardrail, RolloutPlan } from './types.js';

/** The policy as a rollout plan reads it. */
export interface RolloutPolicy {
  analyses?: Record<string, AnalysisSetting> | undefined;
  inferenceTables?:
    | Record<string, { catalog: string; schema: string; prefix: string; enableOnDeploy: boolean }>
    | undefined;
  bindings?: Array<{ model: string; alias: string; endpoint: string }> | undefined;
}

/** An analysis as the policy schema gives it (durations already in ms). */
export interface AnalysisSetting {
  guardrails: Guardrail[];
  minRequests: number;
  failuresToRollback: number;
  inconclusiveLimit: number;
  checkEvery: number;
  unreadableFor: number;
  every: number;
}

export const DEFAULT_STEPS = [5, 25, 50, 100];
export const DEFAULT_ANALYSIS = 'default';

export interface PlanRolloutInput {
  input: RolloutCommand;
  endpoint: Endpoint;
  version: ModelVersionInfo;
  policy: RolloutPolicy;
  /** Resolves a model name of the policy (short or full) against the defaults. */
  resolveModel: (name: string) => string;
  gate?: RolloutPlan['gate'];
  /** Whether moving this alias needs a gate's approval (the rollout's own gate, asked at start, counts). */
  aliasGated?: (model: string, alias: string) => boolean;
}

/** Steps as asked, checked, with the promotion (100) added when left out. */
export function normaliseSteps(steps: number[] | undefined): number[] {
  const s = [...(steps ?? DEFAULT_STEPS)];
  if (s[s.length - 1] !== 100) s.push(100);
  const climbs = s.every((p, i) => Number.isInteger(p) && p >= 1 && p <= 100 && (i === 0 || p > s[i - 1]!));
  if (!climbs || s.length < 2) throw new UserError('rollout_refused', { variant: 'bad_steps', steps: s });
  return s;
}

/**
 * The whole schedule of a canary, pure: the baseline (the one version served now, kept with its
 * settings), the canary (same settings), the steps, the analysis snapshot and the payload table.
 *
 * @example planRollout({ input, endpoint, version, policy, resolveModel }).steps // [5, 25, 50, 100]
 */
export function planRollout(p: PlanRolloutInput): RolloutPlan {
  const { input, endpoint, policy } = p;
  const name = input.analysis ?? DEFAULT_ANALYSIS;
  const setting = policy.analyses?.[name];
  if (!setting || !Object.hasOwn(policy.analyses ?? {}, name)) {
    throw new UserError('rollout_refused', {
      variant: 'unknown_analysis',
      name,
      known: Object.keys(policy.analyses ?? {}),
    });
  }
  const table = policy.inferenceTables?.[endpoint.name];
  if (!table || !Object.hasOwn(policy.inferenceTables ?? {}, endpoint.name)) {
    throw new UserError('rollout_inference_table', { variant: 'not_in_policy', endpoint: endpoint.name });
  }
  const payloadTable = `${table.catalog}.${table.schema}.${table.prefix}_payload`;
  const it = endpoint.inferenceTable;
  if (!it?.enabled) {
    throw new UserError('rollout_inference_table', {
      variant: 'not_enabled',
      endpoint: endpoint.name,
      table: payloadTable,
    });
  }
  if (it.payloadTable && it.payloadTable.toLowerCase() !== payloadTable.toLowerCase()) {
    throw new UserError('rollout_inference_table', {
      variant: 'elsewhere',
      endpoint: endpoint.name,
      table: payloadTable,
      enabledTable: it.payloadTable,
    });
  }
  const served = endpoint.current?.servedVersions ?? [];
  const routed = served.filter((v) =>
    (endpoint.current?.traffic ?? []).some((r) => r.servedName === v.name && r.percent > 0),
  );
  if (served.length !== 1 || routed.length !== 1) {
    throw new UserError('rollout_refused', {
      variant: 'not_one_version',
      endpoint: endpoint.name,
      served: served.map((v) => v.name),
    });
  }
  const { state: _s, stateMessage: _m, ...baseline } = served[0]!;
  requireReady(p.version);
  const canaryName = servedNameFor(p.version.modelName, p.version.version);
  if (
    canaryName === baseline.name ||
    (baseline.modelName.toLowerCase() === p.version.modelName.toLowerCase() &&
      baseline.modelVersion === String(p.version.version))
  ) {
    throw new UserError('rollout_refused', {
      variant: 'already_served',
      endpoint: endpoint.name,
      servedName: baseline.name,
    });
  }
  const canary: EntitySpec = {
    name: canaryName,
    modelName: p.version.modelName,
    modelVersion: String(p.version.version),
    workloadSize: baseline.workloadSize,
    scaleToZero: baseline.scaleToZero,
  };
  const analysis: Analysis = {
    guardrails: setting.guardrails,
    minRequests: setting.minRequests,
    failuresToRollback: setting.failuresToRollback,
    inconclusiveLimit: setting.inconclusiveLimit,
    checkEveryMs: setting.checkEvery,
    unreadableForMs: setting.unreadableFor,
  };
  const alias = 'alias' in input.target ? input.target.alias : undefined;
  // A bound alias of this endpoint moves with a successful rollout (the gate asked once, at start).
  const binding = (policy.bindings ?? []).find(
    (b) =>
      b.endpoint === endpoint.name &&
      p.resolveModel(b.model).toLowerCase() === p.version.modelName.toLowerCase(),
  );
  return {
    endpoint: endpoint.name,
    model: p.version.modelName,
    version: p.version.version,
    ...(alias ? { alias } : {}),
    // Never a way round a gate: a gated alias moves only when this rollout itself was approved.
    ...(binding && (p.gate || !p.aliasGated?.(p.version.modelName, binding.alias))
      ? { moveAlias: binding.alias }
      : {}),
    baseline,
    canary,
    steps: normaliseSteps(input.steps),
    everyMs: input.everyMs ?? setting.every,
    analysisName: name,
    analysis,
    payloadTable,
    ...(endpoint.current?.configVersion !== undefined
      ? { baseConfigVersion: endpoint.current.configVersion }
      : {}),
    ...(p.gate ? { gate: p.gate } : {}),
  };
}

export interface RolloutPlanDeps {
  serving: Serving;
  registry: Registry;
  warehouse: Warehouse | undefined;
  policy: RolloutPolicy;
  resolveModel: (name: string) => string;
  now: () => number;
  /** The gate covering the endpoint, looked up by the caller (approvals/gate.ts). */
  gateFor: (endpoint: string) => RolloutPlan['gate'] | undefined;
  aliasGated?: (model: string, alias: string) => boolean;
}

/** How far back the probe looks for baseline traffic. */
const PROBE_WINDOW_MS = 24 * 3_600_000;

/**
 * Reads what a plan needs and plans; then probes the inference table with the very statements the
 * checks will run, so a missing table, a missing metric or an empty table refuses the plan now.
 *
 * @example const plan = await buildRolloutPlan(input, deps);
 */
export async function buildRolloutPlan(input: RolloutCommand, deps: RolloutPlanDeps): Promise<RolloutPlan> {
  const [endpoint, version] = await Promise.all([
    deps.serving.get(input.endpoint),
    'version' in input.target
      ? deps.registry.getVersion(input.model, input.target.version)
      : deps.registry.resolveAlias(input.model, input.target.alias),
  ]);
  const gate = deps.gateFor(endpoint.name);
  const plan = planRollout({
    input,
    endpoint,
    version,
    policy: deps.policy,
    resolveModel: deps.resolveModel,
    ...(gate ? { gate } : {}),
    ...(deps.aliasGated ? { aliasGated: deps.aliasGated } : {}),
  });
  if (!deps.warehouse) throw new UserError('no_warehouse', {});
  const now = deps.now();
  let figures: Awaited<ReturnType<typeof readFigures>>['figures'];
  try {
    ({ figures } = await readFigures(deps.warehouse, plan, now - PROBE_WINDOW_MS, now + 1));
  } catch (e) {
    if (!isUserError(e)) throw e;
    const message = e.message.replace(/^\S+ /, '');
    const quality = qualityStatement(plan);
    const g = plan.analysis.guardrails.find((x) => x.metric === 'quality');
    // Which statement failed: the quality one mentions the monitor table.
    if (
      quality &&
      g?.profileTable &&
      /column|field|profile|cannot be resolved/i.test(message) &&
      !hasCode(e, 'table_not_found')
    ) {
      throw new UserError('rollout_inference_table', {
        variant: 'metric_unreadable',
        table: g.profileTable,
        column: g.column ?? '',
        warehouseMessage: warehouseText(e),
      });
    }
    throw new UserError('rollout_inference_table', {
      variant: 'unreadable',
      endpoint: plan.endpoint,
      table: plan.payloadTable,
      warehouseMessage: warehouseText(e),
    });
  }
  if (figures.baseline.requests === 0) {
    throw new UserError('rollout_inference_table', {
      variant: 'empty',
      endpoint: plan.endpoint,
      table: plan.payloadTable,
      servedName: plan.baseline.name,
      windowMs: PROBE_WINDOW_MS,
    });
  }
  return plan;
}

/** The warehouse's own message, for the refusal. */
function warehouseText(e: UserError): string {
  const d = e.details as { warehouseMessage?: string; driverMessage?: string; name?: string };
  return d.warehouseMessage ?? d.driverMessage ?? (d.name ? `bad name ${d.name}` : e.code);
}
