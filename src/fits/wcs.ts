/**
 * Celestial TAN (gnomonic) world coordinates with optional SIP distortion, read from a FITS header.
 *
 * Pixel convention: `x`, `y` are 0-based array indices, x along NAXIS1 (the fastest axis, a column index) and
 * y along NAXIS2 (a row index); the centre of the first stored pixel is (0, 0), so the FITS pixel coordinate
 * is x + 1. This is astropy's `origin=0`. Sky positions are (RA, Dec) in degrees in the frame RADESYS names,
 * RA in [0, 360).
 *
 * The maths follows Greisen & Calabretta (2002) for the linear part, Calabretta & Greisen (2002) for TAN
 * and the spherical rotation, and Shupe et al. (2005) for SIP. Results match astropy/wcslib: see
 * test/fits/wcs.test.ts and pipelines/tools/make_wcs_fixtures.py.
 *
 * Rather than give a position that may be wrong, the reader refuses headers that astropy reads one way
 * (silently or with a log message) when another reading is as likely: CDi_j that contradict PCi_j x CDELTi,
 * SIP coefficients without a -SIP CTYPE, PVi_m on TAN axes (SCAMP's TPV polynomial uses those names), and DSS
 * plate solutions, whose TAN keywords are only an approximation. Lookup-table distortions (CPDIS, D2IM) are
 * refused as not implemented.
 */
import { InvalidInputError, UnsupportedError, type ErrorLocation } from '../errors.js';
import type { HeaderLookup } from './types.js';

export interface SkyPosition {
  /** Degrees, [0, 360). */
  ra: number;
  /** Degrees. */
  dec: number;
}

export interface PixelPosition {
  /** 0-based index along NAXIS1. */
  x: number;
  /** 0-based index along NAXIS2. */
  y: number;
}

export interface SkyArrays {
  ra: Float64Array;
  dec: Float64Array;
}

export interface PixelArrays {
  x: Float64Array;
  y: Float64Array;
}

/** Which header keywords gave the linear part; `CDELT` is CDELTi alone (no rotation keyword at all). */
export type LinearSource = 'PC' | 'CD' | 'CROTA' | 'CDELT';

/** One SIP polynomial: coefficient of u^p v^q at `p * (order + 1) + q`, zero where p + q > order. */
export interface SipPolynomial {
  readonly order: number;
  readonly coefficients: Float64Array;
}

export interface SipDistortion {
  /** Forward: pixel offsets (u, v) -> (u + A(u, v), v + B(u, v)). */
  readonly a: SipPolynomial;
  readonly b: SipPolynomial;
  /** Approximate inverse, when the header has AP_ORDER/BP_ORDER; only a starting point here. */
  readonly ap?: SipPolynomial;
  readonly bp?: SipPolynomial;
}

const D2R = Math.PI / 180;
const R2D = 180 / Math.PI;

/**
 * Newton on the forward SIP stops when the step is below this (pixels), far below astropy's all_world2pix
 * default of 1e-4, so that round trips are limited by rounding rather than by the solver.
 */
const SIP_INVERSE_TOLERANCE = 1e-10;
const SIP_INVERSE_MAX_ITERATIONS = 50;

/**
 * Relative agreement required between CDi_j and PCi_j x CDELTi when a header has both. At 1e-9 a tile-sized
 * lever arm (CRPIX 2e4 px away) moves a position by 2e-5 px; Euclid writes both from the same numbers.
 */
const CD_PC_RELATIVE_TOLERANCE = 1e-9;

/** SIP orders beyond this are not in use anywhere and would only come from a corrupt card. */
const MAX_SIP_ORDER = 20;

