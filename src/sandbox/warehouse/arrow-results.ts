/**
 * DuckDB results → what a Databricks SQL warehouse sends the driver: a Hive table schema plus Arrow IPC
 * with native types (timestamps as microseconds in UTC, structs as structs, lists with `element`
 * children, maps as `entries{key,value}`), so the driver hands the bot `Date`s and nested objects
 * exactly as in production.
 *
 * The schema goes out once as a bare IPC schema message and each chunk of rows as a bare record-batch
 * message; the driver glues them back into one stream.
 */
import { createRequire } from 'node:module';
import type { TTableSchema } from '@databricks/sql/thrift/TCLIService_types.js';
import ttypes from '@databricks/sql/thrift/TCLIService_types.js';
import {
  type DuckDBArrayType,
  type DuckDBListType,
  type DuckDBMapType,
  type DuckDBStructType,
  type DuckDBType,
  DuckDBTypeId,
} from '@duckdb/node-api';
// apache-arrow 13's package "exports" carry no "types" condition, so TypeScript finds no types for it from
// an ES module: take them from its declaration file, and load the CommonJS build (the one the driver uses).
import type * as Arrow from '../../../node_modules/apache-arrow/Arrow.node.js';

type DataType = Arrow.DataType;
const {
  Binary,
  Bool,
  DateDay,
  Field,
  Float32,
  Float64,
  Int8,
  Int16,
  Int32,
  Int64,
  List,
  Map_,
  makeBuilder,
  makeData,
  RecordBatch,
  RecordBatchStreamWriter,
  Schema,
  Struct,
  TimestampMicrosecond,
  Utf8,
} = createRequire(import.meta.url)('apache-arrow') as typeof Arrow;

const { TTypeId } = ttypes;

interface ColumnPlan {
  arrow: DataType;
  hive: number;
  /** Turns DuckDB's JS value into what the Arrow builder for `arrow` accepts. */
  convert(value: unknown): unknown;
}

export interface ArrowResult {
  schema: TTableSchema;
  /** The bare IPC schema message (no end-of-stream marker). */
  arrowSchema: Buffer;
  rowCount: number;
  /** One bare IPC record-batch message holding rows [from, to). */
  batch(from: number, to: number): Buffer;
}

const identity = (v: unknown) => v;

function plan(type: DuckDBType): ColumnPlan {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return { arrow: new Bool(), hive: TTypeId.BOOLEAN_TYPE, convert: identity };
    case DuckDBTypeId.TINYINT:
      return { arrow: new Int8(), hive: TTypeId.TINYINT_TYPE, convert: identity };
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.UTINYINT:
      return { arrow: new Int16(), hive: TTypeId.SMALLINT_TYPE, convert: identity };
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.USMALLINT:
      return { arrow: new Int32(), hive: TTypeId.INT_TYPE, convert: identity };
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.UBIGINT:
    // Spark has no 128-bit integer; DuckDB's sum() returns HUGEINT where Spark returns BIGINT.
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.BIGNUM:
      return {
        arrow: new Int64(),
        hive: TTypeId.BIGINT_TYPE,
        convert: (v) => (v === null ? null : BigInt.asIntN(64, BigInt(v as bigint | number))),
      };
    case DuckDBTypeId.FLOAT:
      return { arrow: new Float32(), hive: TTypeId.FLOAT_TYPE, convert: identity };
    case DuckDBTypeId.DOUBLE:
    // Decimals become doubles, which is what the driver returns for DECIMAL by default anyway.
    case DuckDBTypeId.DECIMAL:
      return { arrow: new Float64(), hive: TTypeId.DOUBLE_TYPE, convert: identity };
    case DuckDBTypeId.DATE:
      return { arrow: new DateDay(), hive: TTypeId.DATE_TYPE, convert: toEpochMs };
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
    case DuckDBTypeId.TIMESTAMP_TZ:
      return { arrow: new TimestampMicrosecond('Etc/UTC'), hive: TTypeId.TIMESTAMP_TYPE, convert: toEpochMs };
    case DuckDBTypeId.BLOB:
      return { arrow: new Binary(), hive: TTypeId.BINARY_TYPE, convert: identity };
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY: {
      const element = plan((type as DuckDBListType | DuckDBArrayType).valueType);
      return {
        arrow: new List(new Field('element', element.arrow, true)),
        hive: TTypeId.ARRAY_TYPE,
        convert: (v) => (v === null ? null : (v as unknown[]).map(element.convert)),
      };
    }
    case DuckDBTypeId.STRUCT: {
      const struct = type as DuckDBStructType;
      const children = struct.entryTypes.map(plan);
      return {
        arrow: new Struct(struct.entryNames.map((name, i) => new Field(name, children[i]!.arrow, true))),
        hive: TTypeId.STRUCT_TYPE,
        convert: (v) => {
          if (v === null) return null;
          const obj = v as Record<string, unknown>;
          return Object.fromEntries(
            struct.entryNames.map((name, i) => [name, children[i]!.convert(obj[name] ?? null)]),
          );
        },
      };
    }
    case DuckDBTypeId.MAP: {
      const map = type as DuckDBMapType;
      const key = plan(map.keyType);
      const value = plan(map.valueType);
      const entries = new Struct([new Field('key', key.arrow, false), new Field('value', value.arrow, true)]);
      return {
        arrow: new Map_(new Field('entries', entries, false)),
        hive: TTypeId.MAP_TYPE,
        convert: (v) => {
          if (v === null) return null;
          const pairs = v as { key: unknown; value: unknown }[];
          return new Map(pairs.map((p) => [key.convert(p.key), value.convert(p.value)]));
        },
      };
    }
    default:
      // VARCHAR, ENUM, UUID, and types Spark would render as strings (TIME, INTERVAL, BIT, ...).
      return { arrow: new Utf8(), hive: TTypeId.STRING_TYPE, convert: toText };
  }
}

