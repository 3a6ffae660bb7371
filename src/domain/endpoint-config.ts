/**
 * Rules for endpoint configs that hold whichever client sends them: limits, the served-entity name
 * modelgate gives a model version, normalisation before sending, and config equality.
 */
import { UserError } from './errors.js';
import type { EndpointConfig, EndpointConfigInput, ServedVersion } from './ports/serving.js';

export const MAX_SERVED_VERSIONS = 10;
/** Model Serving refuses request bodies above 16 MB. */
export const MAX_QUERY_BYTES = 16 * 1024 * 1024;
const NAME_RE = /^[A-Za-z0-9_-]{1,63}$/;

/**
 * The served entity name modelgate gives a model version: short model name, sanitised, `-<version>`.
 *
 * @example servedNameFor('main.ml.churn_model', 3) // 'churn_model-3'
 */
export function servedNameFor(modelFullName: string, version: string | number): string {
  const suffix = `-${String(version).replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const short = (modelFullName.split('.').pop() ?? '').replace(/[^A-Za-z0-9_-]/g, '_') || 'model';
  return `${short.slice(0, 63 - suffix.length)}${suffix}`;
}

/**
 * Throws `invalid_name` unless the name is a valid endpoint or served version name.
 *
 * @example checkName('churn-endpoint', 'endpoint')
 */
export function checkName(name: string, what: 'endpoint' | 'served version'): void {
  if (!NAME_RE.test(name)) throw new UserError('invalid_name', { name, what });
}

/**
 * Checks a config before it is sent and returns it with every name and route explicit: names default
 * to `servedNameFor`, and a served version without a route gets a 0 % route (keeps it warm).
 * Throws a UserError on anything Databricks would refuse.
 *
 * @example normaliseConfig({ servedVersions: [{ modelName: 'main.ml.churn', modelVersion: 3 }] })
 */
export function normaliseConfig(input: EndpointConfigInput): EndpointConfig {
  const versions = input.servedVersions;
  if (versions.length === 0) throw new UserError('invalid_config', { variant: 'no_versions' });
  if (versions.length > MAX_SERVED_VERSIONS) {
    throw new UserError('too_many_versions', { max: MAX_SERVED_VERSIONS, count: versions.length });
  }
  const servedVersions: ServedVersion[] = versions.map((v) => {
    const modelVersion = String(v.modelVersion).trim();
    if (!/^\d+$/.test(modelVersion)) {
      throw new UserError('invalid_version', { value: modelVersion, source: 'config' });
    }
    if (!v.modelName.trim()) throw new UserError('invalid_config', { variant: 'no_model_name' });
    const name = v.name ?? servedNameFor(v.modelName, modelVersion);
    checkName(name, 'served version');
    return {
      name,
      modelName: v.modelName,
      modelVersion,
      workloadSize: v.workloadSize ?? 'Small',
      scaleToZero: v.scaleToZero ?? false,
    };
  });
  const names = new Set<string>();
  const pairs = new Set<string>();
  for (const v of servedVersions) {
    if (names.has(v.name)) throw new UserError('duplicate_served_name', { servedName: v.name });
    const pair = `${v.modelName.toLowerCase()}@${v.modelVersion}`;
    if (pairs.has(pair)) {
      throw new UserError('duplicate_version', { model: v.modelName, version: v.modelVersion });
    }
    names.add(v.name);
    pairs.add(pair);
  }

  const only = servedVersions[0]!;
  const given =
    input.traffic ?? (servedVersions.length === 1 ? [{ servedName: only.name, percent: 100 }] : []);
  if (given.length === 0) {
    throw new UserError('invalid_traffic', {
      variant: 'split_missing',
      servedNames: servedVersions.map((v) => v.name),
    });
  }
  const routed = new Set<string>();
  for (const r of given) {
    if (!names.has(r.servedName)) {
      throw new UserError('invalid_traffic', {
        variant: 'unknown_route',
        servedName: r.servedName,
        servedNames: [...names],
      });
    }
    if (routed.has(r.servedName)) {
      throw new UserError('invalid_traffic', { variant: 'two_routes', servedName: r.servedName });
    }
    if (!Number.isInteger(r.percent) || r.percent < 0 || r.percent > 100) {
      throw new UserError('invalid_traffic', {
        variant: 'bad_percent',
        servedName: r.servedName,
        percent: r.percent,
      });
    }
    routed.add(r.servedName);
  }
  const total = given.reduce((s, r) => s + r.percent, 0);
  if (total !== 100) throw new UserError('invalid_traffic', { variant: 'total', total });
  const traffic = [
    ...given.map((r) => ({ servedName: r.servedName, percent: r.percent })),
    ...servedVersions.filter((v) => !routed.has(v.name)).map((v) => ({ servedName: v.name, percent: 0 })),
  ];
  return { servedVersions, traffic };
}

/** Whether two configs deploy the same versions with the same settings and split (order ignored). */
export function sameConfig(a: EndpointConfig, b: EndpointConfig): boolean {
  const versions = (c: EndpointConfig) =>
    c.servedVersions
      .map((v) =>
        [v.name, v.modelName.toLowerCase(), v.modelVersion, v.workloadSize, v.scaleToZero].join('|'),
      )
      .sort()
      .join(',');
  // A route of 0 % and no route at all mean the same thing.
  const routes = (c: EndpointConfig) =>
    c.traffic
      .filter((r) => r.percent > 0)
      .map((r) => `${r.servedName}=${r.percent}`)
      .sort()
      .join(',');
  return versions(a) === versions(b) && routes(a) === routes(b);
}
