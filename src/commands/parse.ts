/**
 * Turns the text after `/mlops` into a ParsedCommand. Splits it into words (quotes keep spaces
 * together), hands the words of each subcommand to its zod schema, and resolves short model names
 * against the policy defaults. Any mistake becomes a UserError `bad_input` saying what was wrong,
 * with the exact usage of the subcommand as its hint.
 */
import type { z } from 'zod';
import { isUserError, UserError } from '../domain/errors.js';
import { resolveModelName } from '../domain/model-names.js';
import type { ParsedCommand, Subcommand } from '../domain/vocabulary.js';
import { approvalsInputSchema } from './approvals.js';
import { auditInputSchema } from './audit.js';
import { deployInputSchema } from './deploy.js';
import { driftInputSchema } from './drift.js';
import { helpInputSchema } from './help.js';
import { modelsInputSchema } from './models.js';
import { promoteInputSchema } from './promote.js';
import { MAX_QUERY_TEXT_BYTES, queryInputSchema } from './query.js';
import { retrainInputSchema } from './retrain.js';
import { rollbackInputSchema } from './rollback.js';
import { splitInputSchema } from './split.js';
import { statusInputSchema } from './status.js';
import { isSubcommand, SUBCOMMAND_ALIASES, SUBCOMMAND_NAMES, SUBCOMMANDS, usageOf } from './subcommands.js';

export interface ParseDefaults {
  catalog: string;
  schema: string;
  /** Where `deploy` goes without `to <endpoint>`. */
  endpoint?: string;
}

/** One word of the command text. */
interface Token {
  text: string;
  /** Some of it was in quotes: never a keyword or flag. */
  quoted: boolean;
  /** The part after `=` was in quotes: a value that stays text. */
  valueQuoted: boolean;
}

const DRY_RUN_FLAGS = new Set(['--dry-run', '--dryrun']);

/**
 * Undoes what Slack and keyboards do to typed text: Slack escapes &, < and >; macOS and iOS turn
 * quotes into curly ones.
 */
export function normaliseText(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/[\u201C\u201D\u201E\u201F\u2033]/g, '"')
    .replace(/[\u2018\u2019\u201A\u201B\u2032]/g, "'")
    .replace(/[\u00A0\u2007\u202F]/g, ' ');
}

/** Keyboards turn `--` into a dash; put it back where a flag starts (not in query records). */
const restoreFlagDashes = (text: string) =>
  text.replace(/(^|\s)[\u2012\u2013\u2014\u2015](?=[A-Za-z])/g, '$1--');

/**
 * Splits text into words at whitespace. Double or single quotes at the start of a word or right
 * after `=` keep spaces inside one word (`contract="two year"`); an apostrophe inside a word is
 * just a letter.
 */
function tokenize(text: string, subcommand: Subcommand): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length) break;
    let word = '';
    let quoted = false;
    let valueQuoted = false;
    while (i < text.length && !/\s/.test(text[i]!)) {
      const ch = text[i]!;
      const quoteAllowed = word === '' || word.endsWith('=');
      if ((ch === '"' || ch === "'") && quoteAllowed) {
        const close = text.indexOf(ch, i + 1);
        if (close < 0) {
          throw new UserError(
            'bad_input',
            `A quote (${ch}) is opened but never closed: ${text.slice(i, i + 30)}`,
            usageOf(subcommand),
          );
        }
        if (word.endsWith('=')) valueQuoted = true;
        word += text.slice(i + 1, close);
        quoted = true;
        i = close + 1;
      } else {
        word += ch;
        i++;
      }
    }
    tokens.push({ text: word, quoted, valueQuoted });
  }
  return tokens;
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const next = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = row[j]!;
      row[j] = next;
    }
  }
  return row[b.length]!;
}

function unknownSubcommand(word: string): never {
  const near = SUBCOMMAND_NAMES.map((n) => ({ n, d: distance(word.toLowerCase(), n) }))
    .filter((x) => x.d <= 2)
    .sort((a, b) => a.d - b.d)[0];
  throw new UserError(
    'bad_input',
    `"${word}" is not a subcommand.${near ? ` Did you mean ${near.n}?` : ''}`,
    `Usage: /mlops <subcommand> …, where the subcommand is one of ${SUBCOMMAND_NAMES.join(', ')}. Run /mlops help for details.`,
  );
}

/** Collects the problems of one command so they can be reported together. */
class Problems {
  readonly list: string[] = [];
  add(message: string): void {
    this.list.push(message);
  }
}

/** Runs a schema and throws every problem (the parser's own first) as one bad_input error. */
function validate<S extends z.ZodType>(
  schema: S,
  raw: Record<string, unknown>,
  subcommand: Subcommand,
  problems: Problems,
): z.output<S> {
  const result = schema.safeParse(raw);
  const messages = [...problems.list];
  if (!result.success) {
    for (const issue of result.error.issues) {
      // Unknown keys cannot happen (we build raw ourselves); anything else is worth showing as is.
      if (!messages.includes(issue.message)) messages.push(issue.message);
    }
  }
  if (messages.length > 0 || !result.success) {
    throw new UserError('bad_input', messages.join(' '), usageOf(subcommand));
  }
  return result.data;
}

