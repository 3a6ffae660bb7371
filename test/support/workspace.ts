import { staticTokenProvider } from '../../src/databricks/auth.js';
import {
  createDatabricksHttp,
  type DatabricksHttpOptions,
  type RequestLog,
} from '../../src/databricks/http.js';
import { type Clock, simulatedClock } from '../../src/lib/clock.js';
import { startWorkspaceTwin, type WorkspaceTwinOptions } from '../../src/sandbox/workspace/server.js';

/**
 * A workspace twin on port 0 plus a production HTTP client pointed at it. The client sleeps on a
 * simulated clock (so back-off waits cost no time) and records every attempt.
 */
export async function startTwinWithClient(
  twinOptions: WorkspaceTwinOptions = {},
  clientOptions: Partial<DatabricksHttpOptions> & { clock?: Clock } = {},
) {
  const twin = await startWorkspaceTwin(twinOptions);
  const attempts: RequestLog[] = [];
  const sleeps: number[] = [];
  const base = clientOptions.clock ?? simulatedClock(Date.now());
  const clock: Clock = {
    now: () => base.now(),
    sleep: (ms, signal) => {
      sleeps.push(ms);
      return base.sleep(ms, signal);
    },
  };
  const { clock: _base, ...rest } = clientOptions;
  const http = createDatabricksHttp({
    host: twin.url,
    tokens: staticTokenProvider(twin.token),
    onRequest: (log) => attempts.push(log),
    ...rest,
    clock,
  });
  return { twin, http, attempts, sleeps, clock };
}
