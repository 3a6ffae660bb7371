/**
 * The doctor's checks of the drift watch: the SQL warehouse answers a parameterised query, each
 * monitor's metric tables can be found and read through it, and the job its Retrain button runs
 * exists.
 */
import { z } from 'zod';
import type { DatabricksConnection } from '../../config/databricks-connection.js';
import { type AppConfig, displayPath } from '../../config/env.js';
import type { Policy } from '../../config/policy.js';
import type { MonitorConfig } from '../../config/policy-monitors.js';
import { DatabricksApiError } from '../../databricks/http.js';
import { isUserError } from '../../domain/errors.js';
import { resolveModelName } from '../../domain/model-names.js';
import type { JobSettingsReader } from '../../domain/ports/jobs.js';
import type { Monitors } from '../../domain/ports/monitors.js';
import { sqlTimestamp, type Warehouse, WarehouseError } from '../../domain/ports/warehouse.js';
import { columnName, tableName } from '../../domain/sql-identifiers.js';
import { describeError } from '../../slack/blocks/errors.js';
import { type CheckResult, fail, ok, plural, skip } from '../report.js';

/** The drift watch's SQL warehouse as the doctor reads it: queries, and where it is for messages. */
export interface DoctorWarehouse extends Pick<Warehouse, 'query'> {
  /** Host and HTTP path, e.g. https://adb-1.azuredatabricks.net/sql/1.0/warehouses/abc123. */
  at: string;
  /** Where the setting came from, when worth saying (e.g. 'the local SQL warehouse twin'). */
  source?: string;
}

/** What the drift checks read through: a subset of the doctor's clients. */
export interface DriftCheckDeps {
  /** Absent when no SQL warehouse is configured. */
  warehouse?: DoctorWarehouse;
  monitors: Pick<Monitors, 'findMetricTables'>;
  jobSettings: Pick<JobSettingsReader, 'getJob'>;
  databricks: Pick<DatabricksConnection, 'host'>;
}

/** The variable that names the warehouse: the one set, or both when neither is (the sandbox's twin). */
function warehouseVariable(config: AppConfig): string {
  if (config.databricks?.httpPath) return 'DATABRICKS_HTTP_PATH';
  if (config.databricks?.warehouseId) return 'DATABRICKS_WAREHOUSE_ID';
  return 'DATABRICKS_WAREHOUSE_ID (or DATABRICKS_HTTP_PATH)';
}

function warehouseFailure(e: unknown, config: AppConfig): CheckResult {
  const name = 'SQL warehouse';
  const variable = warehouseVariable(config);
  if (!isUserError(e)) {
    return fail(name, `unexpected failure: ${(e as Error).message}`, 'run again; report it if it persists');
  }
  const words = describeError(e);
  const fixes: Partial<Record<string, string>> = {
    warehouse_starting:
      'the warehouse was stopped and is starting: wait a few minutes and run the doctor again (or start it under SQL Warehouses); a longer auto-stop keeps it up while the bot is in use',
    timeout:
      'it may be starting up (a stopped warehouse takes a few minutes): start it under SQL Warehouses and run the doctor again; if it is running, check DATABRICKS_HOST and the network or proxy',
    auth: `give the bot's token or service principal CAN USE on the warehouse (SQL Warehouses → Permissions), and check ${variable} names that warehouse`,
    connection: /HTTP 404/.test(words.text)
      ? `check ${variable} against the warehouse's Connection details (SQL Warehouses → the warehouse → Connection details)`
      : 'check DATABRICKS_HOST (the workspace URL the warehouse belongs to) and the network or proxy',
  };
  // invalid_config: the message names the variable already (an http:// host, a malformed id or path).
  const fix = fixes[e.code] ?? (e.code === 'invalid_config' ? words.hint : undefined);
  return fail(name, words.text, fix ?? (words.hint ? `${words.hint} (${variable})` : `check ${variable}`));
}

/** A one-word probe the warehouse must echo back: proves sessions, statements and parameters work. */
const PROBE = 'modelgate-doctor';
const probeRowSchema = z.object({ probe: z.string() });
/** What the table read needs: the window struct and the model-id column, at the monitor's granularity. */
const metricRowSchema = z.object({ window_start: sqlTimestamp.nullable(), model_id: z.unknown() });

interface LocatedTables {
  profileTable: string;
  driftTable: string;
  modelIdColumn: string;
  /** The policy named the tables itself (profileTable/driftTable) rather than the monitored table. */
  direct: boolean;
}

/** The job a monitor's Retrain button runs, and the policy key that names it. */
function retrainJobOf(
  policy: Policy,
  name: string,
  monitor: MonitorConfig,
): { jobId: number; key: string } | undefined {
  if (monitor.retrainJob !== undefined)
    return { jobId: monitor.retrainJob, key: `monitors.${name}.retrainJob` };
  const full = (model: string) => {
    try {
      return resolveModelName(model, policy.defaults);
    } catch {
      return undefined;
    }
  };
  const model = full(monitor.model);
  const entry = Object.entries(policy.retraining ?? {}).find(([m]) => model && full(m) === model);
  return entry ? { jobId: entry[1].job, key: `retraining.${entry[0]}.job` } : undefined;
}

