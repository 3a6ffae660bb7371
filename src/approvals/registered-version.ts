/**
 * Which model version a finished retraining run registered. A Unity Catalog version names the
 * MLflow run it came from (`run_id`), not the job run, so the bot takes the versions created while
 * the job ran and reads their MLflow runs: the one tagged with this job run (or one of its task
 * runs) is the answer. A version created meanwhile whose MLflow run cannot be read (another
 * workspace, no job tags) is reported as unconfirmed rather than claimed.
 */

import { JOB_RUN_ID_TAG } from '../domain/job-runs.js';
import type { JobRun } from '../domain/ports/jobs.js';
import type { MlflowRuns } from '../domain/ports/mlflow.js';
import type { ModelVersionInfo, Registry } from '../domain/ports/registry.js';

export interface RegisteredVersion {
  version: ModelVersionInfo;
  /** True when the version's MLflow run names this job run. */
  confirmed: boolean;
}

export interface RegisteredVersionDeps {
  registry: Pick<Registry, 'listVersions'>;
  mlflow: MlflowRuns;
}

/** Clock skew allowed between the job's times and the registry's. */
const SKEW_MS = 2 * 60_000;
/** At most this many versions created during the run are looked into. */
const MAX_CANDIDATES = 5;

/**
 * @example const found = await findRegisteredVersion({ registry, mlflow }, 'main.ml.churn', run);
 */
export async function findRegisteredVersion(
  deps: RegisteredVersionDeps,
  model: string,
  run: JobRun,
): Promise<RegisteredVersion | undefined> {
  const from = (run.startedAt ?? run.endedAt)?.getTime();
  const to = run.endedAt?.getTime();
  if (from === undefined || to === undefined) return undefined;
  const versions = await deps.registry.listVersions(model);
  const candidates = versions
    .filter(
      (v) => v.runId && v.createdAt.getTime() >= from - SKEW_MS && v.createdAt.getTime() <= to + SKEW_MS,
    )
    // A training task registers its model near the end of the run: look there first.
    .sort((a, b) => Math.abs(a.createdAt.getTime() - to) - Math.abs(b.createdAt.getTime() - to))
    .slice(0, MAX_CANDIDATES);
  const ours = new Set([run.runId, ...run.taskRunIds].map(String));
  const unknown: ModelVersionInfo[] = [];
  for (const v of candidates) {
    const tags = await deps.mlflow.getRunTags(v.runId!);
    const jobRun = tags?.[JOB_RUN_ID_TAG];
    if (jobRun !== undefined && ours.has(jobRun)) return { version: v, confirmed: true };
    // A version tagged with another job run is someone else's; one without tags may be ours.
    if (jobRun === undefined) unknown.push(v);
  }
  return unknown.length === 1 ? { version: unknown[0]!, confirmed: false } : undefined;
}
