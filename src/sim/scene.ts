/**
 * Scenes: a target source with its neighbourhood, rendered through the PSF with MER-like noise into
 * any window of the target's frame.
 *
 * The frame of object `id` has the pixel that holds the target centre at (0, 0); the centre itself is at
 * a sub-pixel offset in [-0.5, 0.5). A cutout of side W covers frame pixels [-floor(W/2), W - floor(W/2)),
 * so the target sits at pixel floor(W/2) + offset, as in the real cutouts (TARGETX ~ 49.2 of 100).
 * Neighbours are drawn per 32x32-pixel cell of the frame and all noise is counter-based, so a 64x64
 * stamp is exactly the centre crop of the 100x100 cutout of the same seed and id.
 */

import { Rng, STREAM, deriveKey, subKey, type Key } from '../random.js';
import { Canvas, convolve, coreFor, depositPoint, drawSersic, scatter } from './render.js';
import { SersicProfile } from './sersic.js';
import { addNoise, type NoiseModel } from './noise.js';
import { drawSource, type HostKind, type MagnitudeLaw, type PopulationRecipe, type Source } from './population.js';
import { cropPsf, moffatPsf, q1Psfs, type Psf } from '../ground/psf.js';
import { PIXEL_SCALE_ARCSEC } from '../ground/vis.js';
import { DEFAULT_TILE } from './sky.js';

// Module-level aliases: under Jest's vm context every lookup of the global Math costs ~0.4 us,
// which made the simulator 30x slower in tests than in production.
const { floor, hypot, min } = Math;

export type PsfChoice = { readonly kind: 'q1' } | { readonly kind: 'moffat'; readonly fwhm: readonly [number, number]; readonly beta: number };

export interface Neighbourhood {
  /** Catalogue-bright neighbours (survey class mix), per square arcsec, and their magnitudes. */
  readonly density: number;
  readonly magnitude: MagnitudeLaw;
  /** Faint uncatalogued galaxies per square arcsec, with their magnitudes. */
  readonly fieldDensity: number;
  readonly fieldMagnitude: MagnitudeLaw;
  /** Host mix of field galaxies: at 0.1" and a few sigma, knots, arms and nuclei are not seen. */
  readonly fieldHosts: Readonly<Record<HostKind, number>>;
  /** No neighbour or field source is centred closer than this to the target, pixels. */
  readonly exclusion: number;
}

/**
 * Densities: HST I-band counts give ~0.015 galaxies per arcsec^2 brighter than 25 and ~0.06 more down
 * to 27.5, but with those the simulated cutouts show twice the 5-sigma detections per area of the
 * real Q1 cutouts (1.8 +- 0.4 per 10^4 px besides the target); these values bring the detection rate
 * to ~2.5 per 10^4 px and the total density to 0.042 per arcsec^2, near the Q1 catalogue's 0.037
 * (docs/simulator.md).
 */
export const DEFAULT_NEIGHBOURHOOD: Neighbourhood = {
  density: 0.012,
  magnitude: { min: 19, max: 25, slope: 0.3 },
  fieldDensity: 0.03,
  fieldMagnitude: { min: 25, max: 27.5, slope: 0.2 },
  fieldHosts: { disk: 0.5, spiral: 0, spheroid: 0.25, compact: 0.25, irregular: 0 },
  exclusion: 5,
};

export interface SimRecipe {
  readonly population: PopulationRecipe;
  readonly neighbourhood: Neighbourhood;
  readonly noise: NoiseModel;
  readonly psf: PsfChoice;
}

export interface Window {
  readonly x0: number;
  readonly y0: number;
  readonly width: number;
  readonly height: number;
}

/** The window of a cutout of `width` x `height` in its target's frame. */
export function cutoutWindow(width: number, height = width): Window {
  return { x0: -floor(width / 2), y0: -floor(height / 2), width, height };
}

export type SourceRole = 'target' | 'neighbour' | 'field';

export interface PlacedSource extends Source {
  readonly role: SourceRole;
  /** Object id, for a tile's catalogued objects. */
  readonly id?: number;
}

/** Everything about one object that does not depend on the window. */
export interface ObjectDraw {
  readonly id: number;
  readonly key: Key;
  readonly target: PlacedSource;
  readonly psf: Psf;
  /** RMS-map sky level, image units. */
  readonly level: number;
  readonly background: number;
  /** Tile pixel (0-based) of the frame origin, which places cutouts on the sky. */
  readonly anchor: readonly [number, number];
}

export const CELL = 32;
/** Caps the Poisson count of a cell (expected 0.12 and 0.31), so per-cell ids stay small. */
export const MAX_PER_CELL = 16;
/** Cutout anchors stay this far inside the virtual tile, so any cutout up to 1024 px lies on it. */
const ANCHOR_MARGIN = 512;
/** Farthest a neighbour's light reaches from its centre: the 64 px profile cap plus knot offsets. */
const NEIGHBOUR_REACH = 80;