/**
 * The drift watch: the SQL warehouse answers, and each monitor's metric tables can be found and read
 * through it, and the job its Retrain button runs exists.
 */
export async function driftWatchChecks(
  config: AppConfig,
  policy: Policy,
  deps: DriftCheckDeps,
  databricksOk: boolean,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const monitors = Object.entries(policy.monitors ?? {});
  const file = displayPath(config.policyPath);

  let warehouseOk = false;
  if (deps.warehouse) {
    try {
      const rows = await deps.warehouse.query('SELECT :probe AS probe', { probe: PROBE }, probeRowSchema);
      if (rows[0]?.probe !== PROBE) {
        results.push(
          fail(
            'SQL warehouse',
            `The warehouse answered ${JSON.stringify(rows)} to a query that echoes a parameter.`,
            `Check that the HTTP path names a Databricks SQL warehouse. (${warehouseVariable(config)})`,
          ),
        );
      } else {
        warehouseOk = true;
        results.push(
          ok(
            'SQL warehouse',
            `${deps.warehouse.at} answers a parameterised query${deps.warehouse.source ? ` (${deps.warehouse.source})` : ''}`,
          ),
        );
      }
    } catch (e) {
      results.push(warehouseFailure(e, config));
    }
  } else if (monitors.length > 0) {
    results.push(
      fail(
        'SQL warehouse',
        `none is configured, but the policy has ${plural(monitors.length, 'monitor')} (${monitors.map(([n]) => n).join(', ')}) whose metric tables are read through one`,
        'set DATABRICKS_WAREHOUSE_ID to the id of a SQL warehouse that can read the metric tables (SQL Warehouses → the warehouse → Connection details), or DATABRICKS_HTTP_PATH to its HTTP path',
      ),
    );
  } else {
    results.push(skip('SQL warehouse', 'none configured; the policy has no monitors that would need one'));
  }

  for (const [name, monitor] of monitors) {
    const label = `Monitor ${name}`;
    // Where its metrics are: named in the policy, or asked of the monitors API.
    let located: LocatedTables | undefined;
    if (monitor.profileTable && monitor.driftTable) {
      located = {
        profileTable: monitor.profileTable,
        driftTable: monitor.driftTable,
        modelIdColumn: monitor.modelIdColumn ?? 'model_version',
        direct: true,
      };
      results.push({
        status: 'info',
        name: label,
        detail: `reads the metric tables the policy names: ${monitor.profileTable} and ${monitor.driftTable}`,
      });
    } else if (!databricksOk) {
      results.push(skip(label, 'needs Databricks to be reachable'));
    } else {
      const table = monitor.table ?? '';
      try {
        const found = await deps.monitors.findMetricTables(table);
        located = {
          profileTable: found.profileTable,
          driftTable: found.driftTable,
          modelIdColumn: monitor.modelIdColumn ?? found.modelIdColumn ?? 'model_version',
          direct: false,
        };
        if (found.granularities && !found.granularities.includes(monitor.granularity)) {
          results.push(
            fail(
              label,
              `the monitor on ${table} writes ${found.granularities.join(', ')} windows, not ${monitor.granularity}`,
              `set monitors.${name}.granularity to ${found.granularities.map((g) => `"${g}"`).join(' or ')} in ${file}`,
            ),
          );
        } else {
          results.push(
            ok(
              label,
              `${table} has a monitor writing ${found.profileTable} and ${found.driftTable}${
                found.granularities ? ` (${found.granularities.join(', ')} windows)` : ''
              }`,
            ),
          );
        }
      } catch (e) {
        results.push(monitorFailure(e, name, table, file, monitor.setup !== undefined));
      }
    }

    const tablesLabel = `${label} tables`;
    if (!located) {
      results.push(skip(tablesLabel, "needs the monitor's metric tables"));
    } else if (!warehouseOk) {
      results.push(skip(tablesLabel, 'needs a working SQL warehouse'));
    } else {
      results.push(await readMetricTables(deps.warehouse!, tablesLabel, name, monitor, located, file));
    }

    const job = retrainJobOf(policy, name, monitor);
    const jobLabel = `${label} retrain job`;
    if (!job) {
      results.push(skip(jobLabel, 'the policy names none, so its alerts have no Retrain button'));
    } else if (!databricksOk) {
      results.push(skip(jobLabel, 'needs Databricks to be reachable'));
    } else {
      try {
        const settings = await deps.jobSettings.getJob(job.jobId);
        results.push(ok(jobLabel, `job ${job.jobId} (${settings.name}) exists`));
      } catch (e) {
        results.push(
          isUserError(e) && e.code === 'job_not_found'
            ? fail(
                jobLabel,
                `there is no job ${job.jobId} in ${deps.databricks.host} (${job.key})`,
                `fix ${job.key} in ${file} (the id is in the job's URL: …/jobs/<id>), or give the bot's principal CAN MANAGE RUN on the job`,
              )
            : fail(
                jobLabel,
                isUserError(e) ? describeError(e).text : `job ${job.jobId} could not be read`,
                (isUserError(e) && describeError(e).hint) || 'run again',
              ),
        );
      }
    }
  }
  return results;
}

