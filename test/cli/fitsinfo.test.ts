import { execFileSync } from 'node:child_process';
import path from 'node:path';


import { EXIT_CODES } from '../../src/errors.js';
import { runCli } from '../helpers/cli.js';
import { fitsInfo, FITSINFO_SCHEMA, formatFitsInfo, type FitsInfo } from '../../src/fits/info.js';
import { astropyPython, conformanceDir, describeIf, describeWithShared, euclidQ1Dir, hasAstropy, hasShared } from '../helpers/shared.js';

const cutout = path.join(euclidQ1Dir, 'q1_mer_cutout_102018665_NEG570040238507752998.fits');

interface AstropyHdu {
  name: string;
  shape: number[];
  bitpix: number;
  dtype: string | null;
  count: number;
  nan: number;
  sum: number | null;
  min: number | null;
  max: number | null;
}

function astropySummary(file: string): AstropyHdu[] {
  const script = `
import sys, json, warnings
import numpy as np
from astropy.io import fits
warnings.simplefilter('ignore')
out = []
with fits.open(sys.argv[1]) as hdus:
    for h in hdus:
        d = h.data
        row = {'name': h.name, 'shape': list(reversed(d.shape)) if d is not None else [], 'bitpix': h.header['BITPIX'],
               'dtype': d.dtype.name if d is not None else None, 'count': 0, 'nan': 0, 'sum': None, 'min': None, 'max': None}
        if d is not None:
            f = np.asarray(d, dtype=np.float64)
            finite = ~np.isnan(f)
            row.update(count=int(f.size), nan=int((~finite).sum()))
            if finite.any():
                row.update(sum=float(np.sum(f[finite], dtype=np.float64)), min=float(f[finite].min()), max=float(f[finite].max()))
        out.append(row)
print(json.dumps(out))
`;
  return JSON.parse(execFileSync(astropyPython, ['-c', script, file], { encoding: 'utf8' })) as AstropyHdu[];
}


describeIf(hasAstropy && hasShared, `needs astropy under ${astropyPython} and the shared Q1 cutouts`, 'fitsinfo on a real Euclid Q1 cutout', () => {
  let info: FitsInfo;
  let reference: AstropyHdu[];
  beforeAll(() => {
    info = fitsInfo(cutout);
    reference = astropySummary(cutout);
  });

  it('lists every HDU with the name, shape, BITPIX and dtype astropy reports', () => {
    expect(info.schema).toBe(FITSINFO_SCHEMA);
    expect(info.hdus.map((h) => [h.name, h.shape, h.bitpix, h.dtype])).toEqual(reference.map((r) => [r.name, r.shape, r.bitpix, r.dtype]));
    expect(info.hdus.every((h) => h.kind === 'image' && h.compression === null && h.error === null)).toBe(true);
  });

  it('gives the pixel count, NaN count, sum, min and max astropy computes', () => {
    for (const [i, hdu] of info.hdus.entries()) {
      const r = reference[i]!;
      if (r.dtype === null) {
        expect(hdu.pixels).toBeNull();
        continue;
      }
      const p = hdu.pixels!;
      expect([hdu.name, p.count, p.nanCount, p.min, p.max]).toEqual([r.name, r.count, r.nan, r.min, r.max]);
      expect(Math.abs(p.sum! - r.sum!)).toBeLessThanOrEqual(1e-9 * Math.abs(r.sum!));
    }
  });

  it('prints an aligned table with one line per HDU', () => {
    const lines = formatFitsInfo(info).split('\n');
    const head = lines.findIndex((l) => l.startsWith('#'));
    const kindColumn = lines[head]!.indexOf('kind');
    const rows = lines.slice(head + 1, head + 1 + info.hdus.length);
    expect(rows.map((l) => l.slice(kindColumn, kindColumn + 5))).toEqual(info.hdus.map(() => 'image'));
    expect(rows[7]).toContain('VIS_BGSUB');
    expect(rows[7]).toContain('100x100');
  });
});

describeWithShared('fitsinfo on tables, compressed images and checksums', () => {
  it('reports rows and columns of tables', () => {
    const info = fitsInfo(path.join(conformanceDir, 'astropy', 'btable.fits'));
    expect(info.hdus[1]!.table).toEqual({
      rows: 3,
      columns: [
        { name: 'order', format: 'I', unit: null },
        { name: 'name', format: '20A', unit: null },
        { name: 'mag', format: 'E', unit: null },
        { name: 'Sp', format: '10A', unit: null },
      ],
    });
  });

  it('reports the compression and the logical shape of tile-compressed images', () => {
    const info = fitsInfo(path.join(conformanceDir, 'cfitsio-fpack', 'vis_like_u16_200.rice.fits.fz'));
    const hdu = info.hdus[1]!;
    expect([hdu.kind, hdu.compression, hdu.shape, hdu.bitpix, hdu.dtype, hdu.pixels?.count]).toEqual(['compressed-image', 'RICE_1', [200, 200], 16, 'uint16', 40000]);
  });

  it('verifies CHECKSUM and DATASUM where present', () => {
    const good = fitsInfo(path.join(conformanceDir, 'astropy', 'checksum.fits'));
    const bad = fitsInfo(path.join(conformanceDir, 'astropy', 'checksum_false.fits'));
    expect(good.hdus.map((h) => h.checksum)).toEqual(good.hdus.map(() => ({ datasum: 'ok', checksum: 'ok' })));
    expect(bad.hdus.map((h) => h.checksum)).toEqual(bad.hdus.map(() => ({ datasum: 'bad', checksum: 'bad' })));
    expect(fitsInfo(cutout).hdus[0]!.checksum).toBeNull();
  });
});

describeWithShared('the vis-agn command line', () => {
  it('fitsinfo --json prints the documented JSON', async () => {
    const { code, stdout } = await runCli(['fitsinfo', cutout, '--json']);
    expect(code).toBe(EXIT_CODES.ok);
    expect(JSON.parse(stdout)).toEqual(JSON.parse(JSON.stringify(fitsInfo(cutout))));
  });

  it('maps errors to `error: <message>` and their exit code', async () => {
    const missing = path.join(euclidQ1Dir, 'no-such-file.fits');
    const notFound = await runCli(['fitsinfo', missing]);
    expect(notFound.code).toBe(EXIT_CODES.inputNotFound);
    expect(notFound.stderr).toMatch(new RegExp(`^error: ${missing.replace(/[.+]/g, '\\$&')}: cannot open`));
    const usage = await runCli(['fitsinfo']);
    expect(usage.code).toBe(EXIT_CODES.usage);
    expect(usage.stderr).toMatch(/missing required argument/);
  });
});
