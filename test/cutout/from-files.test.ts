import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { describe, expect, test } from '@jest/globals';

import { compareNatural, listInputFiles } from '../../src/cutout/from-files.js';

describe('listInputFiles', () => {
  test('expands a folder in numeric order of the numbers in the names, not character order', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vis-agn-list-'));
    try {
      const names = ['sim_mer_cutout_7_10.fits', 'sim_mer_cutout_7_2.fits', 'sim_mer_cutout_7_1.fits', 'sim_mer_cutout_7_100.fits.gz', 'notes.txt'];
      for (const name of names) writeFileSync(path.join(dir, name), '');
      expect(listInputFiles([dir]).map((f) => path.basename(f))).toEqual(['sim_mer_cutout_7_1.fits', 'sim_mer_cutout_7_2.fits', 'sim_mer_cutout_7_10.fits', 'sim_mer_cutout_7_100.fits.gz']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('keeps files given one by one in the order given', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vis-agn-list-'));
    try {
      const files = ['b_3.fits', 'a_20.fits', 'a_4.fits'].map((name) => path.join(dir, name));
      for (const file of files) writeFileSync(file, '');
      expect(listInputFiles(files)).toEqual(files);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('compareNatural', () => {
  test('compares digit runs as numbers of any length and everything else as text', () => {
    const sorted = ['x10', 'x9', 'y1', 'x', 'x18446744073709551617', 'x18446744073709551616', 'x09a', 'x9b'].sort(compareNatural);
    expect(sorted).toEqual(['x', 'x9', 'x09a', 'x9b', 'x10', 'x18446744073709551616', 'x18446744073709551617', 'y1']);
  });
});
