/**
 * Where simulated pixels sit on the sky: a MER-like tile, 0.1"/px TAN, 32'x32', centred by default in
 * the Euclid Deep Field North (one of the Q1 fields). Cutouts keep the tile's WCS with CRPIX shifted,
 * as the real Q1 cutouts do (their CRPIX lies far outside the array). The real headers also carry
 * PCi_j + CDELTi beside CDi_j and WCSAXES after the other WCS keywords, which fitsverify rejects;
 * simulated headers give CDi_j only, WCSAXES first, and verify clean.
 */

import type { CardInput } from '../fits/card-format.js';
import { TanWcs, type SkyPosition } from '../fits/wcs.js';
import { PIXEL_SCALE_ARCSEC } from '../ground/vis.js';

export interface Tile {
  /** Simulated tiles use 999xxxxxx, outside the range of real MER tile indices. */
  readonly index: number;
  /** Side in pixels (a real MER tile is 19200). */
  readonly size: number;
  /** Sky position of the tile centre, degrees. */
  readonly centre: SkyPosition;
}

export const DEFAULT_TILE: Tile = { index: 999000001, size: 19200, centre: { ra: 269.73, dec: 66.02 } };

const DEG_PER_PIXEL = PIXEL_SCALE_ARCSEC / 3600;

/** FITS 1-based reference pixel of the tile: its centre. */
function tileCrpix(tile: Tile): number {
  return (tile.size + 1) / 2;
}

export function tileWcs(tile: Tile): TanWcs {
  const crpix = tileCrpix(tile);
  return new TanWcs({
    ctype: ['RA---TAN', 'DEC--TAN'],
    crpix: [crpix, crpix],
    crval: tile.centre,
    cd: [
      [-DEG_PER_PIXEL, 0],
      [0, DEG_PER_PIXEL],
    ],
    linearSource: 'CD',
    axesSwapped: false,
    lonpole: 180,
    latpole: tile.centre.dec,
    radesys: 'ICRS',
    equinox: 2000,
    sip: undefined,
  });
}

/** WCS cards of an image whose pixel (0, 0) is tile pixel (x0, y0) (0-based). */
export function wcsCards(tile: Tile, x0: number, y0: number): CardInput[] {
  const crpix = tileCrpix(tile);
  return [
    { key: 'WCSAXES', value: 2, comment: 'Number of coordinate axes' },
    { key: 'EQUINOX', value: 2000, comment: 'Mean equinox' },
    { key: 'RADESYS', value: 'ICRS', comment: 'Equatorial coordinate system' },
    { key: 'CTYPE1', value: 'RA---TAN', comment: 'Right ascension, gnomonic projection' },
    { key: 'CUNIT1', value: 'deg', comment: 'Units of coordinate increment and value' },
    { key: 'CRVAL1', value: tile.centre.ra, comment: '[deg] Coordinate value at reference point' },
    { key: 'CRPIX1', value: crpix - x0, comment: 'Pixel coordinate of reference point' },
    { key: 'CD1_1', value: -DEG_PER_PIXEL, comment: 'Linear projection matrix' },
    { key: 'CD1_2', value: 0, comment: 'Linear projection matrix' },
    { key: 'CTYPE2', value: 'DEC--TAN', comment: 'Declination, gnomonic projection' },
    { key: 'CUNIT2', value: 'deg', comment: 'Units of coordinate increment and value' },
    { key: 'CRVAL2', value: tile.centre.dec, comment: '[deg] Coordinate value at reference point' },
    { key: 'CRPIX2', value: crpix - y0, comment: 'Pixel coordinate of reference point' },
    { key: 'CD2_1', value: 0, comment: 'Linear projection matrix' },
    { key: 'CD2_2', value: DEG_PER_PIXEL, comment: 'Linear projection matrix' },
    { key: 'LONPOLE', value: 180, comment: '[deg] Native longitude of celestial pole' },
    { key: 'LATPOLE', value: tile.centre.dec, comment: '[deg] Native latitude of celestial pole' },
  ];
}
