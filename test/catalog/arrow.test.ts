import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { Field, Int64, RecordBatch, Schema, Table, tableFromIPC, tableToIPC, vectorFromArray } from 'apache-arrow';

import { InputNotFoundError, InvalidInputError, OutputError } from '../../src/errors.js';
import { CatalogWriter, COLUMNS, openCatalog, readCatalog, writeCatalog, type CatalogRow, type RunMetadata } from '../../src/catalog/index.js';
import { listing, makeRows, METADATA, tempDir } from './fixtures.js';

const { dir, remove } = tempDir('arrow');
afterAll(remove);

describe('Arrow IPC catalogue', () => {
  const rows = makeRows(53);
  const file = path.join(dir, 'run.arrow');

  beforeAll(async () => {
    // A batch size that does not divide the row count exercises several batches and a short last one.
    expect(await writeCatalog(file, METADATA, rows, { batchRows: 10 })).toBe(rows.length);
  });

  it('reads back every row and the run metadata unchanged', async () => {
    const catalog = await readCatalog(file);
    expect(catalog.metadata).toEqual(METADATA);
    expect(catalog.rows).toHaveLength(rows.length);
    catalog.rows.forEach((row, i) => expect(row).toEqual(rows[i]));
    expect(Object.is(catalog.rows[0]!.recon_error, -0)).toBe(true);
  });

  it('is a plain Arrow IPC file: types, field metadata and schema metadata as any Arrow reader sees them', () => {
    const table = tableFromIPC(readFileSync(file));
    expect(table.numRows).toBe(rows.length);
    expect(table.batches.length).toBe(Math.ceil(rows.length / 10));
    expect(table.schema.fields.map((f) => f.name)).toEqual(COLUMNS.map((c) => c.name));
    for (const column of COLUMNS) {
      const field = table.schema.fields.find((f) => f.name === column.name)!;
      expect(field.nullable).toBe(column.nullable);
      expect(field.metadata.get('ucd')).toBe(column.ucd);
      expect(field.metadata.get('description')).toBe(column.description);
      expect(field.metadata.get('unit')).toBe('unit' in column ? column.unit : undefined);
    }
    const types = Object.fromEntries(table.schema.fields.map((f) => [f.name, String(f.type)]));
    expect(types).toMatchObject({ object_id: 'Int64', flags: 'Uint32', is_candidate: 'Bool', n_samples: 'Int32', ra: 'Float64', candidate_class: 'Dictionary<Int8, Utf8>' });
    expect(table.schema.metadata.get('vis_agn.catalog_schema')).toBe('vis-agn/catalog/2');
    expect(JSON.parse(table.schema.metadata.get('vis_agn.config')!)).toEqual(METADATA.config);
    expect(table.getChild('flags')!.get(2)).toBe(0xffffffff);
    expect(table.getChild('object_id')!.get(0)).toBe(-(2n ** 63n));
    expect(table.getChild('candidate_class')!.get(5)).toBe(rows[5]!.candidate_class);
  });

  it('writes a catalogue without rows that reads back empty with its metadata', async () => {
    const empty = path.join(dir, 'empty.arrow');
    expect(await writeCatalog(empty, METADATA, [])).toBe(0);
    const catalog = await readCatalog(empty);
    expect(catalog.rows).toEqual([]);
    expect(catalog.metadata).toEqual(METADATA);
  });

  it('refuses an invalid row, naming the column, and keeps writing', async () => {
    const target = path.join(dir, 'refused.arrow');
    const writer = await CatalogWriter.create(target, METADATA);
    const good = rows[10]!;
    const bad: [Partial<Record<keyof CatalogRow, unknown>>, RegExp][] = [
      [{ ra: NaN }, /column ra is NaN; a missing value is null/],
      [{ flags: -1 }, /column flags is -1, outside the uint32 range/],
      [{ object_id: 5 }, /column object_id is a number, not a bigint/],
      [{ candidate_class: 'star' }, /column candidate_class is "star", not one of agn, qso, point_like, none/],
      [{ hdu: null }, /column hdu is null, but the column is not nullable/],
      [{ n_samples: 1.5 }, /column n_samples is 1.5, not an integer/],
    ];
    for (const [change, message] of bad) {
      expect(() => writer.append({ ...good, ...change } as CatalogRow)).toThrow(message);
      expect(() => writer.append({ ...good, ...change } as CatalogRow)).toThrow(OutputError);
    }
    const { recon_error: _dropped, ...missing } = good;
    expect(() => writer.append(missing as CatalogRow)).toThrow(/column recon_error is missing/);
    writer.append(good);
    expect(await writer.close()).toBe(1);
    expect((await readCatalog(target)).rows).toEqual([good]);
  });

  it('refuses invalid run metadata before creating any file', async () => {
    const sub = path.join(dir, 'metadata');
    mkdirSync(sub);
    const cases: Partial<RunMetadata>[] = [{ modelCardSha256: 'abc' }, { seed: 1.5 }, { createdAt: '2025-03-18 12:00' }, { modelName: '' }];
    for (const change of cases) {
      await expect(CatalogWriter.create(path.join(sub, 'x.arrow'), { ...METADATA, ...change })).rejects.toThrow(OutputError);
    }
    expect(listing(sub)).toEqual([]);
  });

  it('leaves nothing behind when abandoned', async () => {
    const sub = path.join(dir, 'aborted');
    mkdirSync(sub);
    const writer = await CatalogWriter.create(path.join(sub, 'run.arrow'), METADATA, { batchRows: 4 });
    for (const row of rows.slice(0, 9)) writer.append(row);
    await writer.abort();
    expect(listing(sub)).toEqual([]);
    expect(() => writer.append(rows[0]!)).toThrow(OutputError);
  });
});

describe('reading what is not a catalogue', () => {
  it('gives InputNotFoundError for a missing file', async () => {
    await expect(openCatalog(path.join(dir, 'nope.arrow'))).rejects.toThrow(InputNotFoundError);
  });

  it('gives InvalidInputError for a file that is not Arrow', async () => {
    const text = path.join(dir, 'text.arrow');
    writeFileSync(text, 'object_id,ra\n1,2\n');
    await expect(openCatalog(text)).rejects.toThrow(InvalidInputError);
  });

  it('gives InvalidInputError for an Arrow file of another layout, naming what is wrong', async () => {
    const foreign = path.join(dir, 'foreign.arrow');
    writeFileSync(foreign, tableToIPC(new Table({ object_id: vectorFromArray([1n], new Int64()) }), 'file'));
    await expect(openCatalog(foreign)).rejects.toThrow(/no column source_file/);

    const noMetadata = path.join(dir, 'no-metadata.arrow');
    const { schema, batches } = tableFromIPC(readFileSync(path.join(dir, 'run.arrow')));
    const stripped = new Schema(schema.fields as Field[], new Map());
    writeFileSync(noMetadata, tableToIPC(new Table(stripped, batches.map((b) => new RecordBatch(stripped, b.data))), 'file'));
    await expect(openCatalog(noMetadata)).rejects.toThrow(/not a vis-agn catalogue of layout vis-agn\/catalog\/2/);
  });
});
