/**
 * "Did you mean" for endpoint and model names: when a command names an endpoint or a model that
 * does not exist, the names Databricks has are read once (serving list, or the model's schema in
 * the registry) and the closest is offered. Only on that error path: a command that works makes
 * no extra call.
 */
import { isUserError, UserError } from '../domain/errors.js';
import type { Registry } from '../domain/ports/registry.js';
import type { Serving } from '../domain/ports/serving.js';
import { distance } from './parse.js';

/**
 * The closest candidate within a couple of typos (a third of its length for long names), if any.
 *
 * @example closestName('churn-endpont', ['churn-endpoint', 'fraud-endpoint']) // 'churn-endpoint'
 */
export function closestName(word: string, candidates: readonly string[]): string | undefined {
  let best: { c: string; d: number } | undefined;
  const w = word.toLowerCase();
  for (const c of candidates) {
    if (c.toLowerCase() === w) continue;
    const d = distance(w, c.toLowerCase());
    if (d <= Math.max(2, Math.floor(c.length / 3)) && (!best || d < best.d)) best = { c, d };
  }
  return best?.c;
}

/**
 * The error again, with a suggestion when it says an endpoint or a model does not exist and a
 * near name does; any other error (or a failed listing) comes back as it was.
 *
 * @example throw await withSuggestion(e, { serving, registry })
 */
export async function withSuggestion(
  e: unknown,
  deps: { serving: Pick<Serving, 'list'>; registry: Pick<Registry, 'listModels'> },
): Promise<unknown> {
  if (!isUserError(e)) return e;
  try {
    if (e.code === 'endpoint_not_found') {
      const d = (e as UserError<'endpoint_not_found'>).details;
      if (d.suggestion) return e;
      const names = (await deps.serving.list()).map((s) => s.name);
      const suggestion = closestName(d.endpoint, names);
      return suggestion ? new UserError('endpoint_not_found', { ...d, suggestion }) : e;
    }
    if (e.code === 'model_not_found') {
      const d = (e as UserError<'model_not_found'>).details;
      if (d.variant !== 'registry' || d.suggestion) return e;
      const [catalog, schema, name] = d.model.split('.');
      if (!catalog || !schema || !name) return e;
      const names = await deps.registry.listModels(catalog, schema);
      const short = closestName(
        name,
        names.map((n) => n.split('.').at(-1) ?? n),
      );
      const suggestion = short ? names.find((n) => n.split('.').at(-1) === short) : undefined;
      return suggestion ? new UserError('model_not_found', { ...d, suggestion }) : e;
    }
  } catch {
    // The listing failed too: the original error says enough.
  }
  return e;
}
