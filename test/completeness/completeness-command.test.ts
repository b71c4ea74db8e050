import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';

import { CatalogWriter, type CatalogRow } from '../../src/catalog/index.js';
import { EXIT_CODES } from '../../src/errors.js';
import { TARGET_COLUMNS, writeTruth } from '../../src/sim/truth.js';
import { makeRows, METADATA, tempDir } from '../catalog/fixtures.js';
import { runCli } from '../helpers/cli.js';

const { dir, remove } = tempDir('completeness-cli');
afterAll(remove);

const catalog = path.join(dir, 'run.arrow');
const reference = path.join(dir, 'qso.csv');
const truth = path.join(dir, 'truth.arrow');

/** Four sources 10" apart on the equator; 1 and 3 are candidates, 2 has no score. */
const SOURCES = [
  { object_id: 11n, ra: 150, is_candidate: false, agn_z: 0.5, f_ps: 0.01 },
  { object_id: 12n, ra: 150 + 10 / 3600, is_candidate: true, agn_z: 8, f_ps: 0.3 },
  { object_id: 13n, ra: 150 + 20 / 3600, is_candidate: false, agn_z: null, f_ps: null },
  { object_id: 14n, ra: 150 + 30 / 3600, is_candidate: true, agn_z: 6, f_ps: 0.7 },
];

beforeAll(async () => {
  const writer = await CatalogWriter.create(catalog, METADATA, { batchRows: 3 });
  makeRows(SOURCES.length, 5).forEach((row, i) => writer.append({ ...row, ...SOURCES[i]!, combined_z: null, dec: 0, flags: 0 } as CatalogRow));
  await writer.close();
  // Matches 12 (recovered), 11 (not a candidate), and nothing.
  writeFileSync(reference, `RA,Dec,mag\n${150 + 10.3 / 3600},0,20.5\n150,${0.2 / 3600},21.5\n151,0,22.5\n`);
  await writeTruth(
    truth,
    TARGET_COLUMNS,
    [
      { index: 0, object_id: 11, class: 'galaxy', f_ps: 0, mag_total: 21 },
      { index: 1, object_id: 12, class: 'agn', f_ps: 0.2, mag_total: 21.5 },
      { index: 2, object_id: 13, class: 'agn', f_ps: 0.2, mag_total: 22.5 },
      { index: 3, object_id: 14, class: 'qso', f_ps: 0.8, mag_total: 20.5 },
    ],
    {},
  );
});