function toEpochMs(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  return v instanceof Date ? v.getTime() : Number(v);
}

function toText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  return typeof v === 'object'
    ? JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x))
    : String(v);
}

// Arrow's stream writer ends every stream with an 8-byte end-of-stream marker (0xFFFFFFFF, 0).
const EOS_BYTES = 8;

/**
 * Plans the Arrow encoding of one DuckDB result given as column-major JS values.
 *
 * @example const r = toArrowResult(['n'], [BIGINT], [[1n, 2n]]); r.batch(0, 2) // one record batch
 */
export function toArrowResult(
  names: readonly string[],
  types: readonly DuckDBType[],
  columns: unknown[][],
): ArrowResult {
  const plans = types.map(plan);
  // apache-arrow cannot serialise an empty struct column from data, so the schema is always built by hand.
  const schema = new Schema(names.map((name, i) => new Field(name, plans[i]!.arrow, true)));
  const schemaOnly = new RecordBatchStreamWriter();
  schemaOnly.reset(undefined, schema);
  schemaOnly.finish();
  const schemaBytes = schemaOnly.toUint8Array(true);
  const arrowSchema = schemaBytes.subarray(0, schemaBytes.length - EOS_BYTES);
  const rowCount = columns[0]?.length ?? 0;

  return {
    schema: {
      columns: names.map((columnName, i) => ({
        columnName,
        position: i + 1,
        typeDesc: { types: [{ primitiveEntry: { type: plans[i]!.hive } }] },
      })),
    } as unknown as TTableSchema,
    arrowSchema: Buffer.from(arrowSchema),
    rowCount,
    batch(from, to) {
      const length = to - from;
      const children = plans.map((p, i) => {
        const builder = makeBuilder({ type: p.arrow, nullValues: [null, undefined] });
        const values = columns[i]!;
        for (let r = from; r < to; r++) builder.append(p.convert(values[r] ?? null));
        return builder.finish().flush();
      });
      const data = makeData({ type: new Struct(schema.fields), length, nullCount: 0, children });
      const stream = RecordBatchStreamWriter.writeAll([new RecordBatch(schema, data)]).toUint8Array(true);
      // Keep only the record-batch message: drop the leading schema message and the trailing marker.
      return Buffer.from(stream.subarray(arrowSchema.length, stream.length - EOS_BYTES));
    },
  };
}
