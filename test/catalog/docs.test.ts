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

describe('the options docs/catalogue.md names', () => {
  // Inline code and fenced lines that write an option: `vis-agn export` unless they name another
  // command first (`merge --out C.arrow`). A renamed option otherwise lives on in the page.
  const doc = readFileSync(docPath, 'utf8');
  const fenced = /```[a-z]*\n([\s\S]*?)```/g;
  const spans = [...[...doc.matchAll(fenced)].flatMap((m) => m[1]!.split('\n')), ...[...doc.replace(fenced, '').matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!)];
  const uses = spans.flatMap((span) => {
    const command = /^(?:vis-agn\s+)?([a-z][a-z-]*)\s/.exec(span.trim())?.[1];
    return [...span.matchAll(/(?<![\w-])--[a-z][a-z0-9-]*/g)].map((option) => ({ span, command, option: option[0] }));
  });

  test('are options of the command they belong to', async () => {
    const { buildProgram } = await import('../../src/cli/index.js');
    const commands = buildProgram().commands;
    expect(uses.length).toBeGreaterThan(5);
    const unknown = uses.filter(({ command, option }) => {
      const owner = commands.find((c) => c.name() === command) ?? commands.find((c) => c.name() === 'export')!;
      return !owner.options.some((o) => o.long === option);
    });
    expect(unknown).toEqual([]);
  });
});
