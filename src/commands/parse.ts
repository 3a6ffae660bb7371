/**
 * Shared parsing helpers for the subcommand specs. The text after `/mlops` is split into words
 * (quotes keep spaces together); each spec's `parse` turns its words into the raw object its zod
 * schema checks. Any mistake becomes a UserError `bad_input` saying what was wrong, with the exact
 * usage of the subcommand as its hint. `parseCommand` itself lives in index.ts, beside the list.
 */
import type { z } from 'zod';
import { type CodedDetails, codedOf, codedOfIssue, isUserError, UserError } from '../domain/errors.js';
import { resolveModelName } from '../domain/model-names.js';

export interface ParseDefaults {
  catalog: string;
  schema: string;
  /** Where `deploy` goes without `to <endpoint>`. */
  endpoint?: string;
}

/** One word of the command text. */
export interface Token {
  text: string;
  /** Some of it was in quotes: never a keyword or flag. */
  quoted: boolean;
  /** The part after `=` was in quotes: a value that stays text. */
  valueQuoted: boolean;
}

/** What the helpers need to know of the subcommand being parsed. */
export interface ParsedSubcommand {
  name: string;
  /** The usage line, without the 'Usage: ' prefix. */
  usage: string;
  /** Whether it takes `--dry-run`. */
  takesDryRun: boolean;
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
function tokenize(text: string, hint: string): Token[] {
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
          throw new UserError('bad_input', {
            problems: [`A quote (${ch}) is opened but never closed: ${text.slice(i, i + 30)}`],
            hint,
          });
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
export function distance(a: string, b: string): number {
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

/**
 * The text after the subcommand word, and the problems found in it so far: they are reported
 * together, the parser's own first, then the schema's.
 *
 * @example const { words, dryRun } = new CommandWords('churn-endpoint --dry-run', rollbackCommand, '…').split();
 */
export class CommandWords {
  readonly problems: string[] = [];
  /** 'Usage: /mlops deploy …': the hint of every parse error of this subcommand. */
  readonly hint: string;

  constructor(
    /** The text after the subcommand word, normalised (see normaliseText). */
    readonly text: string,
    private readonly subcommand: ParsedSubcommand,
    /** "deploy, split, …": the subcommands that take --dry-run, for the message when another gets it. */
    private readonly dryRunNames: string,
  ) {
    this.hint = `Usage: ${subcommand.usage}`;
  }

  add(message: string): void {
    this.problems.push(message);
  }

  /** The words, with the `--dry-run` flags taken out and any other `--flag` refused. */
  split(): { words: Token[]; dryRun: boolean } {
    const { name, takesDryRun } = this.subcommand;
    let dryRun = false;
    const words: Token[] = [];
    for (const t of this.tokenize(restoreFlagDashes(this.text))) {
      const lower = t.text.toLowerCase();
      if (!t.quoted && DRY_RUN_FLAGS.has(lower)) {
        dryRun = true;
      } else if (!t.quoted && lower.startsWith('--')) {
        this.add(
          takesDryRun
            ? `Unknown option "${t.text}"; the only flag is --dry-run.`
            : `Unknown option "${t.text}".`,
        );
      } else {
        words.push(t);
      }
    }
    if (dryRun && !takesDryRun) {
      this.add(`--dry-run only applies to changes (${this.dryRunNames}), not to ${name}.`);
    }
    return { words, dryRun };
  }

  /** Splits some text into words (quotes keep spaces together). */
  tokenize(text: string): Token[] {
    return tokenize(text, this.hint);
  }

  /** Notes the words past the first `expected` as unexpected. */
  tooMany(words: Token[], expected: number): void {
    const extra = words.slice(expected).map((w) => `"${w.text}"`);
    if (extra.length > 0) this.add(`Unexpected ${extra.join(' ')} at the end.`);
  }

  /** Runs a schema and throws every problem (the parser's own first) as one bad_input error. */
  validate<S extends z.ZodType>(schema: S, raw: Record<string, unknown>): z.output<S> {
    const result = schema.safeParse(raw);
    const problems: Array<string | CodedDetails> = [...this.problems];
    if (!result.success) {
      const seen = new Set(this.problems);
      for (const issue of result.error.issues) {
        // Unknown keys cannot happen (we build raw ourselves); anything else is worth showing as is.
        // A schema that caught a coded error (a bad model or alias name) passes it on as data.
        const coded = codedOfIssue(issue);
        const key = coded ? JSON.stringify(coded) : issue.message;
        if (seen.has(key)) continue;
        seen.add(key);
        problems.push(coded ?? issue.message);
      }
    }
    if (problems.length > 0 || !result.success) {
      throw new UserError('bad_input', { problems, hint: this.hint });
    }
    return result.data;
  }

  /** A short model name resolved against the defaults; a bad name is a bad_input with the usage. */
  resolveModel(input: string, defaults: ParseDefaults): string {
    try {
      return resolveModelName(input, defaults);
    } catch (e) {
      if (isUserError(e)) throw new UserError('bad_input', { problems: [codedOf(e)], hint: this.hint });
      throw e;
    }
  }
}