/** Everything a TanWcs is built from, in header terms; `wcsFromHeader` fills it in. */
export interface TanWcsParameters {
  readonly ctype: readonly [string, string];
  /** FITS 1-based reference pixel, as written in the header. */
  readonly crpix: readonly [number, number];
  /** Reference point in degrees, whatever the axis order in the header. */
  readonly crval: SkyPosition;
  /** Linear part as used (CDi_j, or its PCi_j x CDELTi or CROTA equivalent), row-major [[1_1, 1_2], [2_1, 2_2]]. */
  readonly cd: readonly [readonly [number, number], readonly [number, number]];
  readonly linearSource: LinearSource;
  /** True when CTYPE1 is the declination axis. */
  readonly axesSwapped: boolean;
  /** Native longitude of the celestial pole, degrees (LONPOLE or its TAN default). */
  readonly lonpole: number;
  /** LATPOLE as written, else the value TAN implies (the reference declination); TAN never uses it. */
  readonly latpole: number;
  readonly radesys: string;
  readonly equinox: number | undefined;
  readonly sip: SipDistortion | undefined;
}

export class TanWcs {
  readonly parameters: TanWcsParameters;
  /** 0-based reference pixel (CRPIXi - 1): pixel offsets and SIP are taken around it. */
  private readonly x0: number;
  private readonly y0: number;
  private readonly m11: number;
  private readonly m12: number;
  private readonly m21: number;
  private readonly m22: number;
  private readonly i11: number;
  private readonly i12: number;
  private readonly i21: number;
  private readonly i22: number;
  private readonly raRef: number;
  private readonly sinDecRef: number;
  private readonly cosDecRef: number;
  private readonly lonpoleRad: number;
  private readonly swapped: boolean;
  private readonly sip: SipDistortion | undefined;
  /** Scratch for the per-point kernels, so the batch loops allocate nothing. */
  private readonly out = new Float64Array(2);
  private readonly gradient = new Float64Array(2);

  constructor(parameters: TanWcsParameters) {
    this.parameters = parameters;
    this.x0 = parameters.crpix[0] - 1;
    this.y0 = parameters.crpix[1] - 1;
    [[this.m11, this.m12], [this.m21, this.m22]] = parameters.cd;
    const det = this.m11 * this.m22 - this.m12 * this.m21;
    this.i11 = this.m22 / det;
    this.i12 = -this.m12 / det;
    this.i21 = -this.m21 / det;
    this.i22 = this.m11 / det;
    this.raRef = parameters.crval.ra;
    this.sinDecRef = Math.sin(parameters.crval.dec * D2R);
    this.cosDecRef = Math.cos(parameters.crval.dec * D2R);
    this.lonpoleRad = parameters.lonpole * D2R;
    this.swapped = parameters.axesSwapped;
    this.sip = parameters.sip;
  }

  /** Square root of the pixel area at the reference point, from the linear part alone (no SIP). */
  pixelScaleArcsec(): number {
    return Math.sqrt(Math.abs(this.m11 * this.m22 - this.m12 * this.m21)) * 3600;
  }

  pixelToSky(x: number, y: number): SkyPosition {
    this.pixelToSkyKernel(x, y);
    return { ra: this.out[0]!, dec: this.out[1]! };
  }

  /** NaN for a position 90 degrees or more from the reference point, or where the SIP inverse does not converge. */
  skyToPixel(ra: number, dec: number): PixelPosition {
    this.skyToPixelKernel(ra, dec);
    return { x: this.out[0]!, y: this.out[1]! };
  }

  pixelToSkyMany(x: Float64Array, y: Float64Array, into?: SkyArrays): SkyArrays {
    const result = into ?? { ra: new Float64Array(x.length), dec: new Float64Array(x.length) };
    checkLengths(x.length, y.length, result.ra.length, result.dec.length);
    for (let k = 0; k < x.length; k++) {
      this.pixelToSkyKernel(x[k]!, y[k]!);
      result.ra[k] = this.out[0]!;
      result.dec[k] = this.out[1]!;
    }
    return result;
  }

