/**
 * What an approval request asks for, and how to tell that it went stale.
 *
 * A change request is a list of steps, each a pipeline change (a command and its plan), run in
 * order once approved. Moving a bound alias (Production of a model bound to an endpoint) is two
 * steps: the endpoint rolls out the version first, then the alias moves, so the alias never names
 * a version the endpoint failed to serve. A retraining request names the job, its parameters and a
 * digest of the job's settings. Building reads Databricks through injected functions; comparing
 * and describing are pure.
 */

import { changeTitle, shortModel } from '../changes/describe.js';
import { describeStaleness, describeTraffic } from '../changes/plan/index.js';
import type { ApprovalPolicy } from '../config/policy-gates.js';
import { type Plan, planTarget } from '../domain/change.js';
import { isUserError } from '../domain/errors.js';
import type { DeployCommand, MutatingCommand } from '../domain/vocabulary.js';
import { bindingFor, type Defaults } from './gate.js';

/** One change the request makes, run through the change pipeline once approved. */
export interface ChangeStep {
  input: MutatingCommand;
  plan: Plan;
}

export interface ChangeApprovalPlan {
  kind: 'change';
  /** In execution order; the last one is what was asked for. */
  steps: ChangeStep[];
}

export interface RetrainApprovalPlan {
  kind: 'retrain';
  /** Three-part model name. */
  model: string;
  jobId: number;
  jobName: string;
  /** Sent to run-now as job parameters. */
  parameters: Record<string, string>;
  /** The monitor that asked, if any. */
  monitor?: string;
  reason: string;
  /** Digest of the job's settings when the request was made. */
  fingerprint: string;
}

/**
 * A run of a model's deployment job waiting at its approval task: approving sets the version's
 * approval tag and repairs the run (deployment-jobs/).
 */
export interface DeploymentApprovalPlan {
  kind: 'deployment';
  /** Three-part model name. */
  model: string;
  version: number;
  jobId: number;
  jobName: string;
  runId: number;
  runUrl: string;
  /** The approval task's key: the tag it reads is named after it. */
  approvalTask: string;
  /** The run's last repair when the request was made (none: never repaired). */
  latestRepairId?: number;
  /** The approval task's run when the request was made: another one means the run was repaired. */
  approvalTaskRunId?: number;
  /** The evaluation task's metrics, as it reported them. */
  metrics: Array<{ key: string; value: number }>;
}

export type ApprovalPlan = ChangeApprovalPlan | RetrainApprovalPlan | DeploymentApprovalPlan;

/** A job's settings as far as a retraining request depends on them. */
import type { JobSettings } from '../domain/ports/jobs.js';

export type { JobSettings };

/** The step that was asked for (the last one). */
export function primaryStep(plan: ChangeApprovalPlan): ChangeStep {
  return plan.steps[plan.steps.length - 1]!;
}

/**
 * What a request is about, in a few words.
 *
 * @example approvalTitle(plan) // 'Production → churn_model v4' or 'Retrain churn_model'
 */
export function approvalTitle(plan: ApprovalPlan): string {
  if (plan.kind === 'retrain') return `Retrain ${shortModel(plan.model)}`;
  if (plan.kind === 'deployment') return `Deploy ${shortModel(plan.model)} v${plan.version} (deployment job)`;
  return changeTitle(primaryStep(plan).plan);
}

/**
 * The key the audit log files a request under: the target of the asked-for change, or
 * `retrain:<model>`, or `deployment:<model>@v<version>`.
 */
export function approvalTarget(plan: ApprovalPlan): string {
  if (plan.kind === 'deployment') return `deployment:${plan.model}@v${plan.version}`;
  return plan.kind === 'retrain' ? `retrain:${plan.model}` : planTarget(primaryStep(plan).plan);
}

/** Digest of everything a request depends on; two equal digests mean nothing relevant changed. */
export function approvalFingerprint(plan: ApprovalPlan): string {
  if (plan.kind === 'retrain') return `job ${plan.jobId}: ${plan.fingerprint}`;
  if (plan.kind === 'deployment') return `run ${plan.runId}: repair ${plan.latestRepairId ?? 'none'}`;
  return plan.steps.map((s) => `${planTarget(s.plan)}=${s.plan.fingerprint}`).join(' | ');
}

