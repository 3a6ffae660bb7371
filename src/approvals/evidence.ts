/**
 * The evidence an approver sees next to a request: the incoming version (creator, time, aliases,
 * link), the version it replaces, and, where a monitor watches the model, the latest quality and
 * drift figures of both. Gathered once when the request is made and stored with it, so every
 * update of the message shows the same facts. Best effort: a part that cannot be read is left
 * out, and the request is still made.
 */

import { isUserError } from '../domain/errors.js';
import type { ModelVersionInfo, Registry } from '../domain/ports/registry.js';
import { modelVersionUrl } from '../domain/workspace-links.js';
import { type ApprovalPlan, primaryStep } from './request-plan.js';

export interface VersionFacts {
  version: number;
  status: string;
  createdBy?: string;
  /** ms since the epoch. */
  createdAt: number;
  aliases: string[];
  url: string;
  comment?: string;
}

/** One figure for the incoming and the outgoing version (null: no data). */
export interface FigureRow {
  /** e.g. 'f1_score.macro', 'js_distance (prediction)'. */
  label: string;
  incoming: number | null;
  outgoing: number | null;
}

export interface MonitorFigures {
  monitor: string;
  /** Start of the latest window the figures come from (ms). */
  windowStart?: number;
  rows: FigureRow[];
}

export interface Evidence {
  /** The version the request brings in (promotion, deployment job) or the latest version (retraining). */
  incoming?: VersionFacts;
  /** The version it replaces (the alias's current target, or the Champion for retraining). */
  outgoing?: VersionFacts;
  figures?: MonitorFigures;
}

/** Where a monitor's latest figures come from (the SQL warehouse); optional. */
export interface FiguresSource {
  /** Latest figures of the model's versions, or undefined when no monitor watches the model. */
  figuresFor(
    model: string,
    incoming: number,
    outgoing: number | undefined,
  ): Promise<MonitorFigures | undefined>;
}

export interface EvidenceDeps {
  registry: Pick<Registry, 'getVersion' | 'listVersions' | 'getModel'>;
  workspaceHost: string;
  figures?: FiguresSource;
  /** Sees errors that are ours (not a missing version): evidence is best effort. */
  onError?: (err: unknown) => void;
}

function facts(v: ModelVersionInfo, host: string): VersionFacts {
  return {
    version: v.version,
    status: v.status,
    createdAt: v.createdAt.getTime(),
    aliases: v.aliases,
    url: modelVersionUrl(host, v.modelName, v.version),
    ...(v.createdBy ? { createdBy: v.createdBy } : {}),
    ...(v.comment ? { comment: v.comment } : {}),
  };
}

async function attempt<T>(deps: EvidenceDeps, read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (e) {
    if (!isUserError(e)) deps.onError?.(e);
    return undefined;
  }
}

/**
 * Reads the evidence for a request's plan.
 *
 * @example const evidence = await gatherEvidence(plan, { registry, workspaceHost });
 */
export async function gatherEvidence(plan: ApprovalPlan, deps: EvidenceDeps): Promise<Evidence> {
  const evidence: Evidence = {};
  let model: string | undefined;
  let incoming: number | undefined;
  let outgoing: number | undefined;
  if (plan.kind === 'change') {
    const asked = primaryStep(plan).plan;
    if (asked.kind === 'alias') {
      model = asked.model;
      incoming = asked.toVersion;
      outgoing = asked.fromVersion;
      // A bound alias that points nowhere yet replaces what its endpoint serves.
      const rollout = plan.steps.find((s) => s.plan.kind === 'endpoint')?.plan;
      if (outgoing === undefined && rollout?.kind === 'endpoint') {
        const served = rollout.before?.servedVersions.find(
          (v) => v.modelName.toLowerCase() === asked.model.toLowerCase() && /^\d+$/.test(v.modelVersion),
        );
        if (served) outgoing = Number(served.modelVersion);
      }
    } else {
      const routed = asked.after.servedVersions[0];
      const before = asked.before?.servedVersions[0];
      if (routed && /^\d+$/.test(routed.modelVersion)) {
        model = routed.modelName;
        incoming = Number(routed.modelVersion);
        if (
          before &&
          before.modelName.toLowerCase() === model.toLowerCase() &&
          /^\d+$/.test(before.modelVersion)
        ) {
          outgoing = Number(before.modelVersion);
        }
      }
    }
  } else if (plan.kind === 'deployment') {
    // The version the job would deploy, beside the Champion it would follow.
    model = plan.model;
    incoming = plan.version;
    const m = plan.model;
    const info = await attempt(deps, () => deps.registry.getModel(m));
    const champion = info?.aliases.find((a) => a.alias.toLowerCase() === 'champion')?.version;
    if (champion !== undefined && champion !== plan.version) outgoing = champion;
  } else {
    model = plan.model;
    const versions = await attempt(deps, () => deps.registry.listVersions(plan.model));
    const latest = versions?.[versions.length - 1];
    const champion = versions?.find((v) => v.aliases.some((a) => a.toLowerCase() === 'champion'));
    if (latest) evidence.incoming = facts(latest, deps.workspaceHost);
    if (champion && champion.version !== latest?.version) {
      evidence.outgoing = facts(champion, deps.workspaceHost);
    }
    incoming = latest?.version;
    outgoing = champion?.version;
  }
  if (model !== undefined && incoming !== undefined && plan.kind !== 'retrain') {
    const m = model;
    const [a, b] = await Promise.all([
      attempt(deps, () => deps.registry.getVersion(m, incoming)),
      outgoing === undefined ? undefined : attempt(deps, () => deps.registry.getVersion(m, outgoing)),
    ]);
    if (a) evidence.incoming = facts(a, deps.workspaceHost);
    if (b) evidence.outgoing = facts(b, deps.workspaceHost);
  }
  if (deps.figures && model !== undefined && incoming !== undefined) {
    const m = model;
    const figures = await attempt(deps, () => deps.figures!.figuresFor(m, incoming, outgoing));
    if (figures && figures.rows.length > 0) evidence.figures = figures;
  }
  return evidence;
}
