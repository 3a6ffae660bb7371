/**
 * An example record from a serving endpoint's query schema (`GET …/serving-endpoints/{name}/openapi`,
 * an OpenAPI document generated from the model's MLflow input signature). Databricks documents the
 * route but not the document's inside, so this reads it loosely: the first `dataframe_records`
 * schema with object items gives the columns; an `example` on a column wins over a typed default.
 */

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** Finds the first object under `key` anywhere in the document (depth-first, bounded). */
function findKey(node: unknown, key: string, depth = 0): Record<string, unknown> | undefined {
  if (!isObject(node) || depth > 30) return undefined;
  const direct = node[key];
  if (isObject(direct)) return direct;
  for (const value of Object.values(node)) {
    const found = findKey(value, key, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** A value of the column's type, when the schema gives no example. */
function typedDefault(schema: Record<string, unknown>): unknown {
  if (schema.example !== undefined) return schema.example;
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0];
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  switch (type) {
    case 'integer':
      return 0;
    case 'number':
      return 0.0;
    case 'boolean':
      return false;
    case 'array':
      return [];
    case 'object':
      return {};
    default:
      return '';
  }
}

/**
 * @example exampleRecordOf({ paths: { '/x': { post: { requestBody: { content: { 'application/json': { schema:
 *   { properties: { dataframe_records: { items: { properties: { tenure: { type: 'integer', example: 12 } } } } } } } } } } } } })
 * // { tenure: 12 }
 */
export function exampleRecordOf(doc: unknown): Record<string, unknown> | undefined {
  const records = findKey(doc, 'dataframe_records');
  const items = records && isObject(records.items) ? records.items : undefined;
  const properties = items && isObject(items.properties) ? items.properties : undefined;
  if (!properties || Object.keys(properties).length === 0) return undefined;
  return Object.fromEntries(
    Object.entries(properties).map(([name, schema]) => [name, isObject(schema) ? typedDefault(schema) : '']),
  );
}

/** The route answers the document itself, or (as the API reference shows) `{ contents: "<document>" }`. */
export function openApiDocumentOf(body: unknown): unknown {
  if (isObject(body) && typeof body.contents === 'string') {
    try {
      return JSON.parse(body.contents);
    } catch {
      return undefined;
    }
  }
  return body;
}
