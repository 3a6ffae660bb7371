/**
 * Plans: pure functions from the state read now and what was asked to what will be after, plus a
 * readable diff and a fingerprint of the state the plan was built on. No I/O: callers read the
 * endpoint, model and versions and pass them in (see src/commands/{deploy,split,promote,rollback}.ts).
 */

import { normaliseConfig, sameConfig, servedNameFor } from '../domain/endpoint-config.js';
import { UserError } from '../domain/errors.js';
import { aliasVersion, requireReady } from '../domain/model-versions.js';
import type { ModelInfo, ModelVersionInfo } from '../domain/ports/registry.js';
import type { Endpoint, EndpointConfig, ServedVersion, WorkloadSize } from '../domain/ports/serving.js';
import type { AliasPlan, DiffLine, EndpointPlan, Plan } from './types.js';

/** Size and scale-to-zero of a version nobody chose them for. */
export const DEFAULT_WORKLOAD_SIZE: WorkloadSize = 'Small';
export const DEFAULT_SCALE_TO_ZERO = true;

const sameModel = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
const shortName = (fullName: string) => fullName.split('.').pop() || fullName;
const label = (model: string, version: string | number) => `${shortName(model)} v${version}`;
const key = (v: Pick<ServedVersion, 'modelName' | 'modelVersion'>) =>
  `${v.modelName.toLowerCase()}@${v.modelVersion}`;
const onOff = (b: boolean) => (b ? 'on' : 'off');

/** Traffic percentage a served version gets in a config (no route = 0 %). */
export function trafficOf(config: EndpointConfig, servedName: string): number {
  return config.traffic.find((r) => r.servedName === servedName)?.percent ?? 0;
}

/** The served version of a model in a config that gets the most traffic, to copy its settings. */
function busiestOf(config: EndpointConfig | undefined, model: string): ServedVersion | undefined {
  const same = (config?.servedVersions ?? []).filter((v) => sameModel(v.modelName, model));
  return same.sort((a, b) => trafficOf(config!, b.name) - trafficOf(config!, a.name))[0];
}

/**
 * Digest of what a plan for an endpoint depends on: the live config version, the served versions
 * with their settings, the traffic, and whether a rollout is under way. Deployment states are left
 * out on purpose: a version scaling to zero does not make a plan stale.
 *
 * @example endpointFingerprint(undefined) // 'absent'
 */
export function endpointFingerprint(endpoint: Endpoint | undefined): string {
  if (!endpoint) return 'absent';
  const c = endpoint.current;
  const served = (c?.servedVersions ?? [])
    .map((v) =>
      [v.name, v.modelName.toLowerCase(), v.modelVersion, v.workloadSize, onOff(v.scaleToZero)].join(':'),
    )
    .sort()
    .join(',');
  const traffic = (c?.traffic ?? [])
    .map((r) => `${r.servedName}=${r.percent}`)
    .sort()
    .join(',');
  return [
    `config=${c?.configVersion ?? (c ? '?' : 'none')}`,
    `served=${served}`,
    `traffic=${traffic}`,
    `rollout=${endpoint.updating ? 'pending' : 'none'}`,
  ].join(';');
}

/**
 * Digest of an alias: the version it points at now, or 'none'.
 *
 * @example aliasFingerprint(model, 'Champion') // '2'
 */
