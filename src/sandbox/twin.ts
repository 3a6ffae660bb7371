/**
 * `npm run twin`: starts the local Databricks workspace twin with the demo data, alone, and prints
 * its address and token, for anyone who wants to point scripts (or the Databricks CLI) at it.
 *
 *   npm run twin -- --port 8123
 */
import { openSandboxDuckDb } from './duckdb.js';
import { createPayloadSink } from './inference-sink.js';
import { DEMO, seedDemoWorkspace } from './workspace/demo.js';
import { startWorkspaceTwin } from './workspace/server.js';

const portArg = process.argv.indexOf('--port');
const port = portArg > 0 ? Number(process.argv[portArg + 1]) : 0;
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error('--port needs a number between 0 and 65535');
  process.exit(2);
}

const db = await openSandboxDuckDb();
const state = seedDemoWorkspace();
const twin = await startWorkspaceTwin({ port, state, onInference: createPayloadSink(db, state) });

console.log(`Databricks workspace twin (sandbox, loopback only)
  DATABRICKS_HOST=${twin.url}
  DATABRICKS_TOKEN=${twin.token}
Demo: model ${DEMO.model} (Champion → v2, Challenger → v3), endpoint ${DEMO.endpoint}, job ${DEMO.jobId}.
Try:  curl -s -H "Authorization: Bearer ${twin.token}" ${twin.url}/api/2.0/serving-endpoints
Stop with Ctrl-C.`);

const stop = async () => {
  await twin.stop();
  await db.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
