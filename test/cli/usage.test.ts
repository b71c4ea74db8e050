import { describe, expect, test } from '@jest/globals';

import { EXIT_CODES } from '../../src/errors.js';
import { runCli } from '../helpers/cli.js';

describe('command-line mistakes', () => {
  test('a mistyped option is one line naming the nearest valid option, not the help', async () => {
    const result = await runCli(['run', '--out', 'nowhere', '--tile', 'tile.fits', '--catlog', 'cat.fits']);
    expect(result).toEqual({ code: EXIT_CODES.usage, stdout: '', stderr: "error: unknown option '--catlog' (did you mean --catalog?)\n" });
  });

  test('a mistyped option is named before a required option it leaves missing', async () => {
    // Commander checks required options first: `--formt` would read "required option '--format' not
    // specified", and `--fsp` without `--out` would hide the typo behind the missing `--out`.
    expect(await runCli(['export', 'catalog.arrow', '--formt', 'fits'])).toEqual({
      code: EXIT_CODES.usage,
      stdout: '',
      stderr: "error: unknown option '--formt' (did you mean --format?)\n",
    });
    expect(await runCli(['inject', 'cutouts', '--fsp', '0.3'])).toEqual({
      code: EXIT_CODES.usage,
      stdout: '',
      stderr: "error: unknown option '--fsp' (did you mean --fps?)\n",
    });
    expect(await runCli(['simulate', 'cutouts', '--n', '3', '--sed', '2'])).toEqual({
      code: EXIT_CODES.usage,
      stdout: '',
      stderr: "error: unknown option '--sed' (did you mean --seed?)\n",
    });
  });

  test('a required option left out is still one line naming it', async () => {
    expect(await runCli(['export', 'catalog.arrow'])).toEqual({ code: EXIT_CODES.usage, stdout: '', stderr: "error: required option '--format <format>' not specified\n" });
    expect(await runCli(['simulate', 'cutouts', '--n', '3'])).toEqual({ code: EXIT_CODES.usage, stdout: '', stderr: "error: required option '--out <dir>' not specified\n" });
  });

  test('a mistyped command is one line naming the nearest command', async () => {
    const result = await runCli(['inpsect', 'x.fits']);
    expect(result).toEqual({ code: EXIT_CODES.usage, stdout: '', stderr: "error: unknown command 'inpsect' (did you mean inspect?)\n" });
  });
});

describe('tile mode without --rms or --psf', () => {
  test('says once, before the run, what it falls back on', async () => {
    const result = await runCli(['run', '--tile', 'no-such-tile.fits', '--catalog', 'no-such-catalogue.fits', '--out', 'no-such-folder', '--quiet']);
    const warnings = result.stderr.split('\n').filter((line) => line.startsWith('run: warning:'));
    expect(warnings).toEqual([
      'run: warning: no --rms: the noise of every source is estimated from the tile itself (every row flagged no_rms_map)',
      'run: warning: no --psf: the mean Q1 VIS PSF is used for every source (every row flagged no_psf_hdu)',
    ]);
    expect(result.stderr.indexOf('run: warning')).toBeLessThan(result.stderr.indexOf('error:'));
  });

  test('is silent about what was given', async () => {
    const { tileModeWarnings } = await import('../../src/cli/tile-options.js');
    expect(tileModeWarnings({ tile: 't.fits', catalog: 'c.fits', rms: 'r.fits', psf: 'p.fits' })).toEqual([]);
    expect(tileModeWarnings({ tile: 't.fits', catalog: 'c.fits', psf: 'p.fits' })).toHaveLength(1);
  });
});

describe('a model card without a significance calibration', () => {
  const calibrationWarnings = (stderr: string) => stderr.split('\n').filter((line) => line.includes('has no significance calibration'));

  test('is named once, before the run (the committed label-free model has none)', async () => {
    const result = await runCli(['run', 'no-such-cutout.fits', '--model', 'models/labelfree/card.json', '--out', 'no-such-folder', '--quiet']);
    expect(calibrationWarnings(result.stderr)).toEqual([
      'run: warning: models/labelfree/card.json has no significance calibration: agn_z is uncalibrated (vis-agn calibrate --model CARD --shards DIR --write-card fits one on normal galaxies)',
    ]);
  });

  test('is not warned about with the calibrated default model', async () => {
    const result = await runCli(['run', 'no-such-cutout.fits', '--out', 'no-such-folder', '--quiet']);
    expect(calibrationWarnings(result.stderr)).toEqual([]);
  });
});
