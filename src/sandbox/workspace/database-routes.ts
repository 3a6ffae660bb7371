import { randomUUID } from 'node:crypto';
import type { TwinContext } from './context.js';
import { fail, type Router } from './router.js';

/**
 * Lakebase database credentials (reference databricks-round2 §7): Provisioned instances
 * (`POST /api/2.0/database/credentials`, answers `expiration_time`) and Autoscaling endpoints
 * (`POST /api/2.0/postgres/credentials`, answers `expire_time`). Each call mints a fresh token that
 * expires an hour later (or at the asked `ttl`) on the twin's clock, for databases the state knows.
 */
export function registerDatabaseRoutes(router: Router, ctx: TwinContext): void {
  const mint = (ttlMs: number) => ({
    token: `lakebase-${randomUUID()}`,
    expires: new Date(ctx.clock.now() + ttlMs).toISOString(),
  });

  router.add('POST', '/api/2.0/database/credentials', (req) => {
    const body = (req.body ?? {}) as { instance_names?: unknown };
    const names = body.instance_names;
    if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === 'string')) {
      fail(400, 'INVALID_PARAMETER_VALUE', 'instance_names must name at least one database instance');
    }
    for (const name of names as string[]) {
      if (!ctx.state.database_instances?.has(name)) {
        fail(404, 'RESOURCE_DOES_NOT_EXIST', `Database instance '${name}' does not exist.`);
      }
    }
    const { token, expires } = mint(3_600_000);
    return { body: { token, expiration_time: expires } };
  });

  router.add('POST', '/api/2.0/postgres/credentials', (req) => {
    const body = (req.body ?? {}) as { endpoint?: unknown; ttl?: unknown };
    if (typeof body.endpoint !== 'string') fail(400, 'INVALID_PARAMETER_VALUE', 'endpoint is required');
    if (!ctx.state.postgres_endpoints?.has(body.endpoint)) {
      fail(404, 'RESOURCE_DOES_NOT_EXIST', `Endpoint '${body.endpoint}' does not exist.`);
    }
    const seconds = typeof body.ttl === 'string' ? Number(/^(\d+)s$/.exec(body.ttl)?.[1]) : 3600;
    if (!(seconds >= 300 && seconds <= 3600)) {
      fail(400, 'INVALID_PARAMETER_VALUE', 'ttl must be between 300s and 3600s');
    }
    const { token, expires } = mint(seconds * 1000);
    return { body: { token, expire_time: expires } };
  });
}