describe('vis-agn completeness', () => {
  test('against a reference: prints the Markdown report and writes the JSON with --out', async () => {
    const out = path.join(dir, 'reference.json');
    const result = await runCli(['completeness', '--catalog', catalog, '--reference', reference, '--out', out]);
    expect(result).toMatchObject({ code: EXIT_CODES.ok, stderr: '' });
    expect(result.stdout).toContain('3 references, match radius 0.5": 2 matched');
    expect(result.stdout).toContain('| all | 1/3 = 33.3% [');
    const report = JSON.parse(readFileSync(out, 'utf8'));
    expect(report.totals).toMatchObject({ references: 3, matched: 2, recovered: 1 });
    expect(report.sources.map((s: { objectId: string | null }) => s.objectId)).toEqual(['12', '11', null]);
    expect(report.magBins.column).toBe('mag');
    expect(report.catalogue).toMatchObject({ rows: 4, candidates: 2 });
  });

  test('--match-radius and named columns are passed through', async () => {
    writeFileSync(path.join(dir, 'named.csv'), `alpha,delta\n${150 + 20 / 3600},${2 / 3600}\n`);
    const args = ['completeness', '--catalog', catalog, '--reference', path.join(dir, 'named.csv'), '--ra-col', 'alpha', '--dec-col', 'delta'];
    expect((await runCli(args)).stdout).toContain('0 matched');
    expect((await runCli([...args, '--match-radius', '2.5'])).stdout).toContain('1 matched');
  });

  test('against simulation truth: joins by object_id, with the FPR and bins asked for', async () => {
    const out = path.join(dir, 'truth.json');
    const result = await runCli(['completeness', '--catalog', catalog, '--truth', truth, '--fpr', '0.01,0.5', '--fps-bins', 'exact', '--confidence', '95', '--out', out]);
    expect(result).toMatchObject({ code: EXIT_CODES.ok, stderr: '' });
    expect(result.stdout).toContain('4 objects joined by object_id');
    expect(result.stdout).toContain('Intervals: Wilson 95%');
    const report = JSON.parse(readFileSync(out, 'utf8'));
    expect(report.confidence).toBe(0.95);
    expect(report.thresholds.map((t: { fpr: number }) => t.fpr)).toEqual([0.01, 0.5]);
    expect(report.fpsBins.bins.map((bin: { lo: number; n: number; completeness: { successes: number } }) => [bin.lo, bin.n, bin.completeness.successes])).toEqual([
      [0.2, 2, 1],
      [0.8, 1, 1],
    ]);
    expect(report.objects).toMatchObject({ joined: 4, nullScores: 1 });
  });

  test('--plot draws the completeness curves as SVG and PNG, and neither they nor --out are replaced without --overwrite', async () => {
    const base = path.join(dir, 'curves');
    const out = path.join(dir, 'curves.json');
    const args = ['completeness', '--catalog', catalog, '--truth', truth, '--fps-bins', 'exact', '--out', out, '--plot', base];
    const result = await runCli(args);
    expect(result).toMatchObject({ code: EXIT_CODES.ok, stderr: '' });
    const files = ['fps', 'mag'].flatMap((name) => [`${base}-${name}.svg`, `${base}-${name}.png`]);
    for (const file of files) expect(existsSync(file)).toBe(true);
    expect(readFileSync(`${base}-fps.svg`, 'utf8')).toContain('>completeness against true f_PS<');
    expect(readFileSync(`${base}-fps.png`).subarray(1, 4).toString()).toBe('PNG');
    const again = await runCli(args);
    expect(again.code).toBe(EXIT_CODES.outputFailed);
    expect(again.stderr).toContain(`${out}: already exists; give --overwrite to replace it`);
    writeFileSync(out, 'kept');
    expect((await runCli(args.filter((a) => a !== '--out' && a !== out))).stderr).toContain(`${base}-fps.svg: already exists`);
    expect(readFileSync(out, 'utf8')).toBe('kept');
    expect((await runCli([...args, '--overwrite'])).code).toBe(EXIT_CODES.ok);
    expect(readFileSync(out, 'utf8')).not.toBe('kept');
  });

  test.each([
    ['both a reference and a truth', ['--reference', reference, '--truth', truth], EXIT_CODES.usage],
    ['neither', [], EXIT_CODES.usage],
    ['a bad false-positive rate', ['--truth', truth, '--fpr', '2'], EXIT_CODES.usage],
    ['a bad confidence', ['--truth', truth, '--confidence', '90'], EXIT_CODES.usage],
    ['a bad radius', ['--reference', reference, '--match-radius', 'wide'], EXIT_CODES.usage],
    ['an output that is the catalogue', ['--reference', reference, '--out', catalog], EXIT_CODES.usage],
    ['a missing reference', ['--reference', path.join(dir, 'none.csv')], EXIT_CODES.inputNotFound],
    ['a reference whose positions are missing', ['--reference', truth], EXIT_CODES.invalidInput],
    ['an HDU for a CSV reference', ['--reference', reference, '--hdu', '1'], EXIT_CODES.usage],
  ])('exits with the taxonomy code for %s', async (_what, args, code) => {
    const result = await runCli(['completeness', '--catalog', catalog, ...args]);
    expect(result.code).toBe(code);
  });

  test('a truth table that shares no object_id with the catalogue is an input error, and no JSON appears', async () => {
    const other = path.join(dir, 'other.csv');
    writeFileSync(other, 'object_id,class,f_ps,mag\n99,agn,0.3,21\n');
    const out = path.join(dir, 'never.json');
    const result = await runCli(['completeness', '--catalog', catalog, '--truth', other, '--out', out]);
    expect(result.code).toBe(EXIT_CODES.invalidInput);
    expect(result.stderr).toContain('no catalogue object_id appears in the truth table');
    expect(existsSync(out)).toBe(false);
  });
});
