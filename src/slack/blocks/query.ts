/** The answer to a query: the predictions as a table, and the version that answered. */

import type { QueryView } from '../../commands/views.js';
import type { Reply } from '../../domain/vocabulary.js';
import { endpointUrl } from '../../domain/workspace-links.js';
import type { SlackBlock } from './block-kit.js';
import {
  codeBlocks,
  contextBlock,
  escapeMrkdwn,
  formatTable,
  link,
  sectionBlock,
  versionLabel,
} from './format.js';

/** Most predictions shown; the rest are counted. */
export const MAX_SHOWN_PREDICTIONS = 25;
/** Most prediction fields shown as columns. */
export const MAX_PREDICTION_COLUMNS = 6;

export type { QueryView };

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A cell as people read it: numbers rounded to 4 decimals, text as is, the rest as JSON. */
export function cell(value: unknown): string {
  if (typeof value === 'number')
    return Number.isInteger(value) ? String(value) : String(Number(value.toFixed(4)));
  if (typeof value === 'string') return value;
  if (value === undefined) return '';
  return JSON.stringify(value) ?? String(value);
}

/** Rows of the prediction table (titles first). */
export function predictionRows(predictions: unknown[]): string[][] {
  const objects = predictions.length > 0 && predictions.every(isPlainObject);
  if (!objects) return [['#', 'prediction'], ...predictions.map((p, i) => [String(i + 1), cell(p)])];
  const columns: string[] = [];
  for (const p of predictions as Array<Record<string, unknown>>) {
    for (const k of Object.keys(p)) if (!columns.includes(k)) columns.push(k);
  }
  const shown = columns.slice(0, MAX_PREDICTION_COLUMNS);
  return [
    ['#', ...shown],
    ...(predictions as Array<Record<string, unknown>>).map((p, i) => [
      String(i + 1),
      ...shown.map((c) => cell(p[c])),
    ]),
  ];
}

/**
 * @example buildQueryReply({ endpoint: 'churn-endpoint', records: 1, predictions: [{ prediction: 'Yes', probability: 0.81 }], servedName: 'churn_model-2', answeredBy: { modelName: 'acme.mlops.churn_model', modelVersion: '2' }, workspaceHost })
 */
export function buildQueryReply(view: QueryView): Reply {
  const who = view.answeredBy
    ? versionLabel(view.answeredBy.modelName, view.answeredBy.modelVersion)
    : view.servedName
      ? `served version ${view.servedName}`
      : 'an unknown version';
  const n = view.records;
  const heading = `${link(endpointUrl(view.workspaceHost, view.endpoint), view.endpoint)} answered ${n} record${
    n === 1 ? '' : 's'
  } with *${escapeMrkdwn(who)}*${view.answeredBy && view.servedName ? ` (${escapeMrkdwn(view.servedName)})` : ''}.`;
  const shown = view.predictions.slice(0, MAX_SHOWN_PREDICTIONS);
  const blocks: SlackBlock[] = [sectionBlock(heading)];
  if (view.predictions.length === 0) {
    blocks.push(sectionBlock('The endpoint returned no predictions.'));
  } else {
    blocks.push(...codeBlocks(formatTable(predictionRows(shown), { maxCellWidth: 40 })));
  }
  const more = view.predictions.length - shown.length;
  if (more > 0)
    blocks.push(contextBlock([`…and ${more} more prediction${more === 1 ? '' : 's'} not shown.`]));
  const first = shown
    .slice(0, 3)
    .map((p) => (isPlainObject(p) ? Object.values(p).map(cell).join(' ') : cell(p)))
    .join('; ');
  return {
    text: `${view.endpoint} answered ${n} record${n === 1 ? '' : 's'} with ${who}: ${first}${
      view.predictions.length > 3 ? '; …' : ''
    }`,
    blocks,
    visibility: 'ephemeral',
  };
}
