import { readFileSync } from 'node:fs';
import path from 'node:path';

import { RecordBatchReader } from 'apache-arrow';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';

import { COLUMNS, exportCatalog, openCatalog, writeCatalog, type CatalogRow } from '../../src/catalog/index.js';
import { COLUMNS_KEY, writeParquetCatalog } from '../../src/catalog/parquet.js';
import { describeIf } from '../helpers/shared.js';
import { hasDuckDb, noDuckDbReason, openDuckDb, sqlPath, type DuckDb } from './duckdb.js';
import { makeRows, METADATA, tempDir } from './fixtures.js';

const { dir, remove } = tempDir('parquet');
afterAll(remove);

const rows = makeRows(60, 7);
const small = path.join(dir, 'small.parquet');
const manyRows = 5000;
const rowGroupRows = 1000;
const batchRows = 256;
const large = path.join(dir, 'large.parquet');
let largeRows: CatalogRow[];

function arrayBuffer(file: string): ArrayBuffer {
  const bytes = readFileSync(file);
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

function keyValues(file: string): Map<string, string> {
  return new Map(parquetMetadata(arrayBuffer(file)).key_value_metadata!.map(({ key, value }) => [key, value ?? '']));
}

beforeAll(async () => {
  await writeCatalog(path.join(dir, 'small.arrow'), METADATA, rows, { batchRows: 16 });
  expect(await exportCatalog(path.join(dir, 'small.arrow'), 'parquet', small)).toBe(rows.length);
  largeRows = makeRows(manyRows, 8);
  await writeCatalog(path.join(dir, 'large.arrow'), METADATA, largeRows, { batchRows });
  expect(await writeParquetCatalog(large, await openCatalog(path.join(dir, 'large.arrow')), { rowGroupRows })).toBe(manyRows);
});

describe('Parquet export read back with hyparquet', () => {
  it('holds every row unchanged', async () => {
    const read = await parquetReadObjects({ file: arrayBuffer(small) });
    expect(read).toHaveLength(rows.length);
    read.forEach((row, i) => expect(row).toEqual(rows[i]));
  });

  it('keeps column types and nullability in the Parquet schema', () => {
    const schema = parquetMetadata(arrayBuffer(small)).schema.slice(1);
    expect(schema.map((element) => element.name)).toEqual(COLUMNS.map((c) => c.name));
    const byName = Object.fromEntries(schema.map((element) => [element.name, element]));
    expect(byName.object_id).toMatchObject({ type: 'INT64', repetition_type: 'REQUIRED' });
    expect(byName.flags).toMatchObject({ type: 'INT32', converted_type: 'UINT_32', repetition_type: 'REQUIRED' });
    expect(byName.ra).toMatchObject({ type: 'DOUBLE', repetition_type: 'OPTIONAL' });
    expect(byName.candidate_class).toMatchObject({ type: 'BYTE_ARRAY', converted_type: 'UTF8' });
  });

  it('carries the run metadata, the column descriptions and the Arrow schema as key-value metadata', async () => {
    const kv = keyValues(small);
    expect(kv.get('vis_agn.catalog_schema')).toBe('vis-agn/catalog/1');
    expect(kv.get('vis_agn.model_card_sha256')).toBe(METADATA.modelCardSha256);
    expect(JSON.parse(kv.get('vis_agn.inputs')!)).toEqual(METADATA.inputs);
    expect(JSON.parse(kv.get(COLUMNS_KEY)!)).toEqual(COLUMNS.map((c) => ({ name: c.name, unit: 'unit' in c ? c.unit : null, ucd: c.ucd, description: c.description })));

    // ARROW:schema is one IPC schema message; with an end-of-stream marker it is a stream an Arrow reader opens.
    const message = Buffer.from(kv.get('ARROW:schema')!, 'base64');
    const reader = await RecordBatchReader.from(Buffer.concat([message, Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])])).open();
    expect(reader.schema.fields.map((f) => f.name)).toEqual(COLUMNS.map((c) => c.name));
    const ra = reader.schema.fields.find((f) => f.name === 'ra')!;
    expect(Object.fromEntries(ra.metadata)).toEqual({ unit: 'deg', ucd: 'pos.eq.ra;meta.main', description: COLUMNS.find((c) => c.name === 'ra')!.description });
    expect(reader.schema.metadata.get('vis_agn.seed')).toBe(String(METADATA.seed));
  });

  it('groups whole record batches into row groups of at least rowGroupRows and keeps every row', async () => {
    const sizes = parquetMetadata(arrayBuffer(large)).row_groups.map((group) => Number(group.num_rows));
    const perGroup = Math.ceil(rowGroupRows / batchRows) * batchRows;
    expect(sizes).toEqual([...Array(Math.floor(manyRows / perGroup)).fill(perGroup), manyRows % perGroup]);
    expect(sizes.length).toBeGreaterThan(2);
    const read = await parquetReadObjects({ file: arrayBuffer(large), columns: ['object_id', 'flags'] });
    expect(read.map((row) => row.object_id)).toEqual(largeRows.map((row) => row.object_id));
    expect(read.map((row) => row.flags)).toEqual(largeRows.map((row) => row.flags));
  });
});

describeIf(hasDuckDb, noDuckDbReason, 'Parquet export read by DuckDB', () => {
  let db: DuckDb;
  beforeAll(async () => {
    db = await openDuckDb();
  });
  afterAll(() => db.close());

  it('reads every row with the expected SQL types and values', async () => {
    const types = await db.query(`DESCRIBE SELECT * FROM read_parquet(${sqlPath(small)})`);
    expect(Object.fromEntries(types.map((t) => [t.column_name, t.column_type]))).toMatchObject({
      object_id: 'BIGINT',
      flags: 'UINTEGER',
      ra: 'DOUBLE',
      is_candidate: 'BOOLEAN',
      candidate_class: 'VARCHAR',
      n_samples: 'INTEGER',
    });
    const read = await db.query(`SELECT * FROM read_parquet(${sqlPath(small)})`);
    expect(read).toHaveLength(rows.length);
    read.forEach((row, i) => expect(row).toEqual(rows[i]));
  });

  it('filters on unsigned flags and on candidates across row groups', async () => {
    const [counts] = await db.query(
      `SELECT count(*)::INTEGER AS n, (count(*) FILTER (WHERE flags >= 2147483648))::INTEGER AS top_bit, (count(*) FILTER (WHERE is_candidate))::INTEGER AS candidates FROM read_parquet(${sqlPath(large)})`,
    );
    expect(counts).toEqual({
      n: manyRows,
      top_bit: largeRows.filter((row) => row.flags >= 2 ** 31).length,
      candidates: largeRows.filter((row) => row.is_candidate).length,
    });
  });

  it('shows the run metadata through parquet_kv_metadata()', async () => {
    const kv = await db.query(`SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata(${sqlPath(small)})`);
    const map = new Map(kv.map((entry) => [entry.key as string, entry.value as string]));
    expect(map.get('vis_agn.model_name')).toBe(METADATA.modelName);
    expect(JSON.parse(map.get('vis_agn.config')!)).toEqual(METADATA.config);
  });
});
