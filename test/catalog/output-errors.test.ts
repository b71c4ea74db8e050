import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { EXIT_CODES, InvalidInputError, OutputError } from '../../src/errors.js';
import { batchFromRows, CatalogWriter, EXPORT_FORMATS, exportCatalog, writeCatalog, type CatalogSource, type ExportFormatName } from '../../src/catalog/index.js';
import { listing, makeRows, METADATA, tempDir } from './fixtures.js';

const { dir, remove } = tempDir('output-errors');
afterAll(remove);

const rows = makeRows(30, 13);
const catalog = path.join(dir, 'run.arrow');
const FORMATS = Object.keys(EXPORT_FORMATS) as ExportFormatName[];

beforeAll(async () => {
  await writeCatalog(catalog, METADATA, rows);
});

/** A fresh directory holding one subdirectory where the output file should have gone. */
function blockedTarget(name: string): { parent: string; target: string } {
  const parent = path.join(dir, name);
  mkdirSync(path.join(parent, 'out'), { recursive: true });
  return { parent, target: path.join(parent, 'out') };
}

async function expectOutputError(promise: Promise<unknown>, target: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OutputError);
  expect((error as OutputError).exitCode).toBe(EXIT_CODES.outputFailed);
  expect((error as OutputError).location.file).toBe(target);
}

describe.each(FORMATS)('%s export to an unwritable place', (format) => {
  it('gives OutputError when the directory does not exist', async () => {
    const target = path.join(dir, 'missing', `run.${format}`);
    await expectOutputError(exportCatalog(catalog, format, target), target);
  });

  it('gives OutputError and leaves nothing behind when the target cannot be replaced', async () => {
    const { parent, target } = blockedTarget(`blocked-${format}`);
    await expectOutputError(exportCatalog(catalog, format, target), target);
    expect(listing(parent)).toEqual(['out']);
    expect(listing(target)).toEqual([]);
  });

  it('leaves nothing behind when the catalogue turns out unreadable half way', async () => {
    const parent = path.join(dir, `broken-source-${format}`);
    mkdirSync(parent);
    const source: CatalogSource = {
      metadata: METADATA,
      batches: (async function* () {
        yield batchFromRows(rows.slice(0, 10));
        throw new InvalidInputError('record batch 2 is truncated', { file: catalog });
      })(),
    };
    await expect(EXPORT_FORMATS[format].write(path.join(parent, `run.${format}`), source)).rejects.toThrow(InvalidInputError);
    expect(listing(parent)).toEqual([]);
  });
});

describe('Arrow catalogue to an unwritable place', () => {
  it('gives OutputError when the directory does not exist', async () => {
    const target = path.join(dir, 'missing', 'run.arrow');
    await expectOutputError(CatalogWriter.create(target, METADATA), target);
  });

  it('gives OutputError at close and leaves nothing behind when the target cannot be replaced', async () => {
    const { parent, target } = blockedTarget('blocked-arrow');
    const writer = await CatalogWriter.create(target, METADATA, { batchRows: 7 });
    for (const row of rows) writer.append(row);
    await expectOutputError(writer.close(), target);
    expect(listing(parent)).toEqual(['out']);
  });

  it('gives OutputError from writeCatalog and leaves nothing behind when the rename fails', async () => {
    const { parent, target } = blockedTarget('blocked-write-catalog');
    await expectOutputError(writeCatalog(target, METADATA, rows), target);
    expect(listing(parent)).toEqual(['out']);
  });

  it('gives OutputError when a file stands where the directory should be', async () => {
    const notDir = path.join(dir, 'plain-file');
    writeFileSync(notDir, 'x');
    const target = path.join(notDir, 'run.arrow');
    await expectOutputError(writeCatalog(target, METADATA, rows), target);
  });
});
