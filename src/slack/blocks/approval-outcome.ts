/**
 * How an approved request's execution ended, in words: the facts the store keeps
 * (approvals/execution-result.ts) told as the sentence the request message, its thread and the
 * audit trail show. Rows written before facts were stored hold that sentence already. Pure.
 */
import { type ExecutionResult, parseExecutionResult } from '../../approvals/execution-result.js';
import type { ApprovalRequest } from '../../approvals/store.js';
import { formatElapsed, shortModel } from '../../changes/describe.js';
import { busyText } from './change-notices.js';
import { escapeOnce, link } from './format.js';

const STATUS_WORDS: Record<string, string> = { timed_out: 'timed out' };

/**
 * The sentence for an execution's result, in mrkdwn (links kept; escape the rest with
 * escapeKeepingLinks as for any stored text).
 *
 * @example describeExecution({ kind: 'changes', ok: true, done: ['churn-endpoint serves churn_model v3 100%.'] })
 */
export function describeExecution(result: ExecutionResult): string {
  switch (result.kind) {
    case 'changes':
      return result.done.join(' ');
    case 'step_failed': {
      const { failed, done } = result;
      if (failed.status === 'busy') {
        const holder = failed.holder;
        const plan = holder?.plan;
        const busy = plan ? busyText(holder, plan) : 'Another change is in progress on its target.';
        return `${failed.title} could not start: ${busy} Press Apply again when it has finished.`;
      }
      if (failed.status === 'stale') {
        return `${done.join(' ')} Then ${failed.title} could not be applied: ${failed.detail ?? 'the target changed since the request was made'}.`.trim();
      }
      const before = done.length > 0 ? `${done.join(' ')} Then ` : '';
      return `${before}${failed.title} ${STATUS_WORDS[failed.status] ?? failed.status}: ${failed.detail ?? 'see the change message'}`;
    }
    case 'run': {
      const runLink = link(result.run.url, `run ${result.run.runId}`);
      const took = result.tookMs !== undefined ? ` after ${formatElapsed(result.tookMs)}` : '';
      // The job's name and its run's message come from Databricks (a notebook's own exception
      // text among them), so they are escaped here, where the links are ours.
      const job = escapeOnce(result.run.jobName);
      if (!result.ok) {
        const why = escapeOnce(
          result.result
            ? `${result.result.code}${result.result.message ? `: ${result.result.message}` : ''}`
            : (result.state ?? 'unknown'),
        );
        return `${runLink} of ${job} did not succeed${took} (${why}).`;
      }
      return `${runLink} of ${job} succeeded${took}.${registeredText(result.registered)}`;
    }
    case 'deployment': {
      const runLink = link(result.run.url, `run ${result.run.runId}`);
      const took = result.tookMs !== undefined ? ` after ${formatElapsed(result.tookMs)}` : '';
      const what = `Tagged ${shortModel(result.model)} v${result.version} ${escapeOnce(result.tag)}=Approved and repaired ${runLink} of ${escapeOnce(result.run.jobName)} (repair ${result.repairId})`;
      if (!result.ok) {
        const why = escapeOnce(
          result.result
            ? `${result.result.code}${result.result.message ? `: ${result.result.message}` : ''}`
            : (result.state ?? 'unknown'),
        );
        return `${what}, but the run did not succeed${took} (${why}).`;
      }
      return `${what}; the run succeeded${took}.`;
    }
    case 'run_unfollowed':
      return `The bot stopped following ${link(result.run.url, `run ${result.run.runId}`)} after ${formatElapsed(result.afterMs)} (it is ${result.state}); it may still finish.`;
    case 'refused':
      return `${result.reason}${result.hint ? ` ${result.hint}` : ''}`;
    case 'internal':
      return `The bot hit an internal error while executing it (reference ${result.correlationId}).`;
  }
}

function registeredText(registered: Extract<ExecutionResult, { kind: 'run' }>['registered']): string {
  if (!registered) return '';
  switch (registered.found) {
    case 'none':
      return ` It registered no new version of ${shortModel(registered.model)}.`;
    case 'unknown':
      return ' The bot could not check which version it registered.';
    case 'version': {
      const aliases = registered.aliases.length > 0 ? registered.aliases.join(', ') : 'none yet';
      const name = `${shortModel(registered.model)} v${registered.version}`;
      return registered.confirmed
        ? ` It registered ${name} (aliases: ${aliases}).`
        : ` ${name} was registered while it ran (aliases: ${aliases}); the bot could not confirm it came from this run.`;
    }
  }
}

/**
 * How a finished request ended, in mrkdwn: its facts worded, or the sentence an older row holds.
 *
 * @example executionText(request) // '<https://…|run 42> of churn-retrain succeeded after 1m 2s.'
 */
export function executionText(r: Pick<ApprovalRequest, 'result' | 'outcome' | 'reason' | 'status'>) {
  if (r.result) return describeExecution(r.result);
  return r.status === 'executed' ? r.outcome : r.reason;
}

/**
 * An audit row's detail in words: an execution's facts worded, any other detail as it is.
 *
 * @example auditDetailText('{"kind":"internal","ok":false,"correlationId":"ab12cd34"}')
 */
export function auditDetailText(detail: string): string {
  const result = parseExecutionResult(detail);
  return result ? describeExecution(result) : detail;
}
