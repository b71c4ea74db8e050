import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';


import { asyncBufferFromFile, parquetMetadataAsync } from 'hyparquet';

import { EXIT_CODES } from '../../src/errors.js';
import { runCli } from '../helpers/cli.js';
import { readCatalog, writeCatalog } from '../../src/catalog/index.js';
import { defaultExportPath } from '../../src/catalog/formats.js';
import { makeRows, METADATA, tempDir } from './fixtures.js';

const { dir, remove } = tempDir('export-cli');
afterAll(remove);

const rows = makeRows(40, 17);
const catalog = path.join(dir, 'run.arrow');

beforeAll(async () => {
  await writeCatalog(catalog, METADATA, rows);
});


describe('vis-agn export', () => {
  it('writes next to the catalogue by default and says how many rows', async () => {
    const result = await runCli(['export', catalog, '--format', 'parquet']);
    expect(result).toMatchObject({ code: EXIT_CODES.ok, stderr: '' });
    expect(result.stdout).toBe(`wrote ${rows.length} rows to ${path.join(dir, 'run.parquet')}\n`);
    expect(existsSync(path.join(dir, 'run.parquet'))).toBe(true);
  });

  it('keeps only candidates with --candidates-only, to --out', async () => {
    const out = path.join(dir, 'chosen.csv');
    const candidates = rows.filter((row) => row.is_candidate).length;
    const result = await runCli(['export', catalog, '--format', 'csv', '--candidates-only', '--out', out]);
    expect(result).toMatchObject({ code: EXIT_CODES.ok, stdout: `wrote ${candidates} rows to ${out}\n` });
  });

  it('counts regions for ds9', async () => {
    const result = await runCli(['export', catalog, '--format', 'ds9']);
    expect(result.stdout).toBe(`wrote ${rows.filter((row) => row.is_candidate).length} regions to ${path.join(dir, 'run.reg')}\n`);
  });

  it('leaves an existing output alone, naming it, unless given --overwrite', async () => {
    const out = path.join(dir, 'kept.csv');
    writeFileSync(out, 'mine\n');
    const refused = await runCli(['export', catalog, '--format', 'csv', '--out', out]);
    expect(refused).toMatchObject({ code: EXIT_CODES.outputFailed, stdout: '', stderr: `error: ${out}: already exists; give --overwrite to replace it\n` });
    expect(readFileSync(out, 'utf8')).toBe('mine\n');
    expect((await runCli(['export', catalog, '--format', 'csv', '--out', out, '--overwrite'])).code).toBe(EXIT_CODES.ok);
    expect(readFileSync(out, 'utf8')).not.toBe('mine\n');
  });

  it('offers the Euclid MER column names with --column-names mer', async () => {
    const out = path.join(dir, 'mer.csv');
    expect((await runCli(['export', catalog, '--format', 'csv', '--column-names', 'mer', '--out', out])).code).toBe(EXIT_CODES.ok);
    const header = readFileSync(out, 'utf8').split('\r\n')[0]!.split(',');
    expect(header.slice(0, 5)).toEqual(['object_id', 'source_file', 'hdu', 'right_ascension', 'declination']);
    const parquet = path.join(dir, 'mer.parquet');
    expect((await runCli(['export', catalog, '--format', 'parquet', '--column-names', 'mer', '--out', parquet])).code).toBe(EXIT_CODES.ok);
    const names = (await parquetMetadataAsync(await asyncBufferFromFile(parquet))).schema.slice(1, 6).map((e) => e.name);
    expect(names).toEqual(['object_id', 'source_file', 'hdu', 'right_ascension', 'declination']);
  });

  it('names default outputs after the catalogue and the format', () => {
    expect(defaultExportPath('a/run.arrow', 'fits', false)).toBe('a/run.fits');
    expect(defaultExportPath('a/run.arrow', 'parquet', true)).toBe('a/run.candidates.parquet');
    expect(defaultExportPath('a/run.ARROW', 'ds9', true)).toBe('a/run.reg');
    expect(defaultExportPath('a/run', 'csv', false)).toBe('a/run.csv');
  });

  it.each([
    ['an unknown format', ['--format', 'votable'], EXIT_CODES.usage],
    ['no format', [], EXIT_CODES.usage],
    ['an output that is the input', ['--format', 'csv', '--out', catalog], EXIT_CODES.usage],
    ['an output in a missing directory', ['--format', 'csv', '--out', path.join(dir, 'no', 'x.csv')], EXIT_CODES.outputFailed],
  ])('exits with the taxonomy code for %s', async (_what, args, code) => {
    expect((await runCli(['export', catalog, ...args])).code).toBe(code);
  });

  it('exits 3 for a missing catalogue and 4 for a file that is not one', async () => {
    expect((await runCli(['export', path.join(dir, 'none.arrow'), '--format', 'csv'])).code).toBe(EXIT_CODES.inputNotFound);
    const text = path.join(dir, 'text.arrow');
    writeFileSync(text, 'not arrow');
    const result = await runCli(['export', text, '--format', 'csv']);
    expect(result.code).toBe(EXIT_CODES.invalidInput);
    expect(result.stderr).toMatch(new RegExp(`^error: ${text}: not an Arrow IPC file`));
    expect((await readCatalog(catalog)).rows).toHaveLength(rows.length);
  });
});