function resolveModel(input: string, defaults: ParseDefaults, subcommand: Subcommand): string {
  try {
    return resolveModelName(input, defaults);
  } catch (e) {
    if (isUserError(e)) throw new UserError('bad_input', e.message, usageOf(subcommand));
    throw e;
  }
}

/** Takes the `--dry-run` flags out of the words and refuses any other `--flag`. */
function takeFlags(
  tokens: Token[],
  subcommand: Subcommand,
  problems: Problems,
): { words: Token[]; dryRun: boolean } {
  let dryRun = false;
  const words: Token[] = [];
  for (const t of tokens) {
    const lower = t.text.toLowerCase();
    if (!t.quoted && DRY_RUN_FLAGS.has(lower)) {
      dryRun = true;
    } else if (!t.quoted && lower.startsWith('--')) {
      problems.add(
        SUBCOMMANDS[subcommand].mutating
          ? `Unknown option "${t.text}"; the only flag is --dry-run.`
          : `Unknown option "${t.text}".`,
      );
    } else {
      words.push(t);
    }
  }
  if (dryRun && !SUBCOMMANDS[subcommand].mutating) {
    problems.add(
      `--dry-run only applies to changes (deploy, split, promote, rollback, retrain), not to ${subcommand}.`,
    );
  }
  return { words, dryRun };
}

function tooMany(words: Token[], expected: number, problems: Problems): void {
  const extra = words.slice(expected).map((w) => `"${w.text}"`);
  if (extra.length > 0) problems.add(`Unexpected ${extra.join(' ')} at the end.`);
}

function parseDeploy(
  words: Token[],
  dryRun: boolean,
  defaults: ParseDefaults,
  problems: Problems,
): ParsedCommand {
  const positional: string[] = [];
  const options: { endpoint?: string; size?: string; scaleToZero?: string } = {};
  const setOption = (name: keyof typeof options, value: string, shown: string) => {
    if (options[name] !== undefined) problems.add(`${shown} is given twice; give it once.`);
    options[name] = value;
  };
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const lower = w.text.toLowerCase();
    if (!w.quoted && lower === 'to') {
      const next = words[i + 1];
      if (!next) problems.add('Say which endpoint after "to".');
      else setOption('endpoint', next.text, 'The endpoint');
      i++;
    } else if (w.text.includes('=')) {
      const eq = w.text.indexOf('=');
      const key = w.text.slice(0, eq).toLowerCase();
      const value = w.text.slice(eq + 1);
      if (key === 'size') setOption('size', value, 'size=');
      else if (['scale-to-zero', 'scale_to_zero', 'scaletozero'].includes(key)) {
        setOption('scaleToZero', value, 'scale-to-zero=');
      } else if (key === 'to' || key === 'endpoint') setOption('endpoint', value, 'The endpoint');
      else problems.add(`Unknown option "${w.text.slice(0, eq)}"; deploy takes size= and scale-to-zero=.`);
    } else {
      positional.push(w.text);
    }
  }
  if (positional.length > 2) {
    problems.add(
      `Unexpected ${positional
        .slice(2)
        .map((p) => `"${p}"`)
        .join(' ')}; to name the endpoint write "to <endpoint>".`,
    );
  }
  const [model, target] = positional;
  const endpoint = options.endpoint ?? defaults.endpoint;
  if (endpoint === undefined && model !== undefined && target !== undefined) {
    problems.add('Say which endpoint with "to <endpoint>": the policy has no default endpoint.');
  }
  const parsed = validate(
    deployInputSchema,
    {
      subcommand: 'deploy',
      model,
      target,
      ...(endpoint !== undefined ? { endpoint } : {}),
      ...(options.size !== undefined ? { size: options.size } : {}),
      ...(options.scaleToZero !== undefined ? { scaleToZero: options.scaleToZero } : {}),
      dryRun,
    },
    'deploy',
    problems,
  );
  return { ...parsed, model: resolveModel(parsed.model, defaults, 'deploy') };
}

