import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { InvalidInputError, UnsupportedError } from '../../src/errors.js';
import { parseEuclidObjectId, parseIauDesignation } from '../../src/cutout/object-id.js';
import { openFits } from '../../src/fits/file.js';
import type { HeaderLookup, HeaderValue } from '../../src/fits/types.js';
import { wcsFromHeader, type TanWcs } from '../../src/fits/wcs.js';
import { describeWithShared, repoRoot, sharedDir } from '../helpers/shared.js';

/** Written by pipelines/tools/make_wcs_fixtures.py from astropy.wcs (all_pix2world / all_world2pix, origin 0). */
interface WcsFixture {
  name: string;
  file: string | null;
  hduIndex: number;
  expect: 'ok' | 'UnsupportedError';
  header: Record<string, HeaderValue>;
  gridShape: [number, number];
  sip: boolean;
  pixelScaleArcsec: number;
  /** [x, y, ra, dec] */
  pixelToSky: [number, number, number, number][];
  /** [ra, dec, x, y] */
  skyToPixel: [number, number, number, number][];
}

const fixtureDir = path.join(repoRoot, 'test', 'fixtures', 'wcs');
const fixtures: WcsFixture[] = readdirSync(fixtureDir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => ({ name: f.replace(/\.json$/, ''), ...JSON.parse(readFileSync(path.join(fixtureDir, f), 'utf8')) }));
const solvable = fixtures.filter((f) => f.expect === 'ok');
const fixture = (name: string): WcsFixture => fixtures.find((f) => f.name === name)!;

function lookup(values: Record<string, HeaderValue>): HeaderLookup {
  const map = new Map(Object.entries(values));
  return { get: (key) => map.get(key), has: (key) => map.has(key) };
}

/** The fixture's header with `changes` applied; an `undefined` change removes the keyword. */
function edited(name: string, changes: Record<string, HeaderValue | undefined>): HeaderLookup {
  const values: Record<string, HeaderValue> = { ...fixture(name).header };
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete values[key];
    else values[key] = value;
  }
  return lookup(values);
}

/** Great-circle separation in milliarcseconds (Vincenty form: exact at tiny and large angles alike). */
function separationMas(ra1: number, dec1: number, ra2: number, dec2: number): number {
  const d2r = Math.PI / 180;
  const dRa = (ra2 - ra1) * d2r;
  const [s1, c1, s2, c2] = [Math.sin(dec1 * d2r), Math.cos(dec1 * d2r), Math.sin(dec2 * d2r), Math.cos(dec2 * d2r)];
  const x = c2 * Math.sin(dRa);
  const y = c1 * s2 - s1 * c2 * Math.cos(dRa);
  return Math.atan2(Math.hypot(x, y), s1 * s2 + c1 * c2 * Math.cos(dRa)) * (180 / Math.PI) * 3.6e6;
}

function maxSkyErrorMas(wcs: TanWcs, f: WcsFixture): number {
  return Math.max(
    ...f.pixelToSky.map(([x, y, ra, dec]) => {
      const sky = wcs.pixelToSky(x, y);
      return separationMas(sky.ra, sky.dec, ra, dec);
    }),
  );
}

function maxPixelError(wcs: TanWcs, f: WcsFixture): number {
  return Math.max(
    ...f.skyToPixel.map(([ra, dec, x, y]) => {
      const pixel = wcs.skyToPixel(ra, dec);
      return Math.hypot(pixel.x - x, pixel.y - y);
    }),
  );
}

