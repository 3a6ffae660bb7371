import { createHash } from 'node:crypto';
import { type SandboxDb, SYSTEM_CATALOG } from './duckdb.js';
import type { InferenceRecord } from './workspace/server.js';
import type { WorkspaceState } from './workspace/state.js';

const IDENT = /^[A-Za-z0-9_]+$/;

/**
 * The opaque 32-hex id Model Serving gives a served entity: stable for the same entity (endpoint,
 * name, model, version) in the twin.
 *
 * @example servedEntityId('churn-endpoint', 'churn_model-3', 'acme.mlops.churn_model', '3') // 'a1b2…'
 */
export const servedEntityId = (endpoint: string, name: string, entity: string, version: string): string =>
  createHash('sha256')
    .update(`${endpoint}|${name}|${entity.toLowerCase()}|${version}`)
    .digest('hex')
    .slice(0, 32);

/**
 * Appends every answered invocation to the endpoint's AI-gateway payload table
 * (`<catalog>.<schema>.<prefix>_payload`), as Databricks does, so SQL sees what was queried. As on
 * Databricks, a row names its served entity by an opaque `served_entity_id`; the entity's name and
 * model version are in `system.serving.served_entities`, which the sink fills too (at once: the real
 * system table lags, up to about an hour). Endpoints without an enabled inference table log nothing.
 */
export function createPayloadSink(
  db: SandboxDb,
  state: WorkspaceState,
): (r: InferenceRecord) => Promise<void> {
  const created = new Set<string>();
  const entities = new Set<string>();
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
    const served = servedEntityId(r.endpoint, r.servedEntity, r.entityName, r.entityVersion);
    if (!entities.has(served)) {
      await db.run(
        `INSERT INTO ${SYSTEM_CATALOG}.serving.served_entities VALUES ('sandbox', $endpoint, $id, $name, 'CUSTOM_MODEL', $entity, $version, $at)`,
        {
          endpoint: r.endpoint,
          id: served,
          name: r.servedEntity,
          entity: r.entityName,
          version: r.entityVersion,
          at: r.at,
        },
      );
      entities.add(served);
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
        served,
        requester: 'sandbox',
      },
    );
  };
}
