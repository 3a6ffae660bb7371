/**
 * What plans have in common and how they read: the small helpers every planner uses, the readable
 * diff, the one-line summary and the staleness sentence. Pure.
 */

import type { DiffLine, Plan } from '../../domain/change.js';
import { sameConfig } from '../../domain/endpoint-config.js';
import { UserError } from '../../domain/errors.js';
import type { EndpointConfig, ServedVersion, WorkloadSize } from '../../domain/ports/serving.js';

/** Size and scale-to-zero of a version nobody chose them for. */
export const DEFAULT_WORKLOAD_SIZE: WorkloadSize = 'Small';
export const DEFAULT_SCALE_TO_ZERO = true;

/** Model names compare without case. */
export const sameModel = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
/** 'acme.mlops.churn_model' → 'churn_model' */
export const shortName = (fullName: string) => fullName.split('.').pop() || fullName;
/** 'churn_model v3' */
export const label = (model: string, version: string | number) => `${shortName(model)} v${version}`;
/** Identity of a served model version: lower-case model name and version. */
export const versionKey = (v: Pick<ServedVersion, 'modelName' | 'modelVersion'>) =>
  `${v.modelName.toLowerCase()}@${v.modelVersion}`;
/** true → 'on' */
export const onOff = (b: boolean) => (b ? 'on' : 'off');

/** Traffic percentage a served version gets in a config (no route = 0 %). */
export function trafficOf(config: EndpointConfig, servedName: string): number {
  return config.traffic.find((r) => r.servedName === servedName)?.percent ?? 0;
}

/** The served version of a model in a config that gets the most traffic, to copy its settings. */
export function busiestOf(config: EndpointConfig | undefined, model: string): ServedVersion | undefined {
  const same = (config?.servedVersions ?? []).filter((v) => sameModel(v.modelName, model));
  return same.sort((a, b) => trafficOf(config!, b.name) - trafficOf(config!, a.name))[0];
}

/**
 * "churn_model v2 90% · churn_model v3 10%": the versions getting traffic, largest share first.
 *
 * @example describeTraffic(plan.after) // 'churn_model v3 100%'
 */
export function describeTraffic(config: EndpointConfig | undefined): string {
  if (!config || config.servedVersions.length === 0) return 'nothing';
  const byName = new Map(config.servedVersions.map((v) => [v.name, v]));
  const routes = config.traffic.filter((r) => r.percent > 0).sort((a, b) => b.percent - a.percent);
  const parts = routes.map((r) => {
    const v = byName.get(r.servedName);
    return v ? `${shortName(v.modelName)} v${v.modelVersion} ${r.percent}%` : `${r.servedName} ${r.percent}%`;
  });
  const idle = config.servedVersions.filter((v) => !routes.some((r) => r.servedName === v.name));
  for (const v of idle) parts.push(`${shortName(v.modelName)} v${v.modelVersion} 0%`);
  return parts.join(' · ');
}

/** Refuses a plan that would change nothing. */
export function refuseNoOp(
  endpoint: string,
  before: EndpointConfig | undefined,
  after: EndpointConfig,
  subcommand: 'deploy' | 'split' | 'rollback',
) {
  if (before && sameConfig(before, after)) {
    throw new UserError('no_change', {
      variant: 'endpoint',
      endpoint,
      traffic: describeTraffic(after),
      subcommand,
    });
  }
}

/**
 * The plan as readable lines: traffic of every version before and after, size and scale-to-zero
 * of added versions and of changed ones, the endpoint being created, the alias moving.
 *
 * @example diffPlan(plan) // [{ label: 'churn_model v3 traffic', before: 'not served', after: '100%', change: 'added' }, ...]
 */