  skyToPixelMany(ra: Float64Array, dec: Float64Array, into?: PixelArrays): PixelArrays {
    const result = into ?? { x: new Float64Array(ra.length), y: new Float64Array(ra.length) };
    checkLengths(ra.length, dec.length, result.x.length, result.y.length);
    for (let k = 0; k < ra.length; k++) {
      this.skyToPixelKernel(ra[k]!, dec[k]!);
      result.x[k] = this.out[0]!;
      result.y[k] = this.out[1]!;
    }
    return result;
  }

  private pixelToSkyKernel(x: number, y: number): void {
    let u = x - this.x0;
    let v = y - this.y0;
    if (this.sip !== undefined) {
      const du = this.evaluate(this.sip.a, u, v);
      const dv = this.evaluate(this.sip.b, u, v);
      u += du;
      v += dv;
    }
    const w1 = this.m11 * u + this.m12 * v;
    const w2 = this.m21 * u + this.m22 * v;
    const px = this.swapped ? w2 : w1;
    const py = this.swapped ? w1 : w2;

    // TAN: the plane point at radius r (degrees) sits at native latitude theta with tan(theta) = (180/pi) / r.
    const r = Math.hypot(px, py);
    const phi = r === 0 ? 0 : Math.atan2(px, -py);
    const theta = Math.atan2(R2D, r);

    const sinT = Math.sin(theta);
    const cosT = Math.cos(theta);
    const dPhi = phi - this.lonpoleRad;
    const a = -cosT * Math.sin(dPhi);
    const b = sinT * this.cosDecRef - cosT * this.sinDecRef * Math.cos(dPhi);
    const z = sinT * this.sinDecRef + cosT * this.cosDecRef * Math.cos(dPhi);
    // atan2 rather than asin keeps full precision next to the poles.
    this.out[0] = normaliseRa(this.raRef + Math.atan2(a, b) * R2D);
    this.out[1] = Math.atan2(z, Math.hypot(a, b)) * R2D;
  }

  private skyToPixelKernel(ra: number, dec: number): void {
    const dRa = (ra - this.raRef) * D2R;
    const sinD = Math.sin(dec * D2R);
    const cosD = Math.cos(dec * D2R);
    const a = -cosD * Math.sin(dRa);
    const b = sinD * this.cosDecRef - cosD * this.sinDecRef * Math.cos(dRa);
    const z = sinD * this.sinDecRef + cosD * this.cosDecRef * Math.cos(dRa);
    if (!(z > 0)) {
      this.out[0] = NaN;
      this.out[1] = NaN;
      return;
    }
    const phi = this.lonpoleRad + Math.atan2(a, b);
    // r = (180/pi) cot(theta), with cos(theta) = hypot(a, b) and sin(theta) = z.
    const r = (R2D * Math.hypot(a, b)) / z;
    const px = r * Math.sin(phi);
    const py = -r * Math.cos(phi);
    const w1 = this.swapped ? py : px;
    const w2 = this.swapped ? px : py;
    const u = this.i11 * w1 + this.i12 * w2;
    const v = this.i21 * w1 + this.i22 * w2;
    if (this.sip === undefined) {
      this.out[0] = u + this.x0;
      this.out[1] = v + this.y0;
    } else {
      this.invertSip(this.sip, u, v);
    }
  }

