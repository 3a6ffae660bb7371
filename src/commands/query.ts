/**
 * `/mlops query <endpoint> <records>`: send records to an endpoint and show its predictions with
 * the version that answered.
 */
import { z } from 'zod';
import { MAX_QUERY_BYTES } from '../domain/endpoint-config.js';
import { isUserError, UserError } from '../domain/errors.js';
import type { Actor, Origin, ParsedCommand, QueryRecords, Reply } from '../domain/vocabulary.js';
import type { CommandDeps } from './deps.js';
import { findJsonProblem, jsonSnippet } from './json-error.js';
import type { CommandWords, Token } from './parse.js';
import { endpointNameSchema } from './schemas.js';
import { type CommandSpec, usageOf } from './spec.js';

/** Most records one query from Slack may send: the answer has to fit in a message. */
export const MAX_QUERY_RECORDS = 100;
/** Most text of records one query from Slack may carry. */
export const MAX_QUERY_TEXT_BYTES = Math.min(64 * 1024, MAX_QUERY_BYTES);

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const tooMany = (n: number) =>
  `That is ${n} records; a query from Slack sends at most ${MAX_QUERY_RECORDS}. Send fewer, or query the endpoint directly for batches.`;

/**
 * Records as parsed from the command text: a list of objects, `{ columns, data }`, or one object.
 *
 * @example queryRecordsSchema.parse([{ tenure: 2 }]) // { records: [{ tenure: 2 }] }
 */
export const queryRecordsSchema = z.unknown().transform((value, ctx): QueryRecords => {
  const fail = (message: string) => {
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  };
  if (Array.isArray(value)) {
    if (value.length === 0) return fail('The list of records is empty; give at least one record.');
    if (value.length > MAX_QUERY_RECORDS) return fail(tooMany(value.length));
    const bad = value.findIndex((r) => !isPlainObject(r));
    if (bad >= 0) {
      return fail(`Record ${bad + 1} is not an object: write each record as {"feature": value, …}.`);
    }
    return { records: value as Array<Record<string, unknown>> };
  }
  if (!isPlainObject(value)) {
    return fail(
      'Give the records as a JSON list of objects, JSON {"columns": …, "data": …}, or key=value pairs.',
    );
  }
  if ('columns' in value || 'data' in value) {
    const { columns, data, ...rest } = value;
    if (Object.keys(rest).length > 0) {
      return fail(
        `Only "columns" and "data" may appear next to each other, not ${Object.keys(rest).join(', ')}.`,
      );
    }
    if (!Array.isArray(columns) || columns.length === 0 || !columns.every((c) => typeof c === 'string')) {
      return fail('"columns" must be a non-empty list of column names.');
    }
    if (!Array.isArray(data) || data.length === 0) return fail('"data" must be a non-empty list of rows.');
    if (data.length > MAX_QUERY_RECORDS) return fail(tooMany(data.length));
    const bad = data.findIndex((row) => !Array.isArray(row) || row.length !== columns.length);
    if (bad >= 0) {
      return fail(`Row ${bad + 1} of "data" must be a list of ${columns.length} values, one per column.`);
    }
    return { split: { columns: columns as string[], data: data as unknown[][] } };
  }
  if (Object.keys(value).length === 0) return fail('The record is empty; give at least one feature.');
  return { records: [value] };
});

export const queryInputSchema = z
  .object({ subcommand: z.literal('query'), endpoint: endpointNameSchema, input: queryRecordsSchema })
  .strict();

export type QueryInput = Extract<ParsedCommand, { subcommand: 'query' }>;

/** How many records a query carries. */
export const recordCount = (input: QueryRecords): number =>
  'records' in input ? input.records.length : input.split.data.length;

export async function handleQuery(
  input: QueryInput,
  deps: CommandDeps,
  _actor: Actor,
  _origin: Origin,
): Promise<Reply> {
  const count = recordCount(input.input);
  // Callers other than the parser (tests, the sandbox console) get the same limits.
  if (count > MAX_QUERY_RECORDS) {
    throw new UserError('bad_input', { problems: [tooMany(count)], hint: usageOf(queryCommand) });
  }
  const size = Buffer.byteLength(JSON.stringify(input.input));
  if (size > MAX_QUERY_TEXT_BYTES) {
    throw new UserError('bad_input', {
      problems: [
        `The records are ${Math.ceil(size / 1024)} KB; a query from Slack carries at most ${MAX_QUERY_TEXT_BYTES / 1024} KB.`,
      ],
      hint: 'Send fewer or smaller records.',
    });
  }
  const result = await deps.serving.query(input.endpoint, input.input);
  // The answer stands on its own; not knowing which version gave it is no reason to hide it.
  const endpoint = await deps.serving.get(input.endpoint).catch((e: unknown) => {
    if (isUserError(e)) return undefined;
    throw e;
  });
  const served = endpoint?.current?.servedVersions ?? [];
  // Without the served-model-name header, a single served version must be the one that answered.
  const answered = result.servedName
    ? served.find((v) => v.name === result.servedName)
    : served.length === 1
      ? served[0]
      : undefined;
  return deps.views.query({
    endpoint: input.endpoint,
    records: count,
    predictions: result.predictions,
    ...(result.servedName ? { servedName: result.servedName } : {}),
    ...(answered
      ? { answeredBy: { modelName: answered.modelName, modelVersion: answered.modelVersion } }
      : {}),
    workspaceHost: deps.workspaceHost,
  });
}

