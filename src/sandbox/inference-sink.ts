import type { SandboxDb } from './duckdb.js';
import type { InferenceRecord } from './workspace/server.js';
import type { WorkspaceState } from './workspace/state.js';

const IDENT = /^[A-Za-z0-9_]+$/;

/**
 * Appends every answered invocation to the endpoint's AI-gateway payload table
 * (`<catalog>.<schema>.<prefix>_payload`), as Databricks does, so SQL sees what was queried.
 * Endpoints without an enabled inference table log nothing.
 */
export function createPayloadSink(
  db: SandboxDb,
  state: WorkspaceState,
): (r: InferenceRecord) => Promise<void> {
  const created = new Set<string>();
  return async (r) => {
    const cfg = state.endpoints.get(r.endpoint)?.ai_gateway?.inference_table_config;
    if (!cfg?.enabled || !cfg.catalog_name || !cfg.schema_name || !cfg.table_name_prefix) return;
    const parts = [cfg.catalog_name, cfg.schema_name, `${cfg.table_name_prefix}_payload`];
    if (!parts.every((p) => IDENT.test(p))) return;
    const table = parts.join('.');
    if (!created.has(table)) {
      await db.run(`CREATE SCHEMA IF NOT EXISTS ${parts[0]}.${parts[1]}`);
      await db.run(
        `CREATE TABLE IF NOT EXISTS ${table} (databricks_request_id VARCHAR, client_request_id VARCHAR,
          request_time TIMESTAMP, status_code INTEGER, execution_duration_ms BIGINT, request VARCHAR,
          response VARCHAR, served_entity_id VARCHAR, requester VARCHAR)`,
      );
      created.add(table);
    }
    await db.run(
      `INSERT INTO ${table} VALUES ($id, $client, $at, $status, $ms, $request, $response, $served, $requester)`,
      {
        id: r.requestId,
        client: r.clientRequestId ?? null,
        at: r.at,
        status: r.statusCode,
        ms: r.executionMs,
        request: JSON.stringify(r.request),
        response: JSON.stringify(r.response),
        served: r.servedEntity,
        requester: 'sandbox',
      },
    );
  };
}
