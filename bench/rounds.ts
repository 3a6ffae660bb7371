/**
 * Bot against bare Bolt app in alternating rounds within one run, and the figure the issue asks
 * for: the median of the per-round p99 ratios, with its min–max, beside the ≤ 1.2× target.
 */
import type { BenchRow } from './run.js';
import { percentile } from './stats.js';

export type Side = 'bot' | 'bare';

/** Rounds per side (BENCH_ROUNDS, default 5). */
export const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5));

/** The target for the bot's ack p99 over the bare app's. */
export const RATIO_TARGET = 1.2;

/**
 * The order of the rounds: pair i runs bot then bare when i is even, bare then bot when odd
 * (ABBA), so a machine getting slower or faster through the run weighs on both sides alike.
 *
 * @example roundOrder(2) // [{side:'bot',round:0},{side:'bare',round:0},{side:'bare',round:1},{side:'bot',round:1}]
 */
export function roundOrder(rounds: number): Array<{ side: Side; round: number }> {
  return Array.from({ length: rounds }, (_, round) =>
    (round % 2 === 0 ? (['bot', 'bare'] as const) : (['bare', 'bot'] as const)).map((side) => ({
      side,
      round,
    })),
  ).flat();
}

/** The median of the values (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Every round's durations of both sides pooled, sorted: for the p50/p99 over the whole run. */
export function pooled(rounds: readonly number[][]): number[] {
  return rounds.flat().sort((a, b) => a - b);
}

/**
 * The rows for one ack figure: each side's p99 round by round, and the ratio bot / bare as the
 * median of the per-round ratios (min–max), its target met or missed.
 */
export function ratioRows(label: string, bot: readonly number[][], bare: readonly number[][]): BenchRow[] {
  const botP99 = bot.map((d) => percentile(d, 99));
  const bareP99 = bare.map((d) => percentile(d, 99));
  const ratios = botP99.map((b, i) => b / bareP99[i]!);
  const mid = median(ratios);
  const list = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(' · ');
  return [
    { name: `${label} p99 per round, modelgate (ms)`, value: list(botP99) },
    { name: `${label} p99 per round, bare Bolt app (ms)`, value: list(bareP99) },
    { name: `${label} p99 ratio per round`, value: ratios.map((r) => `${r.toFixed(2)}×`).join(' · ') },
    {
      name: `${label} p99 ratio modelgate / bare: median (min–max) of ${ratios.length} rounds`,
      value: `${mid.toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}×)`,
      target: `≤ ${RATIO_TARGET}×: ${mid <= RATIO_TARGET ? 'met' : 'MISSED'}`,
    },
  ];
}
