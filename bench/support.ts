/** Setups the benches share: a bare Bolt app to compare acks with, and a warehouse on its twin. */
import http from 'node:http';
import { App, HTTPReceiver } from '@slack/bolt';
import type { TokenProvider } from '../src/databricks/auth.js';
import { createDatabricksWarehouse } from '../src/databricks/warehouse.js';
import type { Warehouse } from '../src/domain/ports/warehouse.js';
import { openSandboxDuckDb, type SandboxDb } from '../src/sandbox/duckdb.js';
import { startWarehouseTwin, type WarehouseTwin } from '../src/sandbox/warehouse/index.js';
import { TEST_SIGNING_SECRET } from '../test/support/slack-requests.js';

/**
 * A Bolt app that only acknowledges: the floor a bot's ack latency is compared with.
 * `register` says what it listens to, e.g. `(app, ack) => app.command('/mlops', ack)`.
 */
export async function bareBoltApp(
  register: (app: App) => void,
): Promise<{ url: string; stop: () => Promise<unknown> }> {
  const app = new App({
    token: 'xoxb-bare',
    botId: 'B0BARE',
    botUserId: 'U0BARE',
    receiver: new HTTPReceiver({ signingSecret: TEST_SIGNING_SECRET }),
  });
  register(app);
  const server = await app.start({ port: 0, host: '127.0.0.1' });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}/slack/events`, stop: () => app.stop() };
}

/** DuckDB, the SQL warehouse twin over it, and the production adapter pointed at the twin. */
export async function startWarehouseOnTwin(
  token = 'dapi-bench',
): Promise<{ db: SandboxDb; twin: WarehouseTwin; warehouse: Warehouse; stop(): Promise<void> }> {
  const db = await openSandboxDuckDb();
  const twin = await startWarehouseTwin({ db, token });
  const tokens: TokenProvider = { token: async () => token };
  const warehouse = createDatabricksWarehouse({
    host: twin.url,
    httpPath: twin.httpPath,
    ca: twin.ca,
    tokens,
  });
  return {
    db,
    twin,
    warehouse,
    async stop() {
      await warehouse.close();
      await twin.stop();
      await db.close();
    },
  };
}

/**
 * POSTs a signed request over node:http with kept-alive sockets and resolves with the status.
 * The load generators use it instead of fetch, whose per-request CPU is several times larger, so
 * on a small machine the client steals less CPU from the bot it is timing.
 */
export function createPoster(url: string): {
  post(request: { headers: Record<string, string>; body: string }): Promise<number>;
  close(): void;
} {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const target = new URL(url);
  return {
    post(request) {
      return new Promise((resolve, reject) => {
        const req = http.request(
          target,
          {
            method: 'POST',
            agent,
            headers: { ...request.headers, 'content-length': Buffer.byteLength(request.body) },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(request.body);
      });
    },
    close: () => agent.destroy(),
  };
}
