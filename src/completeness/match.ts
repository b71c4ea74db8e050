/**
 * Sky cross-match of reference positions to catalogue positions: for each reference, the nearest
 * catalogue source within a radius. The catalogue is indexed in declination strips one radius high,
 * each sorted by RA, so a query looks at no more than three strips and, within each, only the RA
 * interval a circle of that radius can reach: O((n + m) log n) overall, across RA = 0/360 and up to
 * the poles.
 */

import { UsageError } from '../errors.js';

export const DEFAULT_MATCH_RADIUS_ARCSEC = 0.5;

/** A cross-match radius beyond a degree is a unit mistake (arcminutes or degrees meant), not a science case. */
const MAX_RADIUS_ARCSEC = 3600;

const DEG = Math.PI / 180;

/** Positions in degrees, index-aligned; NaN marks a row without a position, which never matches. */
export interface SkyPositions {
  readonly ra: ArrayLike<number>;
  readonly dec: ArrayLike<number>;
}

export interface SkyMatch {
  /** Index of the catalogue position. */
  readonly index: number;
  readonly separationArcsec: number;
}

/** Great-circle separation by the haversine formula, which stays accurate at the sub-arcsecond separations matched here. */
export function angularSeparationArcsec(ra1: number, dec1: number, ra2: number, dec2: number): number {
  const sinDDec = Math.sin(((dec2 - dec1) * DEG) / 2);
  const sinDRa = Math.sin(((ra2 - ra1) * DEG) / 2);
  const h = sinDDec * sinDDec + Math.cos(dec1 * DEG) * Math.cos(dec2 * DEG) * sinDRa * sinDRa;
  return (2 * Math.asin(Math.min(1, Math.sqrt(h)))) / DEG * 3600;
}

function normalizedRa(ra: number): number {
  return ((ra % 360) + 360) % 360;
}

interface Strip {
  /** RA in [0, 360), ascending. */
  readonly ra: Float64Array;
  /** Catalogue index of each entry of `ra`. */
  readonly index: Int32Array;
}

function buildStrips(catalogue: SkyPositions, height: number): Map<number, Strip> {
  const members = new Map<number, number[]>();
  for (let i = 0; i < catalogue.ra.length; i++) {
    const ra = catalogue.ra[i]!;
    const dec = catalogue.dec[i]!;
    if (!Number.isFinite(ra) || !Number.isFinite(dec)) continue;
    const key = Math.floor((dec + 90) / height);
    let list = members.get(key);
    if (list === undefined) members.set(key, (list = []));
    list.push(i);
  }
  const strips = new Map<number, Strip>();
  for (const [key, list] of members) {
    list.sort((a, b) => normalizedRa(catalogue.ra[a]!) - normalizedRa(catalogue.ra[b]!) || a - b);
    strips.set(key, { ra: Float64Array.from(list, (i) => normalizedRa(catalogue.ra[i]!)), index: Int32Array.from(list) });
  }
  return strips;
}

/** First position in ascending `values` that is >= `target`. */
function lowerBound(values: Float64Array, target: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (values[mid]! < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The RA intervals within [0, 360) that a circle of radius r (degrees) around (ra, dec) can reach.
 * Away from the poles the half-width is asin(sin r / cos dec), the exact extent of a small circle,
 * widened by a hair so rounding never drops a source the separation test would keep.
 */
function raIntervals(ra: number, dec: number, r: number): [number, number][] {
  if (Math.abs(dec) + r >= 90) return [[0, 360]];
  const halfWidth = Math.asin(Math.min(1, Math.sin(r * DEG) / Math.cos(dec * DEG))) / DEG;
  const pad = halfWidth * 1e-9 + 1e-12;
  if (halfWidth + pad >= 180) return [[0, 360]];
  const centre = normalizedRa(ra);
  const lo = centre - halfWidth - pad;
  const hi = centre + halfWidth + pad;
  if (lo < 0) return [[0, hi], [lo + 360, 360]];
  if (hi >= 360) return [[lo, 360], [0, hi - 360]];
  return [[lo, hi]];
}

/**
 * For each reference, the nearest catalogue position within `radiusArcsec` (inclusive), or null.
 * A catalogue source may be the match of several references. Of equally near sources the one with
 * the lower index wins, so the result does not depend on the order the index visits them in.
 */
export function crossMatch(references: SkyPositions, catalogue: SkyPositions, radiusArcsec = DEFAULT_MATCH_RADIUS_ARCSEC): (SkyMatch | null)[] {
  if (!(radiusArcsec > 0 && radiusArcsec <= MAX_RADIUS_ARCSEC)) {
    throw new UsageError(`the match radius must be in (0, ${MAX_RADIUS_ARCSEC}] arcsec, got ${radiusArcsec}`);
  }
  const r = radiusArcsec / 3600;
  const strips = buildStrips(catalogue, r);
  const matches: (SkyMatch | null)[] = [];
  for (let q = 0; q < references.ra.length; q++) {
    const ra = references.ra[q]!;
    const dec = references.dec[q]!;
    let best: SkyMatch | null = null;
    if (Number.isFinite(ra) && Number.isFinite(dec)) {
      const intervals = raIntervals(ra, dec, r);
      for (let key = Math.floor((dec - r + 90) / r); key <= Math.floor((dec + r + 90) / r); key++) {
        const strip = strips.get(key);
        if (strip === undefined) continue;
        for (const [lo, hi] of intervals) {
          for (let k = lowerBound(strip.ra, lo); k < strip.ra.length && strip.ra[k]! <= hi; k++) {
            const index = strip.index[k]!;
            const separationArcsec = angularSeparationArcsec(ra, dec, catalogue.ra[index]!, catalogue.dec[index]!);
            if (separationArcsec > radiusArcsec) continue;
            if (best === null || separationArcsec < best.separationArcsec || (separationArcsec === best.separationArcsec && index < best.index)) {
              best = { index, separationArcsec };
            }
          }
        }
      }
    }
    matches.push(best);
  }
  return matches;
}