export function aliasFingerprint(model: ModelInfo, alias: string): string {
  const v = aliasVersion(model, alias);
  return v === undefined ? 'none' : String(v);
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
function refuseNoOp(
  endpoint: string,
  before: EndpointConfig | undefined,
  after: EndpointConfig,
  hint: string,
) {
  if (before && sameConfig(before, after)) {
    throw new UserError(
      'no_change',
      `${endpoint} already serves ${describeTraffic(after)}; nothing to change.`,
      hint,
    );
  }
}

export interface DeployPlanInput {
  /** Endpoint to deploy to. */
  endpointName: string;
  /** The endpoint as read now; undefined when it does not exist (the plan then creates it). */
  endpoint: Endpoint | undefined;
  /** The version to serve (must be READY). */
  version: ModelVersionInfo;
  size?: WorkloadSize;
  scaleToZero?: boolean;
  /** The alias the version was chosen by (`@Champion`), if any: its target is part of the fingerprint. */
  alias?: string;
}

/**
 * Deploy: the endpoint serves this one version at 100 %. Size and scale-to-zero are those asked
 * for, else those of this version if already served, else of the busiest served version of the
 * same model, else Small with scale-to-zero on.
 *
 * @example planDeploy({ endpointName: 'churn', endpoint: undefined, version }) // { create: true, ... }
 */
export function planDeploy(input: DeployPlanInput): EndpointPlan {
  const { endpointName, endpoint, version } = input;
  requireReady(version);
  const before = endpoint?.current;
  const model = version.modelName;
  const same = before?.servedVersions.find(
    (v) => key(v) === key({ modelName: model, modelVersion: String(version.version) }),
  );
  const template = same ?? busiestOf(before, model);
  const name = same?.name ?? servedNameFor(model, version.version);
  const after = normaliseConfig({
    servedVersions: [
      {
        name,
        modelName: model,
        modelVersion: version.version,
        workloadSize: input.size ?? template?.workloadSize ?? DEFAULT_WORKLOAD_SIZE,
        scaleToZero: input.scaleToZero ?? template?.scaleToZero ?? DEFAULT_SCALE_TO_ZERO,
      },
    ],
    traffic: [{ servedName: name, percent: 100 }],
  });
  refuseNoOp(
    endpointName,
    before,
    after,
    'Pick another version, or change size= or scale-to-zero= to redeploy with other settings.',
  );
  return {
    kind: 'endpoint',
    subcommand: 'deploy',
    endpoint: endpointName,
    create: endpoint === undefined,
    ...(before ? { before } : {}),
    after,
    // Deploying by alias depends on where the alias points too: if it moved, Apply must not
    // silently deploy another version than the plan showed.
    fingerprint: `${endpointFingerprint(endpoint)}${
      input.alias ? `;alias ${input.alias.toLowerCase()}=${version.version}` : ''
    }`,
  };
}

/**
 * The one model an endpoint serves; split adds versions of it. Throws when the endpoint has no
 * live config yet or serves several models (then versions alone are ambiguous).
 */
export function servedModelOf(endpoint: Endpoint): string {
  const models = new Map<string, string>();
  for (const v of endpoint.current?.servedVersions ?? []) models.set(v.modelName.toLowerCase(), v.modelName);
  const [first, ...rest] = [...models.values()];
  if (!first) {
    throw new UserError(
      'no_live_config',
      `${endpoint.name} has no live config yet, so there is nothing to split.`,
      `Deploy a version first: \`/mlops deploy <model> <version> to ${endpoint.name}\`.`,
    );
  }
  if (rest.length > 0) {
    throw new UserError(
      'several_models',
      `${endpoint.name} serves several models (${[first, ...rest].map(shortName).join(', ')}), so a version number alone is ambiguous.`,
      'Change this endpoint in the Databricks UI, or deploy one model to it first.',
    );
  }
  return first;
}

export interface SplitPlanInput {
  endpoint: Endpoint;
  routes: Array<{ version: number; percent: number }>;
  /** Registry records of the versions the endpoint does not serve yet (they must be READY). */
  newVersions: ModelVersionInfo[];
}

/**
 * Split: the versions listed get the traffic given; versions not yet served are added with the
 * settings of the busiest served version of the model; served versions left out are removed.
 *
 * @example planSplit({ endpoint, routes: [{ version: 2, percent: 90 }, { version: 3, percent: 10 }], newVersions: [v3] })
 */
export function planSplit(input: SplitPlanInput): EndpointPlan {
  const { endpoint, routes } = input;
  const model = servedModelOf(endpoint);
  const before = endpoint.current!;
  const template = busiestOf(before, model);
  const servedVersions: ServedVersion[] = routes.map(({ version }) => {
    const served = before.servedVersions.find(
      (v) => key(v) === key({ modelName: model, modelVersion: String(version) }),
    );
    if (served) {
      const { state: _state, stateMessage: _message, ...kept } = served;
      return kept;
    }
    const info = input.newVersions.find((v) => v.version === version && sameModel(v.modelName, model));
    if (!info) {
      throw new Error(`planSplit: no registry record was passed for ${label(model, version)}`);
    }
    requireReady(info);
    return {
      name: servedNameFor(model, version),
      modelName: model,
      modelVersion: String(version),
      workloadSize: template?.workloadSize ?? DEFAULT_WORKLOAD_SIZE,
      scaleToZero: template?.scaleToZero ?? DEFAULT_SCALE_TO_ZERO,
    };
  });
  const after = normaliseConfig({
    servedVersions,
    traffic: routes.map((r, i) => ({ servedName: servedVersions[i]!.name, percent: r.percent })),
  });
  refuseNoOp(
    endpoint.name,
    before,
    after,
    'Give other percentages, or check `/mlops status` for the split now.',
  );
  return {
    kind: 'endpoint',
    subcommand: 'split',
    endpoint: endpoint.name,
    create: false,
    before,
    after,
    fingerprint: endpointFingerprint(endpoint),
  };
}

export interface RollbackPlanInput {
  endpoint: Endpoint;
  /** The config the endpoint served before the bot's last change, from the change store. */
  previous: EndpointConfig | undefined;
}

/**
 * Rollback: restore the served versions and traffic the endpoint had before the bot's last change.
 *
 * @example planRollback({ endpoint, previous: await history.previousConfig('churn') })
 */
export function planRollback(input: RollbackPlanInput): EndpointPlan {
  const { endpoint, previous } = input;
  if (!previous) {
    throw new UserError(
      'no_history',
      `The bot has no earlier config of ${endpoint.name} to roll back to.`,
      `Rollback restores what the bot changed. Use \`/mlops deploy\` or \`/mlops split\` to set the config you want.`,
    );
  }
  const after = normaliseConfig({
    servedVersions: previous.servedVersions.map(
      ({ name, modelName, modelVersion, workloadSize, scaleToZero }) => ({
        name,
        modelName,
        modelVersion,
        workloadSize,
        scaleToZero,
      }),
    ),
    traffic: previous.traffic.map((r) => ({ servedName: r.servedName, percent: r.percent })),
  });
  refuseNoOp(endpoint.name, endpoint.current, after, 'The previous config is already live.');
  return {
    kind: 'endpoint',
    subcommand: 'rollback',
    endpoint: endpoint.name,
    create: false,
    ...(endpoint.current ? { before: endpoint.current } : {}),
    after,
    fingerprint: endpointFingerprint(endpoint),
  };
}

export interface PromotePlanInput {
  /** The model read with its aliases. */
  model: ModelInfo;
  /** Canonical spelling, e.g. 'Champion'. */
  alias: string;
  /** The version the alias should point at (must be READY). */
  version: ModelVersionInfo;
}

/**
 * Promote: move an alias to a version. Refuses a move to where the alias already points.
 *
 * @example planPromote({ model, alias: 'Champion', version: v3 }) // { fromVersion: 2, toVersion: 3, ... }
 */
export function planPromote(input: PromotePlanInput): AliasPlan {
  const { model, alias, version } = input;
  requireReady(version);
  const fromVersion = aliasVersion(model, alias);
  if (fromVersion === version.version) {
    throw new UserError(
      'no_change',
      `${alias} of ${model.fullName} already points at version ${version.version}; nothing to change.`,
      `Run \`/mlops models ${shortName(model.fullName)}\` to see the versions and their aliases.`,
    );
  }
  return {
    kind: 'alias',
    subcommand: 'promote',
    model: model.fullName,
    alias,
    ...(fromVersion !== undefined ? { fromVersion } : {}),
    toVersion: version.version,
    fingerprint: aliasFingerprint(model, alias),
  };
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
  for (const v of before?.servedVersions ?? []) byKey.set(key(v), { b: v });
  for (const v of after.servedVersions) byKey.set(key(v), { ...byKey.get(key(v)), a: v });
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
