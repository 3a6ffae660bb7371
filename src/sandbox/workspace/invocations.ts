import { fail } from './router.js';
import type { EndpointConfig } from './state.js';

/**
 * The demo churn model the twin serves, and how the twin picks the served entity for a request.
 * Pure functions: the serving routes bring state and the clock.
 */

export const CHURN_FEATURES = ['tenure', 'monthly_charges', 'contract', 'senior_citizen'] as const;

export interface ChurnPrediction {
  prediction: 'Yes' | 'No';
  probability: number;
}

/** The score's weight per contract (lower-case); the batch scorer writes the same score in SQL. */
export const CONTRACT_WEIGHT: Record<string, number> = {
  'month-to-month': 0.9,
  'one year': -0.7,
  'two year': -1.7,
};

/**
 * A small logistic churn score: short tenure, high charges, monthly contracts and senior customers
 * churn more. `bias` (a version's `behaviour.bias`) shifts the score, so versions answer differently.
 *
 * @example churnScore({ tenure: 2, monthly_charges: 95, contract: 'Month-to-month', senior_citizen: 1 }, 0)
 */
export function churnScore(record: Record<string, unknown>, bias: number): ChurnPrediction {
  const missing = CHURN_FEATURES.filter((f) => record[f] === undefined || record[f] === null);
  if (missing.length > 0) {
    fail(
      400,
      'BAD_REQUEST',
      `Failed to enforce schema of data with schema [${CHURN_FEATURES.map((f) => `'${f}'`).join(', ')}]. Error: Model is missing inputs [${missing.map((f) => `'${f}'`).join(', ')}].`,
    );
  }
  const tenure = Number(record.tenure);
  const charges = Number(record.monthly_charges);
  const senior = record.senior_citizen === true || Number(record.senior_citizen) === 1 ? 1 : 0;
  const contract = CONTRACT_WEIGHT[String(record.contract).toLowerCase()];
  if (!Number.isFinite(tenure) || !Number.isFinite(charges) || contract === undefined) {
    fail(
      400,
      'BAD_REQUEST',
      `Failed to enforce schema of data: tenure and monthly_charges must be numbers and contract one of ${Object.keys(
        CONTRACT_WEIGHT,
      )
        .map((c) => `'${c}'`)
        .join(
          ', ',
        )} (got ${JSON.stringify({ tenure: record.tenure, monthly_charges: record.monthly_charges, contract: record.contract })}).`,
    );
  }
  const z = -1.2 - 0.06 * tenure + 0.025 * charges + contract + 0.45 * senior + bias;
  const probability = Math.round((1 / (1 + Math.exp(-z))) * 10_000) / 10_000;
  return { prediction: probability >= 0.5 ? 'Yes' : 'No', probability };
}

/**
 * Turns an invocation body into records, like MLflow's scoring server: exactly one input key, and
 * only the dataframe formats for this tabular model.
 */
export function recordsOf(body: unknown): Array<Record<string, unknown>> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    fail(400, 'BAD_REQUEST', 'The request body must be a JSON object.');
  }
  const inputKeys = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'];
  const given = Object.keys(body).filter((k) => inputKeys.includes(k));
  if (given.length !== 1) {
    fail(
      400,
      'BAD_REQUEST',
      `The input must be a JSON dictionary with exactly one of the input fields {'dataframe_split', 'dataframe_records', 'instances', 'inputs'}. Received dictionary with input fields: [${Object.keys(
        body,
      )
        .map((k) => `'${k}'`)
        .join(', ')}].`,
    );
  }
  const b = body as Record<string, unknown>;
  if (b.dataframe_records !== undefined) {
    const records = b.dataframe_records;
    if (
      !Array.isArray(records) ||
      !records.every((r) => typeof r === 'object' && r !== null && !Array.isArray(r))
    ) {
      fail(400, 'BAD_REQUEST', "'dataframe_records' must be a list of objects (pandas 'records' orient).");
    }
    return records as Array<Record<string, unknown>>;
  }
  if (b.dataframe_split !== undefined) {
    const split = b.dataframe_split as { columns?: unknown; data?: unknown };
    if (
      typeof split !== 'object' ||
      split === null ||
      !Array.isArray(split.columns) ||
      !Array.isArray(split.data) ||
      !split.data.every((row) => Array.isArray(row) && row.length === (split.columns as unknown[]).length)
    ) {
      fail(
        400,
        'BAD_REQUEST',
        "'dataframe_split' must have 'columns' and 'data' with one value per column in every row (pandas 'split' orient).",
      );
    }
    const columns = split.columns.map(String);
    return (split.data as unknown[][]).map((row) => Object.fromEntries(columns.map((c, i) => [c, row[i]])));
  }
  return fail(
    400,
    'BAD_REQUEST',
    `This model takes a dataframe ('dataframe_records' or 'dataframe_split'), not '${given[0]}'.`,
  );
}

/**
 * Smooth weighted round-robin (as in nginx) over the traffic routes of one config: deterministic,
 * and over any 100 consecutive requests each served entity gets exactly its percentage.
 */
export class TrafficPicker {
  private configVersion = -1;
  private current = new Map<string, number>();

  pick(config: EndpointConfig): string {
    if (config.config_version !== this.configVersion) {
      this.configVersion = config.config_version;
      this.current = new Map();
    }
    const routes = config.traffic_config.routes.filter((r) => r.traffic_percentage > 0);
    let best: string | undefined;
    let bestWeight = Number.NEGATIVE_INFINITY;
    for (const r of routes) {
      const w = (this.current.get(r.served_model_name) ?? 0) + r.traffic_percentage;
      this.current.set(r.served_model_name, w);
      if (w > bestWeight) {
        best = r.served_model_name;
        bestWeight = w;
      }
    }
    if (best === undefined) return config.served_entities[0]?.name ?? '';
    const total = routes.reduce((s, r) => s + r.traffic_percentage, 0);
    this.current.set(best, bestWeight - total);
    return best;
  }
}