export function diffPlan(plan: Plan): DiffLine[] {
  if (plan.kind === 'alias') {
    return [
      {
        label: `${shortName(plan.model)} alias ${plan.alias}`,
        before: plan.fromVersion === undefined ? 'none' : `v${plan.fromVersion}`,
        after: `v${plan.toVersion}`,
        change: plan.fromVersion === undefined ? 'added' : 'changed',
      },
    ];
  }
  const lines: DiffLine[] = [];
  if (plan.create) {
    lines.push({
      label: `endpoint ${plan.endpoint}`,
      before: 'does not exist',
      after: 'created',
      change: 'added',
    });
  }
  const before = plan.before;
  const after = plan.after;
  const byKey = new Map<string, { b?: ServedVersion; a?: ServedVersion }>();
  for (const v of before?.servedVersions ?? []) byKey.set(versionKey(v), { b: v });
  for (const v of after.servedVersions) byKey.set(versionKey(v), { ...byKey.get(versionKey(v)), a: v });
  const ordered = [...byKey.values()].sort((x, y) => {
    const vx = (x.a ?? x.b)!;
    const vy = (y.a ?? y.b)!;
    return (
      vx.modelName.toLowerCase().localeCompare(vy.modelName.toLowerCase()) ||
      Number(vx.modelVersion) - Number(vy.modelVersion) ||
      vx.modelVersion.localeCompare(vy.modelVersion)
    );
  });
  for (const { a, b } of ordered) {
    const v = (a ?? b)!;
    const name = label(v.modelName, v.modelVersion);
    if (a && b) {
      const tb = trafficOf(before!, b.name);
      const ta = trafficOf(after, a.name);
      lines.push({
        label: `${name} traffic`,
        before: `${tb}%`,
        after: `${ta}%`,
        change: tb === ta ? 'unchanged' : 'changed',
      });
      if (a.workloadSize !== b.workloadSize) {
        lines.push({
          label: `${name} size`,
          before: b.workloadSize,
          after: a.workloadSize,
          change: 'changed',
        });
      }
      if (a.scaleToZero !== b.scaleToZero) {
        lines.push({
          label: `${name} scale-to-zero`,
          before: onOff(b.scaleToZero),
          after: onOff(a.scaleToZero),
          change: 'changed',
        });
      }
    } else if (a) {
      lines.push({
        label: `${name} traffic`,
        before: 'not served',
        after: `${trafficOf(after, a.name)}%`,
        change: 'added',
      });
      lines.push({ label: `${name} size`, before: '—', after: a.workloadSize, change: 'added' });
      lines.push({
        label: `${name} scale-to-zero`,
        before: '—',
        after: onOff(a.scaleToZero),
        change: 'added',
      });
    } else if (b) {
      lines.push({
        label: `${name} traffic`,
        before: `${trafficOf(before!, b.name)}%`,
        after: 'removed',
        change: 'removed',
      });
    }
  }
  if (plan.inferenceTable) {
    const t = plan.inferenceTable;
    lines.push({
      label: 'AI Gateway inference table',
      before: 'off',
      after: `${t.catalog}.${t.schema}.${t.tablePrefix}_payload`,
      change: 'added',
    });
  }
  return lines;
}

/**
 * One line saying what a plan does, for headers and fallback text.
 *
 * @example summarisePlan(plan) // 'Deploy churn_model v3 to churn-endpoint'
 */
export function summarisePlan(plan: Plan): string {
  if (plan.kind === 'alias') {
    const model = shortName(plan.model);
    return plan.fromVersion === undefined
      ? `Point ${plan.alias} of ${model} at v${plan.toVersion}`
      : `Move ${plan.alias} of ${model} from v${plan.fromVersion} to v${plan.toVersion}`;
  }
  const served = plan.after.servedVersions;
  switch (plan.subcommand) {
    case 'deploy': {
      const v = served[0]!;
      return plan.create
        ? `Create ${plan.endpoint} serving ${label(v.modelName, v.modelVersion)}`
        : `Deploy ${label(v.modelName, v.modelVersion)} to ${plan.endpoint}`;
    }
    case 'split':
      return `Split traffic on ${plan.endpoint}: ${served
        .map((v) => `v${v.modelVersion} ${trafficOf(plan.after, v.name)}%`)
        .join(', ')}`;
    case 'rollback':
      return `Roll back ${plan.endpoint} to ${describeTraffic(plan.after)}`;
  }
}

/**
 * What changed between the plan that was shown and the one built at Apply, in one sentence.
 *
 * @example describeStaleness(old, fresh) // 'churn-endpoint now serves churn_model v3 100% (the plan was made when it served churn_model v2 100%)'
 */
export function describeStaleness(shown: Plan, fresh: Plan): string {
  if (shown.kind === 'alias' && fresh.kind === 'alias') {
    const v = (n: number | undefined) => (n === undefined ? 'nowhere' : `v${n}`);
    return `${shown.alias} now points at ${v(fresh.fromVersion)} (the plan was made when it pointed at ${v(shown.fromVersion)})`;
  }
  if (shown.kind === 'endpoint' && fresh.kind === 'endpoint') {
    if (shown.create !== fresh.create) {
      return fresh.create
        ? `${fresh.endpoint} no longer exists`
        : `${fresh.endpoint} has been created meanwhile`;
    }
    const was = describeTraffic(shown.before);
    const now = describeTraffic(fresh.before);
    if (was !== now) return `${fresh.endpoint} now serves ${now} (the plan was made when it served ${was})`;
    return `${fresh.endpoint} changed since the plan was made (its config or rollout state is different)`;
  }
  return 'the target changed since the plan was made';
}