export function choosePsf(choice: PsfChoice, rng: Rng): Psf {
  if (choice.kind === 'q1') {
    const stamps = q1Psfs();
    return stamps[rng.int(stamps.length)]!;
  }
  return moffatPsf(rng.between(...choice.fwhm), choice.beta);
}

function gridIndexOf(recipe: PopulationRecipe, id: number): number | undefined {
  if (recipe.mix !== 'grid') return undefined;
  const n = recipe.gridFps.length;
  return ((id % n) + n) % n;
}

/** The source of object `id` centred at frame (x, y): its properties depend on (seed, id) only. */
export function drawObjectSource(recipe: SimRecipe, seed: number, id: number, x: number, y: number): Source {
  const rng = new Rng(subKey(deriveKey(seed, id), STREAM.population));
  return drawSource(rng, recipe.population, x, y, gridIndexOf(recipe.population, id));
}

export function drawObject(recipe: SimRecipe, seed: number, id: number): ObjectDraw {
  const key = deriveKey(seed, id);
  const placement = new Rng(subKey(key, STREAM.placement));
  const x = placement.uniform() - 0.5;
  const y = placement.uniform() - 0.5;
  const psf = choosePsf(recipe.psf, placement);
  const level = placement.between(...recipe.noise.rmsRange);
  const background = recipe.noise.backgroundSigma * placement.normal();
  const margin = ANCHOR_MARGIN;
  const anchor = [margin + placement.int(DEFAULT_TILE.size - 2 * margin), margin + placement.int(DEFAULT_TILE.size - 2 * margin)] as const;
  return { id, key, target: { ...drawObjectSource(recipe, seed, id, x, y), role: 'target' }, psf, level, background, anchor };
}

export interface CellOptions {
  /** Sources centred within the neighbourhood's exclusion radius of this point are left out. */
  readonly exclude?: { readonly x: number; readonly y: number };
  /** Only sources centred inside this region (a tile's edges). */
  readonly bounds?: Window;
  /**
   * Draws the catalogue-bright source k of cell (cx, cy) at (x, y) instead of a neighbour: a tile's
   * catalogued objects, whose ids derive from the cell.
   */
  readonly catalogued?: (x: number, y: number, cx: number, cy: number, k: number) => PlacedSource;
}

/**
 * Catalogue-bright sources (neighbours) and faint field sources of a frame whose light can reach
 * `window`, drawn per 32x32-pixel cell from `key`: which ones exist never depends on the window.
 */
export function cellSources(recipe: SimRecipe, key: Key, window: Window, options: CellOptions = {}): PlacedSource[] {
  const { neighbourhood, population } = recipe;
  const neighbourRecipe: PopulationRecipe = { ...population, mix: 'survey' };
  const fieldRecipe: PopulationRecipe = {
    ...population,
    mix: 'survey',
    classFractions: { galaxy: 1, agn: 0, qso: 0, star: 0 },
    hostFractions: neighbourhood.fieldHosts,
    nucleus: { ...population.nucleus, probability: 0 },
  };
  const kinds = [
    { role: 'neighbour', stream: STREAM.neighbours, density: neighbourhood.density, recipe: neighbourRecipe, magnitude: neighbourhood.magnitude },
    { role: 'field', stream: STREAM.field, density: neighbourhood.fieldDensity, recipe: fieldRecipe, magnitude: neighbourhood.fieldMagnitude },
  ] as const;
  const cellArea = (CELL * PIXEL_SCALE_ARCSEC) ** 2;
  const out: PlacedSource[] = [];
  const xa = window.x0 - NEIGHBOUR_REACH;
  const xb = window.x0 + window.width + NEIGHBOUR_REACH;
  const ya = window.y0 - NEIGHBOUR_REACH;
  const yb = window.y0 + window.height + NEIGHBOUR_REACH;
  const { exclude, bounds, catalogued } = options;
  for (let cy = floor(ya / CELL); cy <= floor(yb / CELL); cy++) {
    for (let cx = floor(xa / CELL); cx <= floor(xb / CELL); cx++) {
      for (const kind of kinds) {
        const cellRng = new Rng(subKey(key, kind.stream, cx, cy));
        const count = min(MAX_PER_CELL, cellRng.poisson(kind.density * cellArea));
        for (let k = 0; k < count; k++) {
          const x = (cx + cellRng.uniform()) * CELL;
          const y = (cy + cellRng.uniform()) * CELL;
          if (exclude !== undefined && hypot(x - exclude.x, y - exclude.y) < neighbourhood.exclusion) continue;
          if (x < xa || x > xb || y < ya || y > yb) continue;
          if (bounds !== undefined && (x < bounds.x0 - 0.5 || x >= bounds.x0 + bounds.width - 0.5 || y < bounds.y0 - 0.5 || y >= bounds.y0 + bounds.height - 0.5)) continue;
          if (kind.role === 'neighbour' && catalogued !== undefined) {
            out.push(catalogued(x, y, cx, cy, k));
            continue;
          }
          const rng = new Rng(subKey(key, kind.stream, cx, cy, k + 1));
          out.push({ ...drawSource(rng, kind.recipe, x, y, undefined, kind.magnitude), role: kind.role });
        }
      }
    }
  }
  return out;
}

