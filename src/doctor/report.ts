/** The doctor's report: one line per check, and how it is printed. */

export type CheckStatus = 'ok' | 'fail' | 'skip' | 'info';

/** One line of the doctor's report. */
export interface CheckResult {
  status: CheckStatus;
  /** What was checked, e.g. 'Slack token', 'Endpoint churn-endpoint'. */
  name: string;
  detail: string;
  /** For failures: what to do about it. */
  fix?: string;
}

export const ok = (name: string, detail: string): CheckResult => ({ status: 'ok', name, detail });
export const fail = (name: string, detail: string, fix: string): CheckResult => ({
  status: 'fail',
  name,
  detail,
  fix,
});
export const skip = (name: string, detail: string): CheckResult => ({ status: 'skip', name, detail });

/**
 * A count and its noun, pluralised as English does for the words the checks use.
 *
 * @example plural(2, 'alias') // '2 aliases'
 * @example plural(1, 'check') // '1 check'
 */
export const plural = (n: number, word: string) =>
  `${n} ${n === 1 ? word : /(s|x|z|ch|sh)$/.test(word) ? `${word}es` : `${word}s`}`;

const MARKS: Record<CheckStatus, string> = { ok: '✓', fail: '✗', skip: '–', info: 'ℹ' };

/**
 * The report as printed: one line per check, the fix indented under each failure.
 *
 * @example console.log(formatResults(await doctor(process.env)));
 */
export function formatResults(results: CheckResult[]): string {
  const lines = ['modelgate doctor', ''];
  for (const r of results) {
    lines.push(`  ${MARKS[r.status]} ${r.name}: ${r.detail}`);
    if (r.fix) lines.push(`      fix: ${r.fix}`);
  }
  const failed = results.filter((r) => r.status === 'fail').length;
  lines.push('', failed === 0 ? 'All checks passed.' : `${plural(failed, 'check')} failed.`);
  return lines.join('\n');
}