export interface StepBuildDeps {
  policy: Pick<ApprovalPolicy, 'bindings'>;
  defaults: Defaults;
  /** Builds a command's plan against the live state (the pipeline's own builder). */
  buildPlan: (input: MutatingCommand) => Promise<Plan>;
}

/**
 * The steps of a change request, given the asked-for change and its plan: a bound alias adds the
 * endpoint rollout before it (left out when the endpoint serves exactly that already).
 *
 * @example await buildChangeSteps(promoteInput, aliasPlan, deps) // [{ input: deploy…, plan }, { input: promoteInput, plan: aliasPlan }]
 */
export async function buildChangeSteps(
  input: MutatingCommand,
  plan: Plan,
  deps: StepBuildDeps,
): Promise<ChangeStep[]> {
  const steps: ChangeStep[] = [];
  if (plan.kind === 'alias') {
    const binding = bindingFor(deps.policy, plan.model, plan.alias, deps.defaults);
    if (binding) {
      const deploy: DeployCommand = {
        subcommand: 'deploy',
        model: plan.model,
        target: { version: plan.toVersion },
        endpoint: binding.endpoint,
        dryRun: false,
      };
      try {
        steps.push({ input: deploy, plan: await deps.buildPlan(deploy) });
      } catch (e) {
        if (!(isUserError(e) && e.code === 'no_change')) throw e;
      }
    }
  }
  steps.push({ input, plan });
  return steps;
}

/**
 * Rebuilds a change request's steps from the live state (the asked-for command first, then its
 * binding). Throws the planner's UserError when the request no longer makes sense.
 */
export async function rebuildChangeSteps(
  plan: ChangeApprovalPlan,
  deps: StepBuildDeps,
): Promise<ChangeStep[]> {
  const asked = primaryStep(plan).input;
  return buildChangeSteps(asked, await deps.buildPlan(asked), deps);
}

const stepKey = (s: ChangeStep) => planTarget(s.plan);

/**
 * What changed between the steps a request showed and those built now, in one sentence; undefined
 * when nothing did.
 *
 * @example describeStepChange(shown, fresh) // 'Production now points at v3 (the plan was made when it pointed at v2)'
 */
export function describeStepChange(shown: ChangeStep[], fresh: ChangeStep[]): string | undefined {
  const was = new Map(shown.map((s) => [stepKey(s), s]));
  const now = new Map(fresh.map((s) => [stepKey(s), s]));
  for (const [key, s] of was) {
    const f = now.get(key);
    if (!f) {
      return s.plan.kind === 'endpoint'
        ? `${s.plan.endpoint} already serves ${describeTraffic(s.plan.after)} (the request was made when it served ${describeTraffic(s.plan.before)})`
        : `${changeTitle(s.plan)} is no longer needed`;
    }
    if (f.plan.fingerprint !== s.plan.fingerprint) return describeStaleness(s.plan, f.plan);
  }
  for (const [key, f] of now) {
    if (!was.has(key) && f.plan.kind === 'endpoint') {
      return `${f.plan.endpoint} now serves ${describeTraffic(f.plan.before)} (it served the requested version when the request was made)`;
    }
  }
  return undefined;
}

/**
 * What changed in a job's settings, in one sentence; undefined when nothing did.
 *
 * @example describeJobChange(plan, settings) // 'job 1001 changed: its name is now churn-retrain-v2 (was churn-retrain)'
 */
export function describeJobChange(plan: RetrainApprovalPlan, now: JobSettings): string | undefined {
  if (now.fingerprint === plan.fingerprint) return undefined;
  if (now.name !== plan.jobName) {
    return `job ${plan.jobId} changed: its name is now ${now.name} (was ${plan.jobName})`;
  }
  return `job ${plan.jobId} (${now.name}) changed its settings since the request was made`;
}
