import { z } from 'zod';
import type { TableInfo, Tables } from '../domain/ports/tables.js';
import { DatabricksApiError, type DatabricksHttp, seg } from './http.js';

const tableSchema = z.looseObject({
  table_id: z.string(),
  full_name: z.string().nullish(),
  owner: z.string().nullish(),
  comment: z.string().nullish(),
  columns: z
    .array(
      z.looseObject({ name: z.string(), type_text: z.string().nullish(), type_name: z.string().nullish() }),
    )
    .nullish(),
  properties: z.record(z.string(), z.string()).nullish(),
});

const UC = '/api/2.1/unity-catalog';

const isNotFound = (e: unknown): boolean => e instanceof DatabricksApiError && e.status === 404;

/**
 * Unity Catalog tables and schemas (`GET /api/2.1/unity-catalog/tables/{full_name}`, `…/schemas/{full_name}`).
 * A 404 is an answer (no such table), not an error.
 *
 * @example const t = await createTablesClient(http).getTable('acme.mlops.churn_inference'); t?.columns.map((c) => c.name)
 */
export function createTablesClient(http: DatabricksHttp): Tables {
  return {
    async getTable(fullName) {
      try {
        const t = await http.request({
          method: 'GET',
          path: `${UC}/tables/${seg(fullName)}`,
          schema: tableSchema,
        });
        const info: TableInfo = {
          fullName: t.full_name ?? fullName,
          tableId: t.table_id,
          columns: (t.columns ?? []).map((c) => ({
            name: c.name,
            ...((c.type_text ?? c.type_name) ? { type: (c.type_text ?? c.type_name)! } : {}),
          })),
          properties: t.properties ?? {},
          ...(t.owner ? { owner: t.owner } : {}),
          ...(t.comment ? { comment: t.comment } : {}),
        };
        return info;
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
    },

    async schemaExists(fullName) {
      try {
        await http.request({ method: 'GET', path: `${UC}/schemas/${seg(fullName)}`, schema: z.unknown() });
        return true;
      } catch (e) {
        if (isNotFound(e)) return false;
        throw e;
      }
    },
  };
}
