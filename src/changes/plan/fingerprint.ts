/**
 * Fingerprints: a digest of the state a plan was built on. Apply (and approval) rebuild the plan
 * and refuse it as stale when the digest differs.
 */

import { aliasVersion } from '../../domain/model-versions.js';
import type { ModelInfo } from '../../domain/ports/registry.js';
import type { Endpoint } from '../../domain/ports/serving.js';
import { onOff } from './diff.js';

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
