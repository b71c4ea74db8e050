import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { DataType, RecordBatchReader, type Schema } from 'apache-arrow';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';

import { COLUMNS, exportCatalog, openCatalog, writeCatalog, type CatalogRow, type ColumnSpec } from '../../src/catalog/index.js';
import { COLUMNS_KEY, writeParquetCatalog } from '../../src/catalog/parquet.js';
import { astropyPython, describeIf, hasAstropy } from '../helpers/shared.js';
import { hasDuckDb, noDuckDbReason, openDuckDb, sqlPath, type DuckDb } from './duckdb.js';
import { DIMENSIONAL_COLUMNS, makeRows, METADATA, tempDir } from './fixtures.js';

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

/** The Arrow schema in ARROW:schema: one IPC schema message, which with an end-of-stream marker is a stream an Arrow reader opens. */
async function storedArrowSchema(file: string): Promise<Schema> {
  const message = Buffer.from(keyValues(file).get('ARROW:schema')!, 'base64');
  return (await RecordBatchReader.from(Buffer.concat([message, Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])])).open()).schema;
}

/** astropy's own key names (astropy.io.misc.parquet), spelt out: the test checks the format, not our constants. */
const ASTROPY_YAML_KEY = 'table_meta_yaml';
const astropyLengthKey = (name: string) => `table::len::${name}`;

const STRING_COLUMNS = (COLUMNS as readonly ColumnSpec[]).filter((c) => c.kind === 'utf8' || c.kind === 'category');

