/**
 * `/mlops history <model|endpoint> [at <ISO time>]`: what an endpoint served, or where a model's
 * aliases pointed, now or at a time, and every change the ledger recorded, with who made it and
 * how (a bot change id, or out-of-band with what Databricks says). Read-only, from the ledger.
 */
import { z } from 'zod';
import { resolveModelName } from '../domain/model-names.js';
import type { Actor, Origin, ParsedCommand, Reply } from '../domain/vocabulary.js';
import type { CommandDeps } from './deps.js';
import { type CommandSpec, noEndpoint } from './spec.js';

const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * An ISO time → ms; a time without a zone is UTC (as the bot shows times), a date alone is its midnight UTC.
 *
 * @example parseIsoTime('2026-12-03T10:00') // Date.UTC(2026, 11, 3, 10)
 */
export function parseIsoTime(text: string): number {
  const withZone = /T/i.test(text) && !/(Z|[+-]\d{2}:?\d{2})$/i.test(text) ? `${text}Z` : text;
  return Date.parse(withZone.toUpperCase());
}

export const historyInputSchema = z
  .object({
    subcommand: z.literal('history'),
    target: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,255}$/, 'Name a model (churn_model) or an endpoint (churn-endpoint).'),
    at: z
      .string()
      .refine((t) => ISO_TIME.test(t) && Number.isFinite(parseIsoTime(t)), {
        error: (issue) =>
          `"${String(issue.input)}" is not an ISO time: write 2026-12-03T14:30Z, 2026-12-03T14:30+01:00 or 2026-12-03 (UTC without a zone).`,
      })
      .optional(),
  })
  .strict();

export type HistoryInput = Extract<ParsedCommand, { subcommand: 'history' }>;

export async function handleHistory(
  input: HistoryInput,
  deps: CommandDeps,
  _actor: Actor,
  _origin: Origin,
): Promise<Reply> {
  const now = deps.clock.now();
  const at = input.at !== undefined ? parseIsoTime(input.at) : undefined;
  // The same word may name an endpoint or a model: show both.
  let model: string | undefined;
  try {
    model = resolveModelName(input.target, deps.defaults);
  } catch {
    model = undefined;
  }
  const endpoint = input.target.includes('.') ? undefined : input.target;
  const view = deps.ledger
    ? await deps.ledger.history(
        { text: input.target, ...(model ? { model } : {}), ...(endpoint ? { endpoint } : {}) },
        at,
        now,
      )
    : { subject: input.target, now, ...(at !== undefined ? { at } : {}), targets: [] };
  return deps.views.history(view);
}

export const historyCommand: CommandSpec<'history'> = {
  name: 'history',
  summary: 'Show what an endpoint served or where an alias pointed, and who changed it',
  usage: '/mlops history <model|endpoint> [at <ISO time>]',
  mutating: false,
  takesDryRun: false,
  details: [
    'From the ledger, which reads every watched endpoint and model every minute: changes made through the bot (with their change id) and changes made anywhere else (the Databricks UI, the CLI, bundles, jobs), with what Databricks says about who and when.',
    'With `at <ISO time>`: what the endpoint served, or where each alias of the model pointed, at that time (UTC when no zone is given).',
  ],
  examples: [
    '/mlops history churn-endpoint',
    '/mlops history churn_model at 2026-12-03T14:30Z',
    '/mlops history churn-endpoint at 2026-12-01',
  ],
  schema: historyInputSchema,
  parse(w) {
    const { words } = w.split();
    const target = words[0]?.text;
    if (target === undefined) w.add('Name a model (churn_model) or an endpoint (churn-endpoint).');
    let rest = words.slice(1);
    if (rest[0] && !rest[0].quoted && rest[0].text.toLowerCase() === 'at') {
      rest = rest.slice(1);
      if (rest.length === 0) w.add('Give a time after "at", e.g. at 2026-12-03T14:30Z.');
    }
    const at = rest[0]?.text;
    w.tooMany(rest, 1);
    return w.validate(historyInputSchema, {
      subcommand: 'history',
      target: target ?? '',
      ...(at !== undefined ? { at } : {}),
    });
  },
  handle: handleHistory,
  endpointOf: noEndpoint,
};
