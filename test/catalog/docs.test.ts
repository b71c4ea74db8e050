/**
 * docs/catalogue.md's tables are generated from the schema, so the documentation cannot drift from the
 * code. When the schema changes, regenerate them with
 *
 *     UPDATE_CATALOGUE_DOC=1 npm test -- test/catalog/docs
 */

import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { COLUMNS, FLAGS, metadataEntries, SCHEMA_KEY, type ColumnSpec } from '../../src/catalog/index.js';
import { repoRoot } from '../helpers/shared.js';

const docPath = path.join(repoRoot, 'docs', 'catalogue.md');

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map((cell) => cell.replaceAll('|', '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

const code = (text: string) => `\`${text}\``;

const GENERATED: Record<string, () => string> = {
  columns: () =>
    table(
      ['column', 'type', 'null', 'unit', 'UCD', 'description'],
      (COLUMNS as readonly ColumnSpec[]).map((c) => [
        code(c.name),
        c.values === undefined ? c.kind : `${c.kind}: ${c.values.map(code).join(', ')}`,
        c.nullable ? 'yes' : 'no',
        c.unit === undefined ? '' : code(c.unit),
        code(c.ucd),
        c.description,
      ]),
    ),
  flags: () => table(['bit', 'value', 'name', 'meaning'], FLAGS.map((f) => [String(f.bit), String(2 ** f.bit), code(f.name), f.description])),
  metadata: () =>
    table(
      ['Arrow / Parquet key', 'FITS keyword', 'RunMetadata field', 'meaning'],
      [
        [code(SCHEMA_KEY.key), code(SCHEMA_KEY.fits), '', SCHEMA_KEY.description],
        ...metadataEntries().map(([field, m]) => [code(m.key), code(m.fits), code(field), m.description]),
      ],
    ),
};

function section(name: string): RegExp {
  return new RegExp(`(<!-- generated:${name} -->\\n)[\\s\\S]*?(\\n<!-- /generated:${name} -->)`);
}

describe('docs/catalogue.md', () => {
  let doc = readFileSync(docPath, 'utf8');

  if (process.env.UPDATE_CATALOGUE_DOC === '1') {
    for (const [name, generate] of Object.entries(GENERATED)) doc = doc.replace(section(name), (_all, open: string, close: string) => `${open}${generate()}${close}`);
    writeFileSync(docPath, doc);
  }

  it.each(Object.keys(GENERATED))('has the %s table the schema generates (UPDATE_CATALOGUE_DOC=1 rewrites it)', (name) => {
    const found = section(name).exec(doc);
    expect(found).not.toBeNull();
    const body = found![0].slice(found![1]!.length, -found![2]!.length);
    expect(body).toBe(GENERATED[name]!());
  });
});
