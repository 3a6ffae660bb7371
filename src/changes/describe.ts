/**
 * Plain-text words for changes and models, shared by the domain and the Slack views: no markup,
 * no Block Kit. Pure.
 */
import type { Plan } from '../domain/change.js';

/** The last part of a three-part model name: what people call the model in a channel. */
export function shortModel(fullName: string): string {
  return fullName.split('.').pop() || fullName;
}

/**
 * "2m 14s", "45s", "1h 3m".
 *
 * @example formatElapsed(134_000) // '2m 14s'
 */
export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

/**
 * What the change is, in a few words: "Deploy to churn-endpoint", "Champion → churn_model v3".
 *
 * @example changeTitle(plan) // 'Traffic split on churn-endpoint'
 */
export function changeTitle(plan: Plan): string {
  if (plan.kind === 'alias') return `${plan.alias} → ${shortModel(plan.model)} v${plan.toVersion}`;
  switch (plan.subcommand) {
    case 'deploy':
      return plan.create ? `New endpoint ${plan.endpoint}` : `Deploy to ${plan.endpoint}`;
    case 'split':
      return `Traffic split on ${plan.endpoint}`;
    case 'rollback':
      return `Rollback of ${plan.endpoint}`;
  }
}
