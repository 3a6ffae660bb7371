import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticTokenProvider } from '../../src/databricks/auth.js';
import { createDatabricksHttp } from '../../src/databricks/http.js';
import { createServingClient } from '../../src/databricks/serving.js';
import { openSandboxDuckDb, type SandboxDb } from '../../src/sandbox/duckdb.js';
import { createPayloadSink } from '../../src/sandbox/inference-sink.js';
import { DEMO, seedDemoWorkspace } from '../../src/sandbox/workspace/demo.js';
import { startWorkspaceTwin, type WorkspaceTwin } from '../../src/sandbox/workspace/server.js';

describe('the sandbox inference table', () => {
  let db: SandboxDb;
  let twin: WorkspaceTwin;
  beforeAll(async () => {
    db = await openSandboxDuckDb();
    const state = seedDemoWorkspace();
    twin = await startWorkspaceTwin({ state, onInference: createPayloadSink(db, state) });
  });
  afterAll(async () => {
    await twin.stop();
    await db.close();
  });

  it('records each query of the demo endpoint with its request, response and the version that answered', async () => {
    const serving = createServingClient(
      createDatabricksHttp({ host: twin.url, tokens: staticTokenProvider(twin.token) }),
    );
    const result = await serving.query(DEMO.endpoint, {
      records: [{ tenure: 3, monthly_charges: 95.5, contract: 'Month-to-month', senior_citizen: 'No' }],
    });
    const rows = await db.all(
      'SELECT served_entity_id, request, response, status_code FROM acme.mlops.churn_endpoint_payload',
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ served_entity_id: result.servedName, status_code: 200 });
    expect(JSON.parse(String(rows[0]!.request))).toMatchObject({ dataframe_records: [{ tenure: 3 }] });
    expect(JSON.parse(String(rows[0]!.response))).toEqual({ predictions: result.predictions });
  });
});