const NUMBER = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** `a=1 b="two words"` → one record; unquoted numbers become numbers. */
function keyValueRecord(tokens: Token[], w: CommandWords): Record<string, unknown> | undefined {
  const record: Record<string, unknown> = {};
  for (const t of tokens) {
    const eq = t.text.indexOf('=');
    if (!t.quoted && t.text.startsWith('--')) {
      w.add(`Unknown option "${t.text}"; query has no flags.`);
      continue;
    }
    if (eq <= 0) {
      w.add(`"${t.text}" is not key=value; write features as name=value, or give JSON.`);
      continue;
    }
    const key = t.text.slice(0, eq);
    const raw = t.text.slice(eq + 1);
    if (Object.hasOwn(record, key)) w.add(`"${key}" is given twice.`);
    // A quoted value stays text even when it looks like a number (zip codes, ids).
    record[key] = !t.valueQuoted && NUMBER.test(raw) ? Number(raw) : raw;
  }
  return w.problems.length > 0 ? undefined : record;
}

/** Slack cuts a slash command at 4000 characters; the query form takes more. */
export const SLASH_COMMAND_LIMIT_NOTE =
  'Slack limits a slash command to 4000 characters. For longer records, run `/mlops query <endpoint>` alone: it opens a form to paste them into.';

/** An example of records that parse, shown under a JSON mistake. */
export const QUERY_JSON_EXAMPLE = '[{"tenure": 2, "contract": "Month-to-month"}]';

/** What is wrong with records that do not parse: where, with the text around it and a caret. */
function invalidJson(text: string, e: Error): string {
  const problem = findJsonProblem(text);
  if (!problem) return `The records are not valid JSON (${e.message}).`;
  const { line, caret } = jsonSnippet(text, problem.at);
  const where = problem.at >= text.length ? 'the text ends' : `character ${problem.at + 1}`;
  return `The records are not valid JSON: ${problem.expected} was expected where ${where}:\n\`\`\`\n${line}\n${caret}\n\`\`\`\nFor example: \`${QUERY_JSON_EXAMPLE}\``;
}

/** The endpoint, then the records as typed: JSON stays JSON (dashes and all), key=value pairs are split. */
function parseQuery(w: CommandWords): QueryInput {
  const rest = w.text;
  const m = /^\s*(\S+)/.exec(rest);
  const endpoint = m?.[1];
  const recordsText = m ? rest.slice(m[0].length).trim() : '';
  let input: unknown;
  if (endpoint?.startsWith('--')) {
    w.add(`Unknown option "${endpoint}"; query has no flags.`);
  } else if (endpoint !== undefined && recordsText === '') {
    w.add('Give the records to send: a JSON list of objects, {"columns": …, "data": …}, or key=value pairs.');
  } else if (Buffer.byteLength(recordsText) > MAX_QUERY_TEXT_BYTES) {
    w.add(
      `The records are ${Math.ceil(Buffer.byteLength(recordsText) / 1024)} KB; a query from Slack carries at most ${MAX_QUERY_TEXT_BYTES / 1024} KB. Send fewer records.`,
    );
  } else if (/^[[{]/.test(recordsText)) {
    try {
      input = JSON.parse(recordsText);
    } catch (e) {
      w.add(invalidJson(recordsText, e as Error));
    }
  } else if (recordsText !== '') {
    input = keyValueRecord(w.tokenize(recordsText), w);
  }
  if (endpoint === undefined) {
    throw new UserError('bad_input', {
      problems: ['Say which endpoint to query, then the records to send.'],
      hint: w.hint,
    });
  }
  return w.validate(queryInputSchema, {
    subcommand: 'query',
    endpoint,
    ...(input !== undefined ? { input } : { input: [{}] }),
  });
}

export const queryCommand: CommandSpec<'query'> = {
  name: 'query',
  summary: 'Send records to an endpoint and show the predictions',
  usage: '/mlops query <endpoint> <records>',
  mutating: false,
  takesDryRun: false,
  details: [
    'Records are a JSON list of objects, JSON {"columns": [...], "data": [[...], ...]}, or key=value pairs for one record (numbers are read as numbers; quote text with spaces).',
    'At most 100 records and 64 KB of text per query.',
    SLASH_COMMAND_LIMIT_NOTE,
  ],
  examples: [
    '/mlops query churn-endpoint tenure=2 monthly_charges=95.5 contract=Month-to-month senior_citizen=1',
    '/mlops query churn-endpoint [{"tenure": 60, "monthly_charges": 20, "contract": "Two year", "senior_citizen": 0}]',
  ],
  schema: queryInputSchema,
  parse: parseQuery,
  handle: handleQuery,
  endpointOf: (input) => input.endpoint,
};
