/**
 * The side-by-side figure of real Q1 cutouts and simulated ones at the same stretch
 * (docs/figures/sim-vs-real.png): top row the real VIS cutouts (central 100x100), then simulated
 * cutouts of targets as bright as the real central galaxies (I_E ~21.5): a spheroid, a disk or
 * spiral, an irregular; a host with a nuclear star cluster (a hard negative), an AGN and a QSO.
 */

import { measureCutout } from '../sim/calibration.js';
import { simulateObject, type ObjectProduct } from '../sim/products.js';
import { buildRecipe } from '../sim/recipe.js';
import type { Plane } from '../sim/stats.js';
import { encodePng } from './png.js';

const PANEL = 100;
const ZOOM = 3;
const GAP = 6;

/** asinh stretch: linear within a few sigma of the sky, logarithmic on bright cores; fixed for all panels. */
export interface Stretch {
  readonly soft: number;
  readonly max: number;
  readonly min: number;
}

export const FIGURE_STRETCH: Stretch = { soft: 0.008, max: 2, min: -0.01 };

function grey(value: number, stretch: Stretch): number {
  const top = Math.asinh(stretch.max / stretch.soft);
  const bottom = Math.asinh(stretch.min / stretch.soft);
  const t = (Math.asinh(value / stretch.soft) - bottom) / (top - bottom);
  return Math.round(255 * Math.min(1, Math.max(0, t)));
}

function centre(image: Plane): Plane {
  const x0 = Math.floor((image.width - PANEL) / 2);
  const y0 = Math.floor((image.height - PANEL) / 2);
  const data = new Float32Array(PANEL * PANEL);
  for (let y = 0; y < PANEL; y++) for (let x = 0; x < PANEL; x++) data[y * PANEL + x] = image.data[(y + y0) * image.width + x + x0]!;
  return { width: PANEL, height: PANEL, data };
}

type Pick = (p: ObjectProduct) => boolean;

const PICKS: readonly Pick[] = [
  (p) => p.truth.host_kind === 'spheroid' && p.truth.class === 'galaxy',
  (p) => (p.truth.host_kind === 'spiral' || p.truth.host_kind === 'disk') && p.truth.class === 'galaxy' && (p.truth.host_q as number) > 0.5,
  (p) => p.truth.host_kind === 'irregular' && p.truth.class === 'galaxy',
  (p) => (p.truth.nucleus_fraction as number) > 0.1 && p.truth.class === 'galaxy',
  (p) => p.truth.class === 'agn' && (p.truth.f_ps as number) > 0.1,
  (p) => p.truth.class === 'qso',
];

/** The real central galaxies measure I_E 20.6-22.6 (isophotal); the panels show targets near the middle. */
const FIGURE_MAG = 21.5;

/** For each pick, the first `candidates` simulated objects' closest to FIGURE_MAG. */
function simulatedPanels(seed: number, candidates: number): Plane[] {
  const recipe = buildRecipe({ magnitude: [20, 23] });
  const best: (ObjectProduct | undefined)[] = PICKS.map(() => undefined);
  const distance = (p: ObjectProduct): number => Math.abs((p.truth.mag_total as number) - FIGURE_MAG);
  for (let id = 1; id <= candidates; id++) {
    const product = simulateObject(recipe, seed, id, id - 1, PANEL);
    PICKS.forEach((pick, i) => {
      const current = best[i];
      if (pick(product) && (current === undefined || distance(product) < distance(current))) best[i] = product;
    });
  }
  return best.filter((p): p is ObjectProduct => p !== undefined).map((p) => ({ width: PANEL, height: PANEL, data: p.image }));
}

export function renderFigure(realFiles: readonly string[], seed: number, candidates = 300): Buffer {
  const real = realFiles.map((f) => centre(measureCutout(f).image));
  const sims = simulatedPanels(seed, candidates);
  const columns = 3;
  const rows = [real, sims.slice(0, 3), sims.slice(3, 6)].filter((r) => r.length > 0);
  const cell = PANEL * ZOOM;
  const width = columns * cell + (columns + 1) * GAP;
  const height = rows.length * cell + (rows.length + 1) * GAP;
  const data = new Uint8Array(width * height).fill(255);
  rows.forEach((row, r) => {
    row.forEach((panel, c) => {
      const ox = GAP + c * (cell + GAP);
      const oy = GAP + r * (cell + GAP);
      for (let y = 0; y < cell; y++) {
        for (let x = 0; x < cell; x++) {
          // FITS row 0 is the bottom row, as ds9 and matplotlib's origin='lower' show it.
          const row = PANEL - 1 - Math.floor(y / ZOOM);
          data[(oy + y) * width + ox + x] = grey(panel.data[row * PANEL + Math.floor(x / ZOOM)]!, FIGURE_STRETCH);
        }
      }
    });
  });
  return encodePng({ width, height, channels: 1, data });
}