  /**
   * Solves u + A(u, v) = uf, v + B(u, v) = vf by Newton's method, starting from AP/BP when present. Newton
   * rather than astropy's fixed-point iteration: it converges in a few steps where the distortion is strong.
   */
  private invertSip(sip: SipDistortion, uf: number, vf: number): void {
    let u = uf;
    let v = vf;
    if (sip.ap !== undefined && sip.bp !== undefined) {
      u += this.evaluate(sip.ap, uf, vf);
      v += this.evaluate(sip.bp, uf, vf);
    }
    for (let iteration = 0; iteration < SIP_INVERSE_MAX_ITERATIONS; iteration++) {
      const fu = u + this.evaluate(sip.a, u, v) - uf;
      const dAu = 1 + this.gradient[0]!;
      const dAv = this.gradient[1]!;
      const fv = v + this.evaluate(sip.b, u, v) - vf;
      const dBu = this.gradient[0]!;
      const dBv = 1 + this.gradient[1]!;
      const det = dAu * dBv - dAv * dBu;
      const stepU = (dBv * fu - dAv * fv) / det;
      const stepV = (dAu * fv - dBu * fu) / det;
      u -= stepU;
      v -= stepV;
      if (Math.hypot(stepU, stepV) < SIP_INVERSE_TOLERANCE) {
        this.out[0] = u + this.x0;
        this.out[1] = v + this.y0;
        return;
      }
      if (!Number.isFinite(u) || !Number.isFinite(v)) break;
    }
    this.out[0] = NaN;
    this.out[1] = NaN;
  }

  /** Polynomial value, returned, with d/du and d/dv left in `gradient` (nested Horner). */
  private evaluate(p: SipPolynomial, u: number, v: number): number {
    const n = p.order;
    const c = p.coefficients;
    let value = 0;
    let dU = 0;
    let dV = 0;
    for (let i = n; i >= 0; i--) {
      let inner = 0;
      let dInner = 0;
      for (let j = n - i; j >= 0; j--) {
        dInner = dInner * v + inner;
        inner = inner * v + c[i * (n + 1) + j]!;
      }
      dU = dU * u + value;
      value = value * u + inner;
      dV = dV * u + dInner;
    }
    this.gradient[0] = dU;
    this.gradient[1] = dV;
    return value;
  }
}

function checkLengths(...lengths: number[]): void {
  if (lengths.some((n) => n !== lengths[0])) {
    throw new RangeError(`coordinate arrays differ in length: ${lengths.join(', ')}`);
  }
}

function normaliseRa(ra: number): number {
  const r = ra % 360;
  return r < 0 ? r + 360 : r;
}

/**
 * Builds the celestial WCS of axes 1 and 2 from a header. Throws UnsupportedError for anything but
 * equatorial TAN / TAN-SIP (naming the CTYPE), InvalidInputError for missing or contradictory keywords.
 */