/** Side of the PSF core used for faint light: 95% of the flux. */
const FAINT_KERNEL = 9;
/** Canvas pixels fainter than this many sigma go through the PSF core only. */
const FAINT_SIGMA = 1;

/**
 * Noise-free image of `sources` through `psf` over `window` (row-major). Each component is drawn only
 * where its truncated profile meets the canvas, as accurately as the pixel noise `sigma` calls for.
 * Light fainter than one sigma per pixel (the outskirts of every galaxy and most field galaxies)
 * skips the PSF wings beyond 4 px: they hold 5% of the flux, so what is lost is under 0.05 sigma per
 * pixel, and the convolution of a scene gets several times cheaper.
 */
export function renderSignal(sources: readonly Pick<Source, 'x' | 'y' | 'fluxPoint' | 'components'>[], psf: Psf, window: Window, sigma: number): Float64Array {
  const half = (psf.size - 1) / 2;
  const canvas = new Canvas(window.x0 - half, window.y0 - half, window.width + psf.size - 1, window.height + psf.size - 1);
  const xa = canvas.x0;
  const xb = canvas.x0 + canvas.width;
  const ya = canvas.y0;
  const yb = canvas.y0 + canvas.height;
  for (const source of sources) {
    if (source.fluxPoint > 0 && source.x > xa - 3 && source.x < xb + 3 && source.y > ya - 3 && source.y < yb + 3) {
      depositPoint(canvas, source.x, source.y, source.fluxPoint);
    }
    for (const c of source.components) {
      const cx = source.x + c.dx;
      const cy = source.y + c.dy;
      // The profile cannot reach farther than its truncation cap; skip it before building it.
      if (cx < xa - 64 || cx > xb + 64 || cy < ya - 64 || cy > yb + 64) continue;
      const profile = new SersicProfile(c, c.spiral);
      const r = profile.radius + 3;
      if (cx + r < xa || cx - r > xb || cy + r < ya || cy - r > yb) continue;
      drawSersic(canvas, profile, cx, cy, coreFor(c.flux, sigma));
    }
  }
  const faint = canvas.splitFaint(FAINT_SIGMA * sigma);
  const out = new Float64Array(window.width * window.height);
  convolve(faint, cropPsf(psf, FAINT_KERNEL), FAINT_KERNEL, out, window.x0, window.y0, window.width, window.height);
  scatter(canvas, psf.data, psf.size, out, window.x0, window.y0, window.width, window.height);
  return out;
}

export interface RenderedCutout {
  readonly object: ObjectDraw;
  readonly neighbours: readonly PlacedSource[];
  readonly window: Window;
  readonly image: Float32Array;
  readonly rms: Float32Array;
}

/**
 * The noise-free image of the target's point source alone (zero for a galaxy), rendered as it enters
 * the full scene: what a trainer subtracts to learn the host light under an AGN.
 */
export function renderTargetPoint(object: ObjectDraw, recipe: SimRecipe, window: Window): Float32Array {
  if (object.target.fluxPoint <= 0) return new Float32Array(window.width * window.height);
  const { x, y, fluxPoint } = object.target;
  return Float32Array.from(renderSignal([{ x, y, fluxPoint, components: [] }], object.psf, window, object.level * recipe.noise.madToRms));
}

/** Renders object `id` over `window` of its frame: image (with noise) and RMS map. */
export function renderObject(recipe: SimRecipe, seed: number, id: number, window: Window): RenderedCutout {
  const object = drawObject(recipe, seed, id);
  const grown: Window = { x0: window.x0 - 1, y0: window.y0 - 1, width: window.width + 2, height: window.height + 2 };
  const neighbours = cellSources(recipe, object.key, grown, { exclude: object.target });
  const signal = renderSignal([object.target, ...neighbours], object.psf, grown, object.level * recipe.noise.madToRms);
  const keys = { noise: subKey(object.key, STREAM.noise), coverage: subKey(object.key, STREAM.coverage) };
  const { image, rms } = addNoise(recipe.noise, keys, object.level, object.background, signal, window.x0, window.y0, window.width, window.height);
  return { object, neighbours, window, image, rms };
}