/** The longest value of a string column in UTF-8 bytes: what astropy's table::len key should say. */
function longestUtf8(of: readonly CatalogRow[], name: string): number {
  return Math.max(0, ...of.map((row) => Buffer.byteLength(row[name as keyof CatalogRow] as string, 'utf8')));
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
    expect(kv.get('vis_agn.catalog_schema')).toBe('vis-agn/catalog/2');
    expect(kv.get('vis_agn.model_card_sha256')).toBe(METADATA.modelCardSha256);
    expect(JSON.parse(kv.get('vis_agn.inputs')!)).toEqual(METADATA.inputs);
    expect(JSON.parse(kv.get(COLUMNS_KEY)!)).toEqual(COLUMNS.map((c) => ({ name: c.name, unit: 'unit' in c ? c.unit : null, ucd: c.ucd, description: c.description })));

    const schema = await storedArrowSchema(small);
    expect(schema.fields.map((f) => f.name)).toEqual(COLUMNS.map((c) => c.name));
    const ra = schema.fields.find((f) => f.name === 'ra')!;
    expect(Object.fromEntries(ra.metadata)).toEqual({ unit: 'deg', ucd: 'pos.eq.ra;meta.main', description: COLUMNS.find((c) => c.name === 'ra')!.description });
    expect(schema.metadata.get('vis_agn.seed')).toBe(String(METADATA.seed));
  });

  it("carries astropy's keys, in the key-value metadata and in ARROW:schema's, where pyarrow hands astropy the file's metadata", async () => {
    for (const [file, written] of [
      [small, rows],
      [large, largeRows],
    ] as const) {
      const kv = keyValues(file);
      const lengths = Object.fromEntries(STRING_COLUMNS.map((c) => [astropyLengthKey(c.name), String(longestUtf8(written, c.name))]));
      expect(Object.fromEntries([...kv].filter(([key]) => key.startsWith('table::len::')))).toEqual(lengths);
      expect(kv.get(ASTROPY_YAML_KEY)).toMatch(/^datatype:\n- name: "object_id"\n/);
      const stored = (await storedArrowSchema(file)).metadata;
      for (const key of [ASTROPY_YAML_KEY, ...Object.keys(lengths)]) expect({ [key]: stored.get(key) }).toEqual({ [key]: kv.get(key) });
    }
    // The widest source_file is in the large file's first row group, not its last: the width spans row groups.
    expect(longestUtf8(largeRows.slice(-rowGroupRows), 'source_file')).toBeLessThan(longestUtf8(largeRows, 'source_file'));
  });

  it('counts a string width in UTF-8 bytes, not UTF-16 units or characters', async () => {
    const wide = makeRows(3, 2).map((row, i) => ({ ...row, source_file: i === 1 ? `tile-${'π'.repeat(20)}-😀.fits` : row.source_file }));
    await writeCatalog(path.join(dir, 'wide.arrow'), METADATA, wide);
    await exportCatalog(path.join(dir, 'wide.arrow'), 'parquet', path.join(dir, 'wide.parquet'));
    // 11 ASCII characters, 20 two-byte π and one four-byte emoji (two UTF-16 units).
    expect(keyValues(path.join(dir, 'wide.parquet')).get(astropyLengthKey('source_file'))).toBe(String(11 + 2 * 20 + 4));
  });

  it('declares candidate_class a plain string in ARROW:schema, as the Parquet column is (a dictionary stops astropy)', async () => {
    const field = (await storedArrowSchema(small)).fields.find((f) => f.name === 'candidate_class')!;
    expect(DataType.isUtf8(field.type)).toBe(true);
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

/**
 * What astropy's Parquet reader (astropy.io.misc.parquet.read_table_parquet, 5.2.1 and its later source) does with the
 * schema metadata pyarrow gives it, step for step, without pyarrow (not installable here): the header
 * through astropy's own get_header_from_yaml, string widths from table::len::NAME, then every column's
 * description, unit and meta set from the header. Reads {metadata, columns: [{name, numpy}]} on stdin.
 */
const ASTROPY_PARQUET_META = String.raw`
import sys, json, warnings
import numpy as np
from astropy.table import Table, meta
from astropy.units import UnrecognizedUnit
warnings.simplefilter('error')

given = json.load(sys.stdin)
md = dict(given['metadata'])
meta_hdr = meta.get_header_from_yaml(md.pop('table_meta_yaml').split('\n'))
meta_dict = meta_hdr.get('meta', {})
dtype = [(c['name'], c['numpy'] if c['numpy'] is not None else 'U%d' % int(md['table::len::' + c['name']])) for c in given['columns']]
table = Table(data=np.zeros(0, dtype=dtype), meta=meta_dict)
header_cols = {x['name']: x for x in meta_hdr['datatype']}
for col in table.columns.values():
    for attr in ('description', 'format', 'unit', 'meta'):
        if attr in header_cols[col.name]:
            setattr(col, attr, header_cols[col.name][attr])

def unit(c):
    if c.unit is None:
        return None
    return 'unrecognised: ' + str(c.unit) if isinstance(c.unit, UnrecognizedUnit) else c.unit.to_string('vounit')

cols = list(table.columns.values())
print(json.dumps({'names': [x['name'] for x in meta_hdr['datatype']],
                  'datatypes': {x['name']: x['datatype'] for x in meta_hdr['datatype']},
                  'units': {c.name: unit(c) for c in cols},
                  'descriptions': {c.name: c.description for c in cols},
                  'ucds': {c.name: (c.meta or {}).get('ucd') for c in cols},
                  'dtypes': {c.name: c.dtype.str for c in cols},
                  'meta': dict(table.meta)}))
`;

interface AstropyParquetMeta {
  names: string[];
  datatypes: Record<string, string>;
  units: Record<string, string | null>;
  descriptions: Record<string, string | null>;
  ucds: Record<string, string | null>;
  dtypes: Record<string, string>;
  meta: Record<string, string>;
}

/** The numpy dtype pyarrow's to_pandas_dtype gives astropy for each Arrow type; null for strings, whose width astropy looks up. */
const NUMPY_TYPES: Readonly<Record<string, string | null>> = { Int64: '<i8', Int32: '<i4', Uint32: '<u4', Float64: '<f8', Bool: '|b1', Utf8: null };

/** What astropy makes of the file's metadata, as pyarrow would hand it over (the schema in ARROW:schema). */
async function astropyParquetMeta(file: string): Promise<AstropyParquetMeta> {
  const schema = await storedArrowSchema(file);
  const columns = schema.fields.map((f) => {
    const numpy = NUMPY_TYPES[String(f.type)];
    if (numpy === undefined) throw new Error(`column ${f.name}: pyarrow would give astropy a ${String(f.type)}, which it cannot map to numpy`);
    return { name: f.name, numpy };
  });
  const input = JSON.stringify({ metadata: Object.fromEntries(schema.metadata), columns });
  return JSON.parse(execFileSync(astropyPython, ['-c', ASTROPY_PARQUET_META], { input, encoding: 'utf8' })) as AstropyParquetMeta;
}

describeIf(hasAstropy, `astropy not importable by ${astropyPython}`, "Parquet export's metadata read by astropy's YAML header parser", () => {
  let read: AstropyParquetMeta;
  beforeAll(async () => {
    read = await astropyParquetMeta(small);
  });

  it('gives every column its unit (every dimensional one has one), description and UCD', () => {
    expect(read.names).toEqual(COLUMNS.map((c) => c.name));
    expect(read.units).toEqual(Object.fromEntries(COLUMNS.map((c: ColumnSpec) => [c.name, c.unit ?? null])));
    expect(DIMENSIONAL_COLUMNS.filter((name) => read.units[name] === null)).toEqual([]);
    expect([read.units.ps_flux, read.units.noise_sigma]).toEqual(['adu', 'adu']);
    expect(read.descriptions).toEqual(Object.fromEntries(COLUMNS.map((c) => [c.name, c.description])));
    expect(read.ucds).toEqual(Object.fromEntries(COLUMNS.map((c) => [c.name, c.ucd])));
  });

  it('sizes every string column to its longest value and types the rest as the Parquet columns are', () => {
    for (const column of STRING_COLUMNS) expect({ [column.name]: read.dtypes[column.name] }).toEqual({ [column.name]: `<U${longestUtf8(rows, column.name)}` });
    expect(read.dtypes).toMatchObject({ object_id: '<i8', flags: '<u4', n_samples: '<i4', ra: '<f8', is_candidate: '|b1' });
    expect(read.datatypes).toMatchObject({ object_id: 'int64', flags: 'uint32', source_file: 'string', candidate_class: 'string', is_candidate: 'bool' });
  });

  it("puts the run metadata in the table's meta, non-ASCII text intact", () => {
    const kv = keyValues(small);
    expect(read.meta).toEqual(Object.fromEntries([...kv].filter(([key]) => key.startsWith('vis_agn.') && key !== COLUMNS_KEY)));
    expect(JSON.parse(read.meta['vis_agn.config']!)).toEqual(METADATA.config);
  });

  it("spells the position as the Euclid MER catalogue does under naming 'mer', units kept", async () => {
    const mer = path.join(dir, 'small-mer.parquet');
    await exportCatalog(path.join(dir, 'small.arrow'), 'parquet', mer, { naming: 'mer' });
    const merRead = await astropyParquetMeta(mer);
    expect(merRead.names.slice(3, 5)).toEqual(['right_ascension', 'declination']);
    expect([merRead.units.right_ascension, merRead.units.declination]).toEqual(['deg', 'deg']);
    expect(merRead.dtypes.source_file).toBe(read.dtypes.source_file);
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