export function wcsFromHeader(header: HeaderLookup, location: ErrorLocation = {}): TanWcs {
  const keys = new HeaderReader(header, location);

  if (header.has('AMDX1') || header.has('PLTRAH')) {
    // Digitized Sky Survey plate solutions: the CTYPE/CD keywords beside them are only an approximation.
    throw new UnsupportedError(
      `DSS plate solution (PLTRAH/AMDXn keywords, CTYPE1='${keys.string('CTYPE1') ?? ''}') is not supported`,
      location,
    );
  }
  for (const key of ['CPDIS1', 'CPDIS2', 'D2IMDIS1', 'D2IMDIS2', 'D2IMFILE', 'NPOLFILE']) {
    if (header.has(key)) {
      throw new UnsupportedError(`lookup-table distortion (${key}) is not supported`, location);
    }
  }

  const ctype: [string, string] = [keys.string('CTYPE1') ?? '', keys.string('CTYPE2') ?? ''];
  const axes = ctype.map((value, i) => parseCtype(value, i + 1, location));
  const lngIndex = axes.findIndex((a) => a.coordinate === 'RA');
  const latIndex = axes.findIndex((a) => a.coordinate === 'DEC');
  if (lngIndex < 0 || latIndex < 0) {
    throw new UnsupportedError(
      `only equatorial RA/DEC axes are supported, got CTYPE1='${ctype[0]}', CTYPE2='${ctype[1]}'`,
      location,
    );
  }
  if (axes[0]!.distortion !== axes[1]!.distortion) {
    throw new InvalidInputError(`CTYPE1='${ctype[0]}' and CTYPE2='${ctype[1]}' name different distortions`, location);
  }
  for (let i = 1; i <= 2; i++) {
    const unit = keys.string(`CUNIT${i}`);
    if (unit !== undefined && unit !== '' && unit !== 'deg') {
      throw new UnsupportedError(`CUNIT${i}='${unit}' on a celestial axis; only 'deg' is supported`, location);
    }
    for (let m = 0; m < 100; m++) {
      if (header.has(`PV${i}_${m}`)) {
        throw new UnsupportedError(
          `PV${i}_${m} on axis '${ctype[i - 1]}': TAN takes no PV parameters here ` +
            "(SCAMP's TPV polynomial is not supported)",
          location,
        );
      }
    }
  }
  rejectCouplingToOtherAxes(keys, location);

  const crpix: [number, number] = [keys.required('CRPIX1'), keys.required('CRPIX2')];
  const crvalAxes = [keys.required('CRVAL1'), keys.required('CRVAL2')];
  const crval = { ra: crvalAxes[lngIndex]!, dec: crvalAxes[latIndex]! };
  if (!(Math.abs(crval.dec) <= 90)) {
    throw new InvalidInputError(`reference declination ${crval.dec} is outside [-90, 90]`, location);
  }

  const { matrix, source } = linearPart(keys, lngIndex, latIndex, location);
  const det = matrix[0][0] * matrix[1][1] - matrix[0][1] * matrix[1][0];
  if (!(Math.abs(det) > 0) || !Number.isFinite(det)) {
    throw new InvalidInputError(`the ${source} linear transformation is singular`, location);
  }

  // Calabretta & Greisen (2002): for zenithal projections (theta0 = 90) the default is 180 unless the
  // reference point is the pole itself.
  const lonpole = keys.number('LONPOLE') ?? (crval.dec >= 90 ? 0 : 180);
  const latpole = keys.number('LATPOLE') ?? crval.dec;
  const { radesys, equinox } = referenceFrame(keys);
  const sip = axes[0]!.distortion === 'SIP' ? readSip(keys, location) : undefined;
  if (sip === undefined && (header.has('A_ORDER') || header.has('B_ORDER'))) {
    throw new InvalidInputError(
      `SIP coefficients (A_ORDER/B_ORDER) present but CTYPE1='${ctype[0]}' lacks '-SIP': ` +
        'unclear whether the image is already distortion-corrected',
      location,
    );
  }

  return new TanWcs({
    ctype,
    crpix,
    crval,
    cd: matrix,
    linearSource: source,
    axesSwapped: lngIndex === 1,
    lonpole,
    latpole,
    radesys,
    equinox,
    sip,
  });
}

interface CtypeParts {
  coordinate: string;
  distortion: string | undefined;
}

/** FITS CTYPE for a celestial axis: 4-character coordinate type padded with '-', '-', projection, optional '-DIST'. */
function parseCtype(value: string, axis: number, location: ErrorLocation): CtypeParts {
  const match = /^([A-Z]{1,4}-*)-([A-Z0-9]{3})(?:-([A-Z0-9]+))?$/.exec(value);
  if (match === null || match[1]!.length !== 4) {
    throw new UnsupportedError(`CTYPE${axis}='${value}' is not a celestial axis this reader supports`, location);
  }
  if (match[2] !== 'TAN') {
    throw new UnsupportedError(`CTYPE${axis}='${value}': projection ${match[2]} is not supported (only TAN)`, location);
  }
  if (match[3] !== undefined && match[3] !== 'SIP') {
    throw new UnsupportedError(`CTYPE${axis}='${value}': distortion ${match[3]} is not supported (only SIP)`, location);
  }
  return { coordinate: match[1]!.replace(/-+$/, ''), distortion: match[3] };
}

type Matrix = [[number, number], [number, number]];

/**
 * wcslib's precedence, which astropy follows: any PCi_j makes PCi_j x CDELTi the matrix, else any CDi_j,
 * else CDELTi with the latitude axis' CROTA. wcslib ignores the lower-ranked keywords silently; here a CD
 * matrix that contradicts PC x CDELT, or a longitude-axis CROTA that differs from the latitude one, is an
 * error instead, since one of them must be wrong and the header does not say which.
 */
