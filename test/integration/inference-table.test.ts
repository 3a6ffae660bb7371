import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { staticTokenProvider } from '../../src/databricks/auth.js';
import { createDatabricksHttp } from '../../src/databricks/http.js';
import { createServingClient } from '../../src/databricks/serving.js';
import { createDatabricksWarehouse } from '../../src/databricks/warehouse.js';
import type { Warehouse } from '../../src/domain/ports/warehouse.js';
import { tableName } from '../../src/domain/sql-identifiers.js';
import { type DatabricksTwins, startDatabricksTwins } from '../../src/sandbox/start.js';
import { DEMO } from '../../src/sandbox/workspace/demo.js';

describe('the sandbox inference table', () => {
  let twins: DatabricksTwins;
  let warehouse: Warehouse;
  beforeAll(async () => {
    twins = await startDatabricksTwins(new Date('2026-11-20T12:00:00Z'));
    const tokens = staticTokenProvider(twins.workspace.token);
    warehouse = createDatabricksWarehouse({
      host: twins.warehouse.url,
      httpPath: twins.warehouse.httpPath,
      ca: twins.warehouse.ca,
      tokens,
    });
  });
  afterAll(async () => {
    await warehouse.close();
    await twins.stop();
  });

  it('shows each query of the demo endpoint to SQL, with its request, response and the served entity (by its opaque id) that answered', async () => {
    const serving = createServingClient(
      createDatabricksHttp({ host: twins.workspace.url, tokens: staticTokenProvider(twins.workspace.token) }),
    );
    const result = await serving.query(DEMO.endpoint, {
      records: [{ tenure: 3, monthly_charges: 95.5, contract: 'Month-to-month', senior_citizen: 'No' }],
    });
    const rows = await warehouse.query(
      `SELECT p.served_entity_id, e.served_entity_name, e.entity_version, request, response, status_code
       FROM ${tableName('acme.mlops.churn_endpoint_payload')} AS p
       JOIN system.serving.served_entities AS e ON e.served_entity_id = p.served_entity_id
       WHERE e.served_entity_name = :served`,
      { served: result.servedName ?? '' },
      z.object({
        served_entity_id: z.string(),
        served_entity_name: z.string(),
        entity_version: z.string(),
        request: z.string(),
        response: z.string(),
        status_code: z.number(),
      }),
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.status_code).toBe(200);
    // As on Databricks, the payload row names its entity by an opaque id, mapped by the system table.
    expect(rows[0]!.served_entity_id).toMatch(/^[0-9a-f]{32}$/);
    expect(rows[0]!.entity_version).toBe('2');
    expect(JSON.parse(rows[0]!.request)).toMatchObject({ dataframe_records: [{ tenure: 3 }] });
    expect(JSON.parse(rows[0]!.response)).toEqual({ predictions: result.predictions });
  });
});
