/**
 * `/mlops query <endpoint> <records>`: send records to an endpoint and show its predictions with
 * the version that answered.
 */
import { z } from 'zod';
import { MAX_QUERY_BYTES } from '../domain/endpoint-config.js';
import { isUserError, UserError } from '../domain/errors.js';
import type { Actor, Origin, ParsedCommand, QueryRecords, Reply } from '../domain/vocabulary.js';
import { buildQueryReply } from '../slack/blocks/query.js';
import type { CommandDeps } from './deps.js';
import { endpointNameSchema } from './schemas.js';
import { usageOf } from './subcommands.js';

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
  if (count > MAX_QUERY_RECORDS) throw new UserError('bad_input', tooMany(count), usageOf('query'));
  const size = Buffer.byteLength(JSON.stringify(input.input));
  if (size > MAX_QUERY_TEXT_BYTES) {
    throw new UserError(
      'bad_input',
      `The records are ${Math.ceil(size / 1024)} KB; a query from Slack carries at most ${MAX_QUERY_TEXT_BYTES / 1024} KB.`,
      'Send fewer or smaller records.',
    );
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
  return buildQueryReply({
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