function linearPart(
  keys: HeaderReader,
  lngIndex: number,
  latIndex: number,
  location: ErrorLocation,
): { matrix: Matrix; source: LinearSource } {
  const cdelt = [keys.number('CDELT1') ?? 1, keys.number('CDELT2') ?? 1];
  const pc = keys.matrix('PC');
  const cd = keys.matrix('CD');
  if (pc !== undefined) {
    const fromPc = pc.map((row, i) => row.map((value) => value * cdelt[i]!)) as Matrix;
    if (cd !== undefined) {
      const scale = Math.max(...fromPc.flat().map(Math.abs));
      const worst = Math.max(...fromPc.flat().map((value, k) => Math.abs(value - cd.flat()[k]!)));
      if (worst > CD_PC_RELATIVE_TOLERANCE * scale) {
        throw new InvalidInputError(
          `CDi_j ${JSON.stringify(cd)} contradict PCi_j x CDELTi ${JSON.stringify(fromPc)}; ` +
            'wcslib would use PC x CDELT, but one of them is wrong',
          location,
        );
      }
    }
    return { matrix: fromPc, source: 'PC' };
  }
  if (cd !== undefined) return { matrix: cd, source: 'CD' };

  const rho = keys.number(`CROTA${latIndex + 1}`);
  const lngRho = keys.number(`CROTA${lngIndex + 1}`);
  if (lngRho !== undefined && lngRho !== (rho ?? 0)) {
    throw new InvalidInputError(
      `CROTA${lngIndex + 1}=${lngRho} on the longitude axis differs from CROTA${latIndex + 1}=${rho ?? 'absent'}; ` +
        'wcslib uses only the latitude axis rotation',
      location,
    );
  }
  const c = Math.cos((rho ?? 0) * D2R);
  const s = Math.sin((rho ?? 0) * D2R);
  const matrix: Matrix = [
    [0, 0],
    [0, 0],
  ];
  matrix[lngIndex]![lngIndex] = cdelt[lngIndex]! * c;
  matrix[lngIndex]![latIndex] = -cdelt[latIndex]! * s;
  matrix[latIndex]![lngIndex] = cdelt[lngIndex]! * s;
  matrix[latIndex]![latIndex] = cdelt[latIndex]! * c;
  return { matrix, source: rho === undefined ? 'CDELT' : 'CROTA' };
}

/** A third axis linked to the celestial ones through PC/CD would make a 2-D answer wrong. */
function rejectCouplingToOtherAxes(keys: HeaderReader, location: ErrorLocation): void {
  const n = Math.max(keys.number('WCSAXES') ?? 0, keys.number('NAXIS') ?? 0);
  for (let k = 3; k <= n; k++) {
    for (let i = 1; i <= 2; i++) {
      for (const key of [`PC${i}_${k}`, `PC${k}_${i}`, `CD${i}_${k}`, `CD${k}_${i}`]) {
        if ((keys.number(key) ?? 0) !== 0) {
          throw new UnsupportedError(`${key} couples axis ${k} to the celestial axes`, location);
        }
      }
    }
  }
}

/** FITS WCS paper II defaults: no RADESYS means ICRS without EQUINOX, FK4 before 1984, FK5 after. */
function referenceFrame(keys: HeaderReader): { radesys: string; equinox: number | undefined } {
  // EPOCH is the deprecated spelling of EQUINOX, honoured only in its absence (as wcslib does).
  const written = keys.number('EQUINOX') ?? keys.number('EPOCH');
  const defaultFrame = written === undefined ? 'ICRS' : written < 1984 ? 'FK4' : 'FK5';
  const radesys = keys.string('RADESYS') ?? keys.string('RADECSYS') ?? defaultFrame;
  const equinox = written ?? (radesys === 'FK4' ? 1950 : radesys === 'FK5' ? 2000 : undefined);
  return { radesys, equinox };
}

