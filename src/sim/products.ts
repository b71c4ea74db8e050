/**
 * One simulated object as its outputs: image, RMS map, PSF stamp and truth rows, and as a cutout in
 * the real Q1 MER layout (primary HDU, VIS_FLUX, VIS_PSF, VIS_RMS, as the real cutouts order them).
 */

import type { HduInput } from '../fits/writer.js';
import { MAGZERO } from '../ground/vis.js';
import { cutoutWindow, renderObject, renderTargetPoint, type SimRecipe } from './scene.js';
import { DEFAULT_TILE, tileWcs, wcsCards } from './sky.js';
import { neighbourRows, sourceValues, type TruthRow } from './truth.js';

export interface ObjectProduct {
  readonly id: number;
  readonly width: number;
  readonly height: number;
  readonly image: Float32Array;
  readonly rms: Float32Array;
  readonly psf: Float32Array;
  readonly psfSize: number;
  /** The target's point source alone, noise-free; only when asked for. */
  readonly point?: Float32Array;
  /** Tile pixel (0-based) of image pixel (0, 0). */
  readonly origin: readonly [number, number];
  /** Target position in the image, 0-based pixels. */
  readonly target: readonly [number, number];
  readonly truth: TruthRow;
  readonly neighbours: readonly TruthRow[];
}

/** Renders object `id` as a `width` x `height` image; `index` is its place in the output. */
export function simulateObject(recipe: SimRecipe, seed: number, id: number, index: number, width: number, height = width, options: { point?: boolean } = {}): ObjectProduct {
  const window = cutoutWindow(width, height);
  const { object, neighbours, image, rms } = renderObject(recipe, seed, id, window);
  const point = options.point === true ? renderTargetPoint(object, recipe, window) : undefined;
  const wcs = tileWcs(DEFAULT_TILE);
  const origin = [object.anchor[0] + window.x0, object.anchor[1] + window.y0] as const;
  const place = (s: { x: number; y: number }): { x: number; y: number; ra: number; dec: number } => {
    const sky = wcs.pixelToSky(object.anchor[0] + s.x, object.anchor[1] + s.y);
    return { x: s.x - window.x0, y: s.y - window.y0, ra: sky.ra, dec: sky.dec };
  };
  const inside = neighbours.filter((s) => s.x >= window.x0 - 0.5 && s.x < window.x0 + width - 0.5 && s.y >= window.y0 - 0.5 && s.y < window.y0 + height - 0.5);
  const at = place(object.target);
  const truth: TruthRow = {
    index,
    object_id: id,
    ...sourceValues(object.target, at.x, at.y, at),
    psf: object.psf.name,
    rms_level: object.level,
    noise_sigma: object.level * recipe.noise.madToRms,
    background: object.background,
    n_neighbours: inside.length,
  };
  return {
    id,
    width,
    height,
    image,
    rms,
    psf: Float32Array.from(object.psf.data),
    psfSize: object.psf.size,
    ...(point === undefined ? {} : { point }),
    origin,
    target: [at.x, at.y],
    truth,
    neighbours: neighbourRows(index, id, inside, place),
  };
}

export interface Provenance {
  readonly seed: number;
  readonly recipeDigest: string;
  readonly version: string;
}

/** File name of a simulated cutout: the real ones are q1_mer_cutout_<tile>_<object>.fits. */
export function cutoutFileName(id: number): string {
  return `sim_mer_cutout_${DEFAULT_TILE.index}_${id < 0 ? `NEG${-id}` : id}.fits`;
}

export function cutoutHdus(product: ObjectProduct, provenance: Provenance): HduInput[] {
  const flux = 'VIS_FLUX';
  const psf = 'VIS_PSF';
  const rms = 'VIS_RMS';
  return [
    {
      type: 'empty',
      cards: [
        { key: 'EXT_1', value: flux, comment: 'Extension name for VIS FLUX' },
        { key: 'EXT_2', value: psf, comment: 'Extension name for VIS PSF' },
        { key: 'EXT_3', value: rms, comment: 'Extension name for VIS RMS' },
        { key: 'OBJECTID', value: product.id, comment: 'simulated object id' },
        { key: 'TILEIDX', value: DEFAULT_TILE.index, comment: 'simulated MER tile index' },
        { key: 'ORIGIN', value: 'vis-agn simulate', comment: 'simulated, not Euclid data' },
        { key: 'SIMVERS', value: provenance.version, comment: 'vis-agn version' },
        { key: 'SIMSEED', value: provenance.seed, comment: 'run seed; draws are seeded from (seed, id)' },
        { key: 'SIMRECIP', value: provenance.recipeDigest, comment: 'SHA-256 prefix of the recipe JSON' },
      ],
    },
    {
      type: 'image',
      name: flux,
      axes: [product.width, product.height],
      dtype: 'float32',
      data: product.image,
      cards: [
        ...wcsCards(DEFAULT_TILE, product.origin[0], product.origin[1]),
        { key: 'MAGZERO', value: MAGZERO, comment: 'AB zeropoint' },
        { key: 'FILTER', value: 'VIS', comment: 'Euclid filter for flux image' },
        { key: 'TARGETX', value: product.target[0], comment: 'target column, 0-based' },
        { key: 'TARGETY', value: product.target[1], comment: 'target row, 0-based' },
        { key: 'OBJECTID', value: product.id, comment: 'simulated object id' },
      ],
    },
    {
      type: 'image',
      name: psf,
      axes: [product.psfSize, product.psfSize],
      dtype: 'float32',
      data: product.psf,
      cards: [{ key: 'FILTER', value: 'VIS', comment: 'Euclid filter for PSF image' }],
    },
    {
      type: 'image',
      name: rms,
      axes: [product.width, product.height],
      dtype: 'float32',
      data: product.rms,
    },
  ];
}
