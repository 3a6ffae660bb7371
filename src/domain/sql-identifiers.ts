/**
 * Table and column names the bot puts into SQL text. Parameters can only bind values, so a name from
 * configuration (a monitor's metric table, the model-id column) is validated and backtick-quoted here,
 * and anything that is not a plain identifier is refused before any query runs.
 */
import { WarehouseError } from './ports/warehouse.js';

declare const quotedBrand: unique symbol;
/** An identifier that passed validation and is backtick-quoted, safe to place in SQL text. */
export type QuotedIdentifier = string & { readonly [quotedBrand]: true };

// A part is letters, digits and underscores, or backtick-quoted text with no backtick, dot or control
// character inside (Unity Catalog names can hold hyphens and spaces; Spark quotes them with backticks).
const PLAIN = /^[A-Za-z0-9_]+$/;
const QUOTED = /^`([^`.\p{Cc}]+)`$/u;

function part(text: string, what: 'table name' | 'column name', whole: string): string {
  const quoted = QUOTED.exec(text);
  const name = quoted ? quoted[1]! : text;
  if (!(quoted || PLAIN.test(text)) || name.trim() === '') {
    throw new WarehouseError('invalid_identifier', { variant: 'part', name: whole, what });
  }
  return `\`${name}\``;
}

function splitParts(fullName: string): string[] {
  // Split on dots outside backticks; a backtick part cannot contain a dot, so this stays simple.
  return fullName.match(/`[^`]*`|[^.`]+|\./g)?.filter((t) => t !== '.') ?? [];
}

/**
 * Validates `catalog.schema.table` and returns it backtick-quoted.
 *
 * @example tableName('acme.mlops.churn_inference_drift_metrics') // '`acme`.`mlops`.`churn_inference_drift_metrics`'
 * @example tableName('acme.mlops.x; DROP TABLE y') // throws WarehouseError('invalid_identifier')
 */
export function tableName(fullName: string): QuotedIdentifier {
  const parts = splitParts(fullName);
  if (parts.length !== 3 || parts.join('.') !== fullName) {
    throw new WarehouseError('invalid_identifier', { variant: 'table', name: fullName, what: 'table name' });
  }
  return parts.map((p) => part(p, 'table name', fullName)).join('.') as QuotedIdentifier;
}

/**
 * Validates one identifier (a column such as the monitor's model-id column) and returns it backtick-quoted.
 *
 * @example columnName('model_version') // '`model_version`'
 */
export function columnName(name: string): QuotedIdentifier {
  return part(name, 'column name', name) as QuotedIdentifier;
}