function parseQuery(rest: string): ParsedCommand {
  const problems = new Problems();
  const m = /^\s*(\S+)/.exec(rest);
  const endpoint = m?.[1];
  const recordsText = m ? rest.slice(m[0].length).trim() : '';
  let input: unknown;
  if (endpoint?.startsWith('--')) {
    problems.add(`Unknown option "${endpoint}"; query has no flags.`);
  } else if (endpoint !== undefined && recordsText === '') {
    problems.add(
      'Give the records to send: a JSON list of objects, {"columns": …, "data": …}, or key=value pairs.',
    );
  } else if (Buffer.byteLength(recordsText) > MAX_QUERY_TEXT_BYTES) {
    problems.add(
      `The records are ${Math.ceil(Buffer.byteLength(recordsText) / 1024)} KB; a query from Slack carries at most ${MAX_QUERY_TEXT_BYTES / 1024} KB. Send fewer records.`,
    );
  } else if (/^[[{]/.test(recordsText)) {
    try {
      input = JSON.parse(recordsText);
    } catch (e) {
      problems.add(`The records are not valid JSON (${(e as Error).message}).`);
    }
  } else if (recordsText !== '') {
    input = keyValueRecord(tokenize(recordsText, 'query'), problems);
  }
  if (endpoint === undefined) {
    throw new UserError(
      'bad_input',
      'Say which endpoint to query, then the records to send.',
      usageOf('query'),
    );
  }
  return validate(
    queryInputSchema,
    { subcommand: 'query', endpoint, ...(input !== undefined ? { input } : { input: [{}] }) },
    'query',
    problems,
  );
}

const NUMBER = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** `a=1 b="two words"` → one record; unquoted numbers become numbers. */
function keyValueRecord(words: Token[], problems: Problems): Record<string, unknown> | undefined {
  const record: Record<string, unknown> = {};
  for (const w of words) {
    const eq = w.text.indexOf('=');
    if (!w.quoted && w.text.startsWith('--')) {
      problems.add(`Unknown option "${w.text}"; query has no flags.`);
      continue;
    }
    if (eq <= 0) {
      problems.add(`"${w.text}" is not key=value; write features as name=value, or give JSON.`);
      continue;
    }
    const key = w.text.slice(0, eq);
    const raw = w.text.slice(eq + 1);
    if (Object.hasOwn(record, key)) problems.add(`"${key}" is given twice.`);
    // A quoted value stays text even when it looks like a number (zip codes, ids).
    record[key] = !w.valueQuoted && NUMBER.test(raw) ? Number(raw) : raw;
  }
  return problems.list.length > 0 ? undefined : record;
}

/**
 * Parses the text after `/mlops`. Empty text means help.
 *
 * @example
 * parseCommand('deploy churn_model v3 to churn-endpoint --dry-run', { catalog: 'acme', schema: 'mlops' })
 * // { subcommand: 'deploy', model: 'acme.mlops.churn_model', target: { version: 3 }, endpoint: 'churn-endpoint', dryRun: true }
 */
export function parseCommand(text: string, defaults: ParseDefaults): ParsedCommand {
  const norm = normaliseText(text);
  const first = /^\s*(\S+)/.exec(norm);
  if (!first) return { subcommand: 'help' };
  const word = first[1]!.toLowerCase();
  const subcommand = SUBCOMMAND_ALIASES[word] ?? word;
  if (!isSubcommand(subcommand)) return unknownSubcommand(first[1]!);
  const rest = norm.slice(first[0].length);
  if (subcommand === 'query') return parseQuery(rest);

  const problems = new Problems();
  const { words, dryRun } = takeFlags(tokenize(restoreFlagDashes(rest), subcommand), subcommand, problems);
  const at = (i: number) => words[i]?.text;
  switch (subcommand) {
    case 'help':
      tooMany(words, 1, problems);
      return validate(
        helpInputSchema,
        { subcommand, ...(at(0) ? { topic: at(0) } : {}) },
        subcommand,
        problems,
      );
    case 'status':
      tooMany(words, 1, problems);
      return validate(
        statusInputSchema,
        { subcommand, ...(at(0) !== undefined ? { endpoint: at(0) } : {}) },
        subcommand,
        problems,
      );
    case 'models': {
      tooMany(words, 1, problems);
      const parsed = validate(modelsInputSchema, { subcommand, model: at(0) }, subcommand, problems);
      return { ...parsed, model: resolveModel(parsed.model, defaults, subcommand) };
    }
    case 'deploy':
      return parseDeploy(words, dryRun, defaults, problems);
    case 'split': {
      const routes = words.slice(1).map((w) => w.text.replace(/,$/, ''));
      return validate(
        splitInputSchema,
        { subcommand, endpoint: at(0), routes, dryRun },
        subcommand,
        problems,
      );
    }
    case 'promote': {
      tooMany(words, 3, problems);
      const parsed = validate(
        promoteInputSchema,
        { subcommand, model: at(0), version: at(1), alias: at(2), dryRun },
        subcommand,
        problems,
      );
      return { ...parsed, model: resolveModel(parsed.model, defaults, subcommand) };
    }
    case 'rollback':
      tooMany(words, 1, problems);
      return validate(rollbackInputSchema, { subcommand, endpoint: at(0), dryRun }, subcommand, problems);
    case 'drift':
      tooMany(words, 1, problems);
      return validate(
        driftInputSchema,
        { subcommand, ...(at(0) !== undefined ? { monitor: at(0) } : {}) },
        subcommand,
        problems,
      );
    case 'retrain': {
      const reason = words
        .slice(1)
        .map((w) => w.text)
        .join(' ');
      return validate(
        retrainInputSchema,
        { subcommand, target: at(0), ...(reason !== '' ? { reason } : {}), dryRun },
        subcommand,
        problems,
      );
    }
    case 'approvals':
      tooMany(words, 0, problems);
      return validate(approvalsInputSchema, { subcommand }, subcommand, problems);
    case 'audit':
      tooMany(words, 1, problems);
      return validate(
        auditInputSchema,
        { subcommand, ...(at(0) !== undefined ? { target: at(0) } : {}) },
        subcommand,
        problems,
      );
  }
}