function readSip(keys: HeaderReader, location: ErrorLocation): SipDistortion | undefined {
  const a = readSipPolynomial(keys, 'A', location);
  const b = readSipPolynomial(keys, 'B', location);
  if (a === undefined && b === undefined) return undefined; // '-SIP' with no terms: astropy applies nothing too
  if (a === undefined || b === undefined) {
    throw new InvalidInputError(`${a === undefined ? 'B' : 'A'}_ORDER given without its partner`, location);
  }
  const ap = readSipPolynomial(keys, 'AP', location);
  const bp = readSipPolynomial(keys, 'BP', location);
  if ((ap === undefined) !== (bp === undefined)) {
    throw new InvalidInputError(`${ap === undefined ? 'BP' : 'AP'}_ORDER given without its partner`, location);
  }
  return ap !== undefined && bp !== undefined ? { a, b, ap, bp } : { a, b };
}

function readSipPolynomial(keys: HeaderReader, name: string, location: ErrorLocation): SipPolynomial | undefined {
  const order = keys.number(`${name}_ORDER`);
  if (order === undefined) return undefined;
  if (!Number.isInteger(order) || order < 0 || order > MAX_SIP_ORDER) {
    throw new InvalidInputError(`${name}_ORDER = ${order} is not an order 0..${MAX_SIP_ORDER}`, location);
  }
  const coefficients = new Float64Array((order + 1) * (order + 1));
  for (let p = 0; p <= order; p++) {
    for (let q = 0; p + q <= order; q++) {
      coefficients[p * (order + 1) + q] = keys.number(`${name}_${p}_${q}`) ?? 0;
    }
  }
  return { order, coefficients };
}

/** Typed access to the handful of keywords WCS reads, with errors that name the keyword. */
class HeaderReader {
  constructor(
    private readonly header: HeaderLookup,
    private readonly location: ErrorLocation,
  ) {}

  number(key: string): number | undefined {
    const value = this.header.get(key);
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'number' && Number.isFinite(value)) return value;
    if (typeof value === 'bigint') return Number(value);
    throw new InvalidInputError(`${key} = ${JSON.stringify(String(value))} is not a number`, this.location);
  }

  required(key: string): number {
    const value = this.number(key);
    if (value === undefined) throw new InvalidInputError(`${key} is missing`, this.location);
    return value;
  }

  /** String value with FITS' insignificant trailing blanks removed. */
  string(key: string): string | undefined {
    const value = this.header.get(key);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') {
      throw new InvalidInputError(`${key} = ${String(value)} is not a string`, this.location);
    }
    return value.trimEnd();
  }

  /**
   * The 2x2 PC or CD matrix if any element is present, missing elements defaulting to the identity (PC) or
   * zero (CD). Also reads the deprecated PC00i00j / CD00i00j spellings wcslib accepts.
   */
  matrix(prefix: 'PC' | 'CD'): Matrix | undefined {
    let present = false;
    const matrix: Matrix = [
      [prefix === 'PC' ? 1 : 0, 0],
      [0, prefix === 'PC' ? 1 : 0],
    ];
    for (let i = 1; i <= 2; i++) {
      for (let j = 1; j <= 2; j++) {
        const modern = this.number(`${prefix}${i}_${j}`);
        const old = this.number(`${prefix}00${i}00${j}`);
        if (modern !== undefined && old !== undefined && modern !== old) {
          throw new InvalidInputError(
            `${prefix}${i}_${j} = ${modern} and ${prefix}00${i}00${j} = ${old} disagree`,
            this.location,
          );
        }
        const value = modern ?? old;
        if (value !== undefined) {
          matrix[i - 1]![j - 1] = value;
          present = true;
        }
      }
    }
    return present ? matrix : undefined;
  }
}
