/**
 * Cron as data: the description of a scheduled job, and the check of a cron expression and time
 * zone that config validation runs. Pure, so config/ and drift/ need not import jobs/schedule.ts,
 * the only importer of node-cron. `cronProblem` accepts exactly what node-cron 4's `validate`
 * accepts (nicknames, names, ranges, steps, L, W, #); test/unit/cron.test.ts compares the two.
 */

/** A job for jobs/schedule.ts: a function that runs once and takes `now`, and when to run it. */
export interface ScheduledJob {
  /** Stable name, for logs. */
  name: string;
  /** Five or six fields (seconds optional), node-cron syntax (not Quartz). */
  cron: string;
  /** IANA time zone the expression is read in; UTC by default. */
  timezone?: string;
  run(now: Date): Promise<void>;
  /**
   * Runs that fired later than the scheduler's tolerance (a blocked or suspended process) and so
   * never ran: told once per streak, after the log line. A job whose pass catches up (the drift
   * check) may run now.
   */
  missed?(missed: MissedRuns, now: Date): Promise<void>;
}

/** Scheduled runs that were dropped, oldest first. */
export interface MissedRuns {
  first: Date;
  last: Date;
  count: number;
}

const NICKNAMES: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};
const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];
const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const BOUNDS: ReadonlyArray<readonly [number, number]> = [
  [0, 59],
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 6],
];
const MAX_DAYS_IN_MONTH = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const W_TOKEN = /^(\d{1,2}|L)W$/i;
const OFFSET_TOKEN = /^L-(\d{1,2})$/i;
const PLAIN = /^(?:\d+|\*|\*\/\d+)$/;

type Token = number | string;

const resolveNickname = (e: string) => NICKNAMES[e.trim().toLowerCase()] ?? e;
const splitFields = (e: string) =>
  e
    .replace(/\s{2,}/g, ' ')
    .trim()
    .split(' ');

function renameAll(field: string, names: readonly string[], offset: number): string {
  let out = field;
  for (const names_ of [names, names.map((n) => n.slice(0, 3))]) {
    names_.forEach((n, i) => {
      out = out.replace(new RegExp(n, 'gi'), String(i + offset));
    });
  }
  return out;
}

function expandRange(
  first: number,
  last: number,
  step: number,
  [min, max]: readonly [number, number],
  raw: string,
): string {
  if (!(step >= 1)) return raw;
  const numbers: number[] = [];
  if (first <= last) {
    for (let i = first; i <= last; i += step) numbers.push(i);
    return numbers.join();
  }
  const size = max - min + 1;
  const span = (((last - first) % size) + size) % size;
  for (let o = 0; o <= span; o += step) numbers.push(first + o > max ? first + o - size : first + o);
  return numbers.join();
}

/** node-cron's conversion of an expression into six lists of tokens. */
function toFields(expression: string): Token[][] {
  let f = splitFields(resolveNickname(expression));
  if (f.length === 5) f = ['0', ...f];
  if (f[3] === '?') f[3] = '*';
  if (f[5] === '?') f[5] = '*';
  f[4] = renameAll(f[4] ?? '', MONTHS, 1);
  f[5] = renameAll(f[5] ?? '', WEEKDAYS, 0);
  const ranges = ['0-59', '0-59', '0-23', '1-31', '1-12', '0-6'];
  f = f.map((field, i) =>
    field
      .split(',')
      .map((t) => (t.includes('*') ? t.replace('*', ranges[i] ?? '') : t))
      .join(','),
  );
  f = f.map((field, i) =>
    field
      .split(',')
      .map((t) => {
        const m = /^(\d+)-(\d+)(?:\/(\d+))?$/.exec(t.trim());
        if (!m) return t;
        const step = m[3] ?? '1';
        return expandRange(
          Number.parseInt(m[1]!, 10),
          Number.parseInt(m[2]!, 10),
          Number.parseInt(step, 10),
          BOUNDS[i] ?? [0, 0],
          `${m[1]}-${m[2]}/${step}`,
        );
      })
      .join(),
  );
  const fields: Token[][] = f.map((field) =>
    field.split(',').map((raw): Token => {
      const t = raw.trim();
      if (/^l$/i.test(t)) return 'L';
      if (/^l-\d{1,2}$/i.test(t) || /^[0-7]l$/i.test(t) || /w/i.test(t)) return t.toUpperCase();
      if (t.includes('#')) return t;
      if (/^\d+$/.test(t)) return Number.parseInt(t, 10);
      return t;
    }),
  );
  const weekdays = (fields[5] ?? []).map((d) =>
    d === 7 ? 0 : typeof d === 'string' && d.startsWith('7') ? `0${d.slice(1)}` : d,
  );
  fields[5] = [...new Set(weekdays)];
  return fields;
}