function monitorFailure(
  e: unknown,
  name: string,
  table: string,
  file: string,
  canCreate: boolean,
): CheckResult {
  const label = `Monitor ${name}`;
  if (!isUserError(e)) {
    const status = e instanceof DatabricksApiError ? ` (HTTP ${e.status})` : '';
    return fail(
      label,
      `the monitor on ${table} could not be read${status}`,
      "give the bot's principal USE CATALOG, USE SCHEMA and SELECT on the monitored table; run again if it was a blip",
    );
  }
  const words = describeError(e);
  switch (e.code) {
    case 'table_not_found':
      return fail(
        label,
        `there is no table ${table} (or the bot cannot see it)`,
        `fix monitors.${name}.table in ${file}, or give the bot's principal USE CATALOG and USE SCHEMA on it`,
      );
    case 'monitor_not_found':
      return fail(
        label,
        `${table} has no data-profiling monitor`,
        canCreate
          ? `run /mlops monitor create ${name} in Slack (monitors.${name}.setup says how), or fix monitors.${name}.table in ${file}`
          : `create an InferenceLog monitor on ${table} (add monitors.${name}.setup and run /mlops monitor create ${name}, or Catalog Explorer → the table → Quality), or fix monitors.${name}.table in ${file}`,
      );
    case 'monitor_not_ready':
      return fail(label, words.text, words.hint ?? 'try again in a few minutes');
    default:
      return fail(
        label,
        words.text,
        words.hint ? `${words.hint} (monitors.${name} in ${file})` : `check monitors.${name} in ${file}`,
      );
  }
}

/** Reads one row of each metric table the way the drift check does: validated, quoted names only. */
async function readMetricTables(
  warehouse: DoctorWarehouse,
  label: string,
  name: string,
  monitor: MonitorConfig,
  located: LocatedTables,
  file: string,
): Promise<CheckResult> {
  const empty: string[] = [];
  for (const kind of ['profile', 'drift'] as const) {
    const table = kind === 'profile' ? located.profileTable : located.driftTable;
    try {
      const sql = [
        `SELECT \`window\`.start AS window_start, ${columnName(located.modelIdColumn)} AS model_id`,
        `FROM ${tableName(table)}`,
        'WHERE granularity = :granularity',
        'LIMIT 1',
      ].join('\n');
      const rows = await warehouse.query(sql, { granularity: monitor.granularity }, metricRowSchema);
      if (rows.length === 0) empty.push(table);
    } catch (e) {
      return metricTableFailure(e, { label, name, kind, table, monitor, located, file });
    }
  }
  return ok(
    label,
    `profile and drift metric tables can be read through the SQL warehouse (model-id column ${located.modelIdColumn}${
      empty.length > 0 ? `; no ${monitor.granularity} windows yet in ${empty.join(' and ')}` : ''
    })`,
  );
}

function metricTableFailure(
  e: unknown,
  at: {
    label: string;
    name: string;
    kind: 'profile' | 'drift';
    table: string;
    monitor: MonitorConfig;
    located: LocatedTables;
    file: string;
  },
): CheckResult {
  const { label, name, kind, table, monitor, located, file } = at;
  const key = `monitors.${name}.${kind}Table`;
  if (!(e instanceof WarehouseError)) {
    return fail(label, `${table}: ${(e as Error).message}`, 'run again; report it if it persists');
  }
  const sqlState = e.details.sqlState;
  const words = describeError(e);
  if (sqlState === '42P01' || /TABLE_OR_VIEW_NOT_FOUND/.test(words.text)) {
    return fail(
      label,
      `the ${kind} metrics table ${table} cannot be found through the SQL warehouse`,
      located.direct
        ? `fix ${key} in ${file}, or give the bot's principal USE CATALOG, USE SCHEMA and SELECT on it`
        : `refresh the monitor on ${monitor.table} (a refresh recreates its metric tables), and give the bot's principal USE CATALOG, USE SCHEMA and SELECT on ${table}`,
    );
  }
  if (sqlState === '42703' || /UNRESOLVED_COLUMN/.test(words.text)) {
    return fail(
      label,
      `${table} has no column the drift check reads (${words.text})`,
      `set monitors.${name}.modelIdColumn in ${file} to the metric tables' model-id column (now ${located.modelIdColumn})${
        located.direct ? `, and check ${key} names a Lakehouse Monitoring ${kind} metrics table` : ''
      }`,
    );
  }
  if (e.code === 'invalid_identifier') {
    return fail(
      label,
      words.text,
      located.direct ? `fix ${key} in ${file}` : (words.hint ?? `check monitors.${name} in ${file}`),
    );
  }
  return fail(label, `${table}: ${words.text}`, words.hint ?? 'run again');
}
