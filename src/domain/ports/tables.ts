/**
 * The Unity Catalog tables port: whether a table exists, its columns and its properties, read
 * before anything is sent (monitor set-up, batch scoring). The adapter is databricks/tables.ts.
 */

/** One Unity Catalog table as the bot needs it. */
export interface TableInfo {
  fullName: string;
  tableId: string;
  columns: Array<{ name: string; type?: string }>;
  /** Table properties (TBLPROPERTIES), e.g. the one the batch-scoring job sets on its output. */
  properties: Record<string, string>;
  owner?: string;
  comment?: string;
}

export interface Tables {
  /** The table, or undefined when Unity Catalog has none of that name. */
  getTable(fullName: string): Promise<TableInfo | undefined>;
  /** Whether a `catalog.schema` exists. */
  schemaExists(fullName: string): Promise<boolean>;
}

/**
 * The property the batch-scoring job sets on every table it writes: an existing output table
 * without it is someone else's, and is never written to.
 */
export const SCORED_BY_PROPERTY = 'modelgate.scored_by';
export const SCORED_BY_VALUE = 'modelgate';