describe('TanWcs against astropy.wcs', () => {
  it('has fixtures for the SIP, HST, Euclid and synthetic headers', () => {
    expect(solvable.length).toBeGreaterThanOrEqual(10);
    expect(solvable.filter((f) => f.sip).length).toBe(3);
  });

  describe.each(solvable.map((f) => [f.name, f] as const))('%s', (_name, f) => {
    const wcs = wcsFromHeader(lookup(f.header));

    it('pixel -> sky within 1 mas of all_pix2world, inside and far outside the array', () => {
      expect(f.pixelToSky.length).toBe(50);
      expect(maxSkyErrorMas(wcs, f)).toBeLessThan(1);
    });

    it('sky -> pixel within 1e-4 px of all_world2pix', () => {
      expect(f.skyToPixel.length).toBeGreaterThanOrEqual(45);
      expect(maxPixelError(wcs, f)).toBeLessThan(1e-4);
    });

    it('round-trips pixel -> sky -> pixel to 1e-6 px', () => {
      for (const [x, y] of f.pixelToSky) {
        const sky = wcs.pixelToSky(x, y);
        const back = wcs.skyToPixel(sky.ra, sky.dec);
        expect(Math.hypot(back.x - x, back.y - y)).toBeLessThan(1e-6);
      }
    });

    it('batch conversions give exactly the single-point results', () => {
      const x = Float64Array.from(f.pixelToSky, (p) => p[0]);
      const y = Float64Array.from(f.pixelToSky, (p) => p[1]);
      const sky = wcs.pixelToSkyMany(x, y);
      const pixel = wcs.skyToPixelMany(sky.ra, sky.dec);
      f.pixelToSky.forEach(([px, py], k) => {
        expect(wcs.pixelToSky(px, py)).toEqual({ ra: sky.ra[k], dec: sky.dec[k] });
        expect(wcs.skyToPixel(sky.ra[k]!, sky.dec[k]!)).toEqual({ x: pixel.x[k], y: pixel.y[k] });
      });
    });

    it('reports the pixel scale astropy derives from the linear part', () => {
      expect(wcs.pixelScaleArcsec()).toBeCloseTo(f.pixelScaleArcsec, 12);
    });
  });
});

describeWithShared('TanWcs from the real files through openFits', () => {
  const files = fixtures.filter((f) => f.file !== null);

  it.each(files.map((f) => [`${f.file}[${f.hduIndex}]`, f] as const))('%s', (_label, f) => {
    const fits = openFits(path.join(sharedDir, 'data', f.file!));
    try {
      const location = { file: f.file!, hdu: f.hduIndex };
      const read = (): TanWcs => wcsFromHeader(fits.imageHeader(f.hduIndex), location);
      if (f.expect === 'UnsupportedError') {
        expect(read).toThrow(UnsupportedError);
        expect(read).toThrow(/DSS plate solution/);
      } else {
        const wcs = read();
        expect(maxSkyErrorMas(wcs, f)).toBeLessThan(1);
        expect(maxPixelError(wcs, f)).toBeLessThan(1e-4);
      }
    } finally {
      fits.close();
    }
  });
});

describe('SIP inverse', () => {
  it('reaches all_world2pix without AP/BP, by Newton on the forward polynomial alone', () => {
    const f = fixture('sip');
    const withoutInverse = Object.fromEntries(
      Object.keys(f.header)
        .filter((key) => /^(AP|BP)_/.test(key))
        .map((key) => [key, undefined]),
    );
    const wcs = wcsFromHeader(edited('sip', withoutInverse));
    expect(wcs.parameters.sip?.ap).toBeUndefined();
    expect(maxPixelError(wcs, f)).toBeLessThan(1e-4);
  });

  it('uses AP/BP only as a starting point: a 20% error in them still ends at all_world2pix', () => {
    const f = fixture('sip');
    const skewedInverse = Object.fromEntries(
      Object.entries(f.header)
        .filter(([key]) => /^(AP|BP)_\d/.test(key))
        .map(([key, value]) => [key, (value as number) * 1.2]),
    );
    expect(Object.keys(skewedInverse).length).toBeGreaterThan(10);
    expect(maxPixelError(wcsFromHeader(edited('sip', skewedInverse)), f)).toBeLessThan(1e-4);
  });
});