function valid(tokens: readonly Token[], min: number, max: number): boolean {
  return tokens.every((t) => {
    const n = Number.parseInt(String(t), 10);
    return !(!Number.isNaN(n) && (n < min || n > max)) && PLAIN.test(String(t));
  });
}

function invalidDayOfMonth(tokens: readonly Token[]): boolean {
  const rest = tokens.filter((t) => {
    if (t === 'L') return false;
    const w = W_TOKEN.exec(String(t));
    if (w) return w[1] === 'L' ? false : Number(w[1]) < 1 || Number(w[1]) > 31;
    const o = OFFSET_TOKEN.exec(String(t));
    if (o) return Number(o[1]) < 1 || Number(o[1]) > 30;
    return true;
  });
  return !valid(rest, 1, 31);
}

const invalidW = (raw: string) =>
  /w/i.test(raw) && raw.split(',').some((t) => /w/i.test(t.trim()) && !W_TOKEN.test(t.trim()));

/**
 * Whether node-cron would accept the expression.
 *
 * @example isValidCron('0 8 * * 1-5') // true
 */
export function isValidCron(expression: string): boolean {
  if (typeof expression !== 'string') return false;
  const resolved = resolveNickname(expression);
  if (!/^[a-zA-Z0-9-*/,#? ]+$/.test(resolved)) return false;
  const raw = splitFields(resolved);
  if (raw.length !== 5 && raw.length !== 6) return false;
  const patterns = raw.length === 5 ? ['0', ...raw] : raw;
  const [sec = [], min = [], hour = [], dom = [], month = [], dow = []] = toFields(resolved);
  if (!valid(sec, 0, 59) || !valid(min, 0, 59) || !valid(hour, 0, 23)) return false;
  if (invalidDayOfMonth(dom) || invalidW(patterns[3] ?? '')) return false;
  if (!valid(month, 1, 12)) return false;
  const weekdays = dow.filter(
    (d) => !(typeof d === 'string' && /^([0-7])#([1-5])$/.test(d)) && !/^[0-7]L$/.test(String(d)),
  );
  if (!valid(weekdays, 0, 7)) return false;
  // A day that no listed month has (e.g. 31 in February only).
  if (dom.every((d) => typeof d === 'number')) {
    const possible = month.some((m) =>
      dom.some((d) => (d as number) <= (MAX_DAYS_IN_MONTH[m as number] ?? -1)),
    );
    if (!possible) return false;
  }
  return true;
}

/**
 * Why a schedule is unusable, or undefined when it is fine (for config validation).
 *
 * @example scheduleProblem('0 8 * * *', 'Mars/Olympus') // '"Mars/Olympus" is not an IANA time zone (…)'
 */
export function scheduleProblem(expression: string, timezone = 'UTC'): string | undefined {
  if (!isValidCron(expression)) return `"${expression}" is not a valid cron expression`;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    return `"${timezone}" is not an IANA time zone (e.g. Europe/Paris, America/New_York, UTC)`;
  }
  return undefined;
}
