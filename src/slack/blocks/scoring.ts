/**
 * Batch scoring in Slack: the ephemeral answer to `/mlops score`, and its one channel message,
 * first "running" and then how the run ended (rows written and a link, or Databricks' reason).
 */
import { formatElapsed } from '../../changes/describe.js';
import type { Reply } from '../../domain/vocabulary.js';
import type { ScoringViews } from '../../scoring/service.js';
import type { ScoreResult, ScoreRun } from '../../scoring/store.js';
import { describeError } from './errors.js';
import { contextBlock, escapeMrkdwn, link, sectionBlock, shortModel } from './format.js';

const what = (r: ScoreRun): string =>
  `${escapeMrkdwn(shortModel(r.model))} v${r.version}${r.alias ? ` (${escapeMrkdwn(r.alias)})` : ''}`;

const tables = (r: ScoreRun): string =>
  `\`${escapeMrkdwn(r.inputTable)}\` → \`${escapeMrkdwn(r.outputTable)}\``;

/** The ephemeral answer: started (or already started by this same command). */
export function buildScoreAccepted(r: ScoreRun, duplicate: boolean): Reply {
  const text = duplicate
    ? `Scoring ${r.inputTable} with ${shortModel(r.model)} v${r.version} was already started by this command.`
    : `Scoring ${r.inputTable} with ${shortModel(r.model)} v${r.version} into ${r.outputTable}: started. The channel message says how it ends.`;
  return { text, blocks: [sectionBlock(escapeMrkdwn(text))], visibility: 'ephemeral' };
}

/** The channel message while the run goes. */
export function buildScoreProgress(r: ScoreRun, url?: string): Pick<Reply, 'text' | 'blocks'> {
  const text = `Batch scoring with ${shortModel(r.model)} v${r.version}: running`;
  return {
    text,
    blocks: [
      sectionBlock(`:hourglass_flowing_sand: *Batch scoring* with ${what(r)}: ${tables(r)}`),
      contextBlock([
        `Asked by <@${r.requester}> · job ${r.jobId}${url ? ` · ${link(url, `run ${r.runId}`)}` : ' · starting'}`,
      ]),
    ],
  };
}

/** The channel message once the run ended: never "done" unless Databricks said SUCCESS. */
export function buildScoreFinished(r: ScoreRun, result: ScoreResult): Pick<Reply, 'text' | 'blocks'> {
  const who = `Asked by <@${r.requester}> · job ${r.jobId}`;
  switch (result.kind) {
    case 'succeeded': {
      const rows =
        result.rows !== undefined ? `${result.rows.toLocaleString('en-US')} rows written` : 'written';
      const took = result.tookMs !== undefined ? ` in ${formatElapsed(result.tookMs)}` : '';
      return {
        text: `Batch scoring with ${shortModel(r.model)} v${r.version} succeeded: ${rows} to ${r.outputTable}`,
        blocks: [
          sectionBlock(`:white_check_mark: *Batch scoring* with ${what(r)}: ${rows}${took}. ${tables(r)}`),
          contextBlock([`${who} · ${link(result.url, `run ${r.runId}`)}`]),
        ],
      };
    }
    case 'failed': {
      const cancelled = result.code === 'USER_CANCELED' || result.code === 'CANCELED';
      const reason =
        result.reason ??
        ([result.code, result.message].filter((x) => x !== undefined && x !== '').join(': ') ||
          result.state ||
          '');
      const head = cancelled ? 'was cancelled' : 'failed';
      return {
        text: `Batch scoring with ${shortModel(r.model)} v${r.version} ${head}: ${reason}`,
        blocks: [
          sectionBlock(
            `:x: *Batch scoring* with ${what(r)} ${head}. ${tables(r)}\n>${escapeMrkdwn(reason || 'Databricks gave no reason.')}`,
          ),
          ...(result.hint ? [contextBlock([escapeMrkdwn(result.hint)])] : []),
          contextBlock([`${who}${result.url ? ` · ${link(result.url, `run ${r.runId}`)}` : ''}`]),
        ],
      };
    }
    case 'unfollowed':
      return {
        text: `Batch scoring with ${shortModel(r.model)} v${r.version}: the bot stopped following run ${r.runId} (${result.state})`,
        blocks: [
          sectionBlock(
            `:warning: *Batch scoring* with ${what(r)}: still ${escapeMrkdwn(result.state)} after ${formatElapsed(result.afterMs)}; the bot stopped following it. ${tables(r)}`,
          ),
          contextBlock([`${who} · ${link(result.url, `run ${r.runId}`)} (check it there)`]),
        ],
      };
  }
}

export const scoringViews: ScoringViews = {
  accepted: buildScoreAccepted,
  progress: buildScoreProgress,
  finished: buildScoreFinished,
  describeError,
};
