import { readFileSync } from 'node:fs';
import path from 'node:path';

import { COLUMNS, exportCatalog, writeCatalog, type CatalogRow, type ColumnKind } from '../../src/catalog/index.js';
import { describeIf } from '../helpers/shared.js';
import { hasDuckDb, noDuckDbReason, openDuckDb, sqlPath } from './duckdb.js';
import { makeRows, METADATA, tempDir } from './fixtures.js';

const { dir, remove } = tempDir('csv');
afterAll(remove);

const rows = makeRows(50, 5);
const file = path.join(dir, 'run.csv');

beforeAll(async () => {
  await writeCatalog(path.join(dir, 'run.arrow'), METADATA, rows, { batchRows: 9 });
  expect(await exportCatalog(path.join(dir, 'run.arrow'), 'csv', file)).toBe(rows.length);
});

interface Field {
  readonly text: string;
  readonly quoted: boolean;
}

/** A strict RFC 4180 reader: CRLF records, quoted fields with doubled quotes; throws on anything else. */
function parseCsv(text: string): Field[][] {
  const records: Field[][] = [];
  let record: Field[] = [];
  let at = 0;
  while (at < text.length) {
    let field: Field;
    if (text[at] === '"') {
      let value = '';
      at++;
      for (;;) {
        const quote = text.indexOf('"', at);
        if (quote < 0) throw new Error('unterminated quoted field');
        value += text.slice(at, quote);
        if (text[quote + 1] === '"') {
          value += '"';
          at = quote + 2;
        } else {
          at = quote + 1;
          break;
        }
      }
      field = { text: value, quoted: true };
    } else {
      const end = text.slice(at).search(/,|\r\n/);
      const stop = end < 0 ? text.length : at + end;
      field = { text: text.slice(at, stop), quoted: false };
      if (/["\r\n]/.test(field.text)) throw new Error(`unquoted field with a quote or line break: ${JSON.stringify(field.text)}`);
      at = stop;
    }
    record.push(field);
    if (text.startsWith(',', at)) at++;
    else if (text.startsWith('\r\n', at)) {
      records.push(record);
      record = [];
      at += 2;
    } else throw new Error(`expected , or CRLF at ${at}`);
  }
  if (record.length > 0) throw new Error('the last record has no CRLF');
  return records;
}

const DECODE: Record<ColumnKind, (text: string) => unknown> = {
  int64: BigInt,
  int32: Number,
  uint32: Number,
  float64: Number,
  bool: (text) => ({ true: true, false: false })[text] ?? `not a boolean: ${text}`,
  utf8: (text) => text,
  category: (text) => text,
};

describe('CSV export', () => {
  it('is RFC 4180 with one header row and parses back to every value, nulls as empty fields', () => {
    const [header, ...records] = parseCsv(readFileSync(file, 'utf8'));
    expect(header!.map((f) => f.text)).toEqual(COLUMNS.map((c) => c.name));
    expect(records).toHaveLength(rows.length);
    records.forEach((record, r) => {
      expect(record).toHaveLength(COLUMNS.length);
      const parsed = Object.fromEntries(
        COLUMNS.map((column, c) => {
          const { text, quoted } = record[c]!;
          return [column.name, text === '' && !quoted ? null : DECODE[column.kind](text)];
        }),
      );
      expect(parsed).toEqual(rows[r]);
    });
  });

  it('keeps an empty string apart from a missing value', () => {
    const empty = rows.findIndex((row) => row.source_file === '');
    expect(empty).toBeGreaterThanOrEqual(0);
    const records = parseCsv(readFileSync(file, 'utf8'));
    expect(records[empty + 1]![COLUMNS.findIndex((c) => c.name === 'source_file')]).toEqual({ text: '', quoted: true });
  });

  it('exports only the candidates with --candidates-only', async () => {
    const target = path.join(dir, 'candidates.csv');
    const candidates = rows.filter((row) => row.is_candidate);
    expect(await exportCatalog(path.join(dir, 'run.arrow'), 'csv', target, { candidatesOnly: true })).toBe(candidates.length);
    const ids = parseCsv(readFileSync(target, 'utf8')).slice(1).map((record) => BigInt(record[0]!.text));
    expect(ids).toEqual(candidates.map((row: CatalogRow) => row.object_id));
  });
});

describeIf(hasDuckDb, noDuckDbReason, 'CSV export read by DuckDB', () => {
  it('reads the same rows, quoted commas, quotes, line breaks and empty strings included', async () => {
    const db = await openDuckDb();
    try {
      const read = await db.query(`SELECT object_id, source_file, ra, flags, is_candidate FROM read_csv(${sqlPath(file)}, header = true, allow_quoted_nulls = false)`);
      expect(read).toEqual(
        rows.map((row) => ({ object_id: row.object_id, source_file: row.source_file, ra: row.ra, flags: BigInt(row.flags), is_candidate: row.is_candidate })),
      );
    } finally {
      db.close();
    }
  });
});