describe('header rules', () => {
  const euclid = 'euclid_102018665_NEG570040238507752998';

  it('takes PC x CDELT when a header has both CD and PC (wcslib precedence), after checking they agree', () => {
    const f = fixture(euclid);
    expect(f.header.CD1_1).toBeDefined();
    expect(f.header.PC1_1).toBeDefined();
    const wcs = wcsFromHeader(lookup(f.header));
    expect(wcs.parameters.linearSource).toBe('PC');
    expect(wcs.parameters.cd[0][0]).toBe((f.header.PC1_1 as number) * (f.header.CDELT1 as number));
  });

  it('refuses CD and PC x CDELT that disagree instead of silently taking PC as astropy does', () => {
    expect(() => wcsFromHeader(edited(euclid, { CDELT1: 2 }))).toThrow(InvalidInputError);
    expect(() => wcsFromHeader(edited(euclid, { CD1_2: 1e-7 }))).toThrow(/contradict/);
  });

  it('uses CD alone when PC is absent (CDELT then ignored), and reads the deprecated PC00i00j spelling', () => {
    const { PC1_1: pc11, PC2_2: pc22 } = fixture(euclid).header as Record<string, number>;
    const noPc = { PC1_1: undefined, PC2_2: undefined };
    const cdOnly = wcsFromHeader(edited(euclid, { ...noPc, CDELT1: 5, CDELT2: 5 }));
    expect(cdOnly.parameters.linearSource).toBe('CD');
    expect(cdOnly.parameters.cd).toEqual(wcsFromHeader(lookup(fixture(euclid).header)).parameters.cd);
    const oldPc = wcsFromHeader(edited(euclid, { ...noPc, PC001001: pc11, PC002002: pc22 }));
    expect(oldPc.parameters.linearSource).toBe('PC');
    expect(() => wcsFromHeader(edited(euclid, { ...noPc, PC001001: 2 * pc11, PC002002: pc22 }))).toThrow(/contradict/);
  });

  it('names the CTYPE of an unsupported projection or celestial system', () => {
    for (const [key, ctype] of [
      ['CTYPE1', 'RA---SIN'],
      ['CTYPE1', 'GLON-TAN'],
      ['CTYPE2', 'DEC--TPV'],
      ['CTYPE2', 'LINEAR'],
      ['CTYPE1', 'ra---tan'],
    ] as const) {
      const run = (): TanWcs => wcsFromHeader(edited(euclid, { [key]: ctype }), { file: 'x.fits', hdu: 7 });
      expect(run).toThrow(UnsupportedError);
      expect(run).toThrow(ctype);
      expect(run).toThrow(/^x\.fits, HDU 7: /);
    }
  });

  it('refuses the DSS plate solution even though its header also carries TAN keywords', () => {
    const f = fixture('dss');
    expect(f.expect).toBe('UnsupportedError');
    expect(String(f.header.CTYPE1)).toBe('RA---TAN');
    expect(() => wcsFromHeader(lookup(f.header))).toThrow(/DSS plate solution/);
  });

  it('refuses PV keywords on TAN axes (SCAMP TPV), lookup-table distortions and non-degree units', () => {
    expect(() => wcsFromHeader(edited(euclid, { PV1_1: 1 }))).toThrow(UnsupportedError);
    expect(() => wcsFromHeader(edited(euclid, { PV2_3: 0.001 }))).toThrow(/PV2_3/);
    expect(() => wcsFromHeader(edited('j94f05bgq_sci1', { CPDIS1: 'Lookup' }))).toThrow(/CPDIS1/);
    expect(() => wcsFromHeader(edited(euclid, { CUNIT1: 'arcsec' }))).toThrow(/CUNIT1/);
    expect(() => wcsFromHeader(edited(euclid, { WCSAXES: 3, PC1_3: 0.5 }))).toThrow(/PC1_3/);
  });

  it('refuses SIP coefficients without -SIP in CTYPE, and an A_ORDER without B_ORDER', () => {
    const plainTan = { CTYPE1: 'RA---TAN', CTYPE2: 'DEC--TAN' };
    expect(() => wcsFromHeader(edited('j94f05bgq_sci1', plainTan))).toThrow(/lacks '-SIP'/);
    expect(() => wcsFromHeader(edited('j94f05bgq_sci1', { B_ORDER: undefined }))).toThrow(InvalidInputError);
    expect(() => wcsFromHeader(edited('j94f05bgq_sci1', { CTYPE2: 'DEC--TAN' }))).toThrow(InvalidInputError);
  });

  it('reports missing, non-numeric or singular keywords as invalid input', () => {
    expect(() => wcsFromHeader(edited(euclid, { CRVAL1: undefined }))).toThrow(/CRVAL1 is missing/);
    expect(() => wcsFromHeader(edited(euclid, { CRPIX2: 'abc' }))).toThrow(/CRPIX2/);
    expect(() => wcsFromHeader(edited(euclid, { PC2_2: 0, CD2_2: 0 }))).toThrow(/singular/);
    expect(() => wcsFromHeader(lookup({}))).toThrow(UnsupportedError);
  });

  it('takes CROTA from the latitude axis and refuses a different longitude-axis CROTA', () => {
    expect(wcsFromHeader(lookup(fixture('synthetic_crota').header)).parameters.linearSource).toBe('CROTA');
    expect(() => wcsFromHeader(edited('synthetic_crota', { CROTA1: 3 }))).toThrow(/CROTA1/);
  });

  it('records LONPOLE/LATPOLE with their TAN defaults and the reference frame', () => {
    const euclidWcs = wcsFromHeader(edited(euclid, { LONPOLE: undefined, LATPOLE: undefined }));
    const latpole = fixture(euclid).header.CRVAL2;
    expect(euclidWcs.parameters).toMatchObject({ lonpole: 180, latpole, radesys: 'ICRS', equinox: 2000 });
    expect(wcsFromHeader(lookup(fixture('synthetic_pole_reference').header)).parameters.lonpole).toBe(0);
    const fk5 = wcsFromHeader(lookup(fixture('synthetic_crota').header)).parameters;
    expect(fk5).toMatchObject({ radesys: 'FK5', equinox: 2000 });
    const noFrame = wcsFromHeader(edited(euclid, { RADESYS: undefined, EQUINOX: 1950 })).parameters;
    expect(noFrame).toMatchObject({ radesys: 'FK4', equinox: 1950 });
  });

  it('gives NaN pixels for sky positions 90 degrees or more from the tangent point', () => {
    const wcs = wcsFromHeader(lookup(fixture(euclid).header));
    const { ra, dec } = wcs.parameters.crval;
    const opposite = wcs.skyToPixel(ra + 180, -dec);
    expect(opposite.x).toBeNaN();
    expect(opposite.y).toBeNaN();
  });
});

describe('Euclid cutouts: the object named in the file sits at the cutout centre', () => {
  const cutouts = solvable.filter((f) => f.file?.startsWith('euclid-q1/'));

  it('covers all three Q1 cutouts, one named by IAU designation', () => {
    expect(cutouts.length).toBe(3);
    expect(cutouts.filter((f) => /EUCLJ/.test(f.file!)).length).toBe(1);
  });

  it.each(cutouts.map((f) => [f.file!, f] as const))('%s', (file, f) => {
    const position = /EUCLJ/.test(file) ? parseIauDesignation(file) : parseEuclidObjectId(file);
    const wcs = wcsFromHeader(lookup(f.header));
    const { x, y } = wcs.skyToPixel(position.ra, position.dec);
    const [nx, ny] = [f.header.NAXIS1 as number, f.header.NAXIS2 as number];
    expect(Math.hypot(x - (nx - 1) / 2, y - (ny - 1) / 2)).toBeLessThan(1);
    expect(wcs.pixelScaleArcsec()).toBeCloseTo(0.1, 9);
  });
});
