/**
 * The population: what a simulated source is (class, point-source fraction, host morphology,
 * magnitude), drawn from a recipe. A recipe is plain JSON, recorded in every output's manifest.
 *
 * Classes by f_PS = F_point / (F_point + F_host): galaxy (0), AGN (0 < f_PS < 0.5), QSO (>= 0.5, with a
 * host), star (1, no host). Hosts: bulge + disk, spiral (bulge + disk with arms), spheroid, compact
 * (near the resolution limit), irregular (disk + star-forming knots); any of the first three may carry
 * a nuclear star cluster, a compact but resolved central component: the hard negatives.
 */

import { magToFlux, PIXEL_SCALE_ARCSEC } from '../ground/vis.js';
import type { Rng } from '../random.js';
import type { SersicShape, SpiralArms } from './sersic.js';

// Module-level aliases: under Jest's vm context every lookup of the global Math costs ~0.4 us,
// which made the simulator 30x slower in tests than in production.
const { cos, exp, log, max, pow, sin, sqrt } = Math;

export type SourceClass = 'galaxy' | 'agn' | 'qso' | 'star';
export const SOURCE_CLASSES: readonly SourceClass[] = ['galaxy', 'agn', 'qso', 'star'];

export type HostKind = 'disk' | 'spiral' | 'spheroid' | 'compact' | 'irregular';
export const HOST_KINDS: readonly HostKind[] = ['disk', 'spiral', 'spheroid', 'compact', 'irregular'];

export type ComponentRole = 'bulge' | 'disk' | 'body' | 'nucleus' | 'knot';

export interface Component extends SersicShape {
  readonly role: ComponentRole;
  /** Offset of the component's centre from the source centre, pixels (knots only). */
  readonly dx: number;
  readonly dy: number;
  readonly spiral?: SpiralArms;
}

/** Magnitudes: a truncated power law dN/dm ∝ 10^(slope m), as galaxy counts are at these depths. */
export interface MagnitudeLaw {
  readonly min: number;
  readonly max: number;
  readonly slope: number;
}

/**
 * A one-dimensional law, written out in the recipe so that a population is plain data: uniform,
 * log-uniform, or log-normal (median and scatter in dex) clipped to [min, max].
 */
export type Law =
  | { readonly law: 'uniform'; readonly min: number; readonly max: number }
  | { readonly law: 'loguniform'; readonly min: number; readonly max: number }
  | { readonly law: 'lognormal'; readonly median: number; readonly dex: number; readonly min: number; readonly max: number };

export function drawLaw(rng: Rng, law: Law): number {
  switch (law.law) {
    case 'uniform':
      return rng.between(law.min, law.max);
    case 'loguniform':
      return rng.logBetween(law.min, law.max);
    case 'lognormal':
      return Math.min(law.max, Math.max(law.min, lognormal(rng, law.median, law.dex)));
  }
}

export interface PopulationRecipe {
  /** Which named population this is ('realistic', 'stress'), recorded with every output. */
  readonly name: string;
  /** 'survey': classes by `classFractions`; 'grid': f_PS cycles through `gridFps` by object id. */
  readonly mix: 'survey' | 'grid';
  readonly classFractions: Readonly<Record<SourceClass, number>>;
  readonly gridFps: readonly number[];
  /** f_PS of AGN, log-uniform. */
  readonly agnFps: readonly [number, number];
  /** f_PS of QSOs, uniform. */
  readonly qsoFps: readonly [number, number];
  /** Total (host + point) I_E magnitude of targets and catalogued neighbours. */
  readonly magnitude: MagnitudeLaw;
  readonly hostFractions: Readonly<Record<HostKind, number>>;
  /**
   * Median disk half-light radius (arcsec) at I_E = 20 and its change per magnitude (dex), with a
   * log-normal scatter; spheroids are `spheroidScale` times smaller at the same magnitude.
   */
  readonly size: { readonly re20: number; readonly dexPerMag: number; readonly scatterDex: number; readonly spheroidScale: number };
  /**
   * Bulge-to-total flux of disks and spirals, the bulge's Re as a fraction of the disk's (never below
   * `minRe` pixels), its Sérsic n.
   */
  readonly bulge: { readonly diskToTotal: Law; readonly spiralToTotal: Law; readonly reRatio: Law; readonly minRe: number; readonly n: Law };
  /** Half-light radius of irregulars' star-forming knots, pixels. */
  readonly knotRe: Law;
  /** Sérsic index of spheroids. */
  readonly spheroidN: Law;
  /**
   * Half-light radius of 'compact' bodies: in pixels, or with `relative` as a fraction of the disk
   * size the size law gives at that magnitude (compact for its luminosity, as real compact galaxies are).
   */
  readonly compactRe: Law & { readonly relative?: boolean };
  /**
   * Nuclear star clusters of disks, spirals and spheroids: how often, what fraction of the host's
   * light, and their Re in pixels (below ~0.7 px they are point sources to VIS).
   */
  readonly nucleus: { readonly probability: number; readonly fraction: Law; readonly re: Law };
}

/**
 * The sky as the literature measures it (docs/simulator.md names the sources): counts slope 0.3
 * (I-band galaxy counts at 19-25); sizes log10 Re["] = -0.42 - 0.115 (I - 22) with 0.25 dex scatter
 * (HST/COSMOS), so ~3% of galaxies brighter than 24.5 are below 0.07"; bulge-to-total median 0.1 with
 * bulge Re 0.37 of the disk's and Sérsic n 1-4 (at B/T ~ 0.1 most bulges are pseudo-bulges with n < 2);
 * spheroids n 2-4.5 (the brightest ellipticals have higher n but flattened, cored centres); bulges and
 * star-forming knots resolved (Re >= 0.07", ~1 kpc clumps at z ~ 1): a normal galaxy carries no
 * unresolved component brighter than its nuclear cluster, which VIS would see as a point source; compact
 * galaxies 0.25-0.5 of the size law's Re at their magnitude; nuclear star clusters in 70% of hosts
 * with a median 0.4% of the light, rarely above 5%; stars 12% of sources; AGN and QSOs a few per cent.
 */
export const REALISTIC_POPULATION: PopulationRecipe = {
  name: 'realistic',
  mix: 'survey',
  classFractions: { galaxy: 0.85, agn: 0.025, qso: 0.005, star: 0.12 },
  gridFps: [0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1],
  agnFps: [0.02, 0.5],
  qsoFps: [0.5, 0.95],
  magnitude: { min: 19, max: 25, slope: 0.3 },
  hostFractions: { disk: 0.4, spiral: 0.15, spheroid: 0.2, compact: 0.05, irregular: 0.2 },
  size: { re20: 0.646, dexPerMag: -0.115, scatterDex: 0.25, spheroidScale: 0.7 },
  bulge: {
    diskToTotal: { law: 'lognormal', median: 0.1, dex: 0.4, min: 0.01, max: 0.8 },
    spiralToTotal: { law: 'lognormal', median: 0.1, dex: 0.4, min: 0.01, max: 0.6 },
    reRatio: { law: 'lognormal', median: 0.37, dex: 0.15, min: 0.15, max: 0.8 },
    minRe: 0.7,
    n: { law: 'uniform', min: 1, max: 4 },
  },
  knotRe: { law: 'loguniform', min: 0.7, max: 2 },
  spheroidN: { law: 'uniform', min: 2, max: 4.5 },
  compactRe: { law: 'loguniform', min: 0.25, max: 0.5, relative: true },
  nucleus: {
    probability: 0.7,
    fraction: { law: 'lognormal', median: 0.004, dex: 0.45, min: 0.0005, max: 0.05 },
    re: { law: 'loguniform', min: 0.1, max: 0.5 },
  },
};

/**
 * The harder population the project used until December 2026, kept as a stress test: 15% compact
 * bodies of Re 0.3-1.5 px (half of them unresolved) and 15% of hosts with a nuclear cluster holding
 * 3-30% of the light, i.e. many galaxies that VIS sees as point source plus host although their truth
 * says "normal galaxy"; bulge-to-total uniform up to 0.4-0.6.
 */
export const STRESS_POPULATION: PopulationRecipe = {
  name: 'stress',
  mix: 'survey',
  classFractions: { galaxy: 0.88, agn: 0.07, qso: 0.02, star: 0.03 },
  gridFps: [0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1],
  agnFps: [0.02, 0.5],
  qsoFps: [0.5, 0.95],
  magnitude: { min: 19, max: 25, slope: 0.3 },
  hostFractions: { disk: 0.38, spiral: 0.12, spheroid: 0.2, compact: 0.15, irregular: 0.15 },
  size: { re20: 0.6, dexPerMag: -0.08, scatterDex: 0.2, spheroidScale: 0.6 },
  bulge: {
    diskToTotal: { law: 'uniform', min: 0.05, max: 0.6 },
    spiralToTotal: { law: 'uniform', min: 0.05, max: 0.4 },
    reRatio: { law: 'uniform', min: 0.15, max: 0.5 },
    minRe: 0.3,
    n: { law: 'uniform', min: 2.5, max: 5 },
  },
  knotRe: { law: 'loguniform', min: 0.3, max: 1.5 },
  spheroidN: { law: 'uniform', min: 2.5, max: 6 },
  compactRe: { law: 'loguniform', min: 0.3, max: 1.5 },
  nucleus: { probability: 0.15, fraction: { law: 'uniform', min: 0.03, max: 0.3 }, re: { law: 'loguniform', min: 0.4, max: 1.2 } },
};

/**
 * A training prior, not a sky: the realistic population's physics (sizes, counts, classes, nuclei, and
 * no unresolved component but the nuclear cluster: bulges, knots and compact bodies stay resolved),
 * with the structure spread wider than any one survey measures it: bulge-to-total uniform up to 0.6,
 * bulges of n 1-5 and up to 0.6 of the disk's Re, spheroids n 1.5-6, twice the compact galaxies (up to
 * 0.6 of the size law's Re). A generator trained on the realistic population alone learned its bulges so
 * well that galaxies drawn by other rules (bulge + disk galaxies of B/T 0.1-0.5, the independent set
 * of bench:detect) came out with agn_z near 1 for a normal galaxy. Trained on this prior, the generator
 * was behind v4 everywhere (docs/model.md, "A broader training prior"); kept to reproduce that run.
 */
export const BROAD_POPULATION: PopulationRecipe = {
  ...REALISTIC_POPULATION,
  name: 'broad',
  hostFractions: { disk: 0.3, spiral: 0.12, spheroid: 0.25, compact: 0.1, irregular: 0.23 },
  bulge: {
    diskToTotal: { law: 'uniform', min: 0.01, max: 0.6 },
    spiralToTotal: { law: 'uniform', min: 0.01, max: 0.5 },
    reRatio: { law: 'uniform', min: 0.15, max: 0.6 },
    minRe: 0.7,
    n: { law: 'uniform', min: 1, max: 5 },
  },
  spheroidN: { law: 'uniform', min: 1.5, max: 6 },
  compactRe: { law: 'loguniform', min: 0.25, max: 0.6, relative: true },
};

export const POPULATIONS: Readonly<Record<string, PopulationRecipe>> = { realistic: REALISTIC_POPULATION, stress: STRESS_POPULATION, broad: BROAD_POPULATION };

export const DEFAULT_POPULATION = REALISTIC_POPULATION;

export interface HostSummary {
  readonly kind: HostKind;
  /** Half-light radius of the dominant (disk or body or spheroid) component, pixels. */
  readonly re: number;
  readonly n: number;
  readonly q: number;
  /** Radians. */
  readonly pa: number;
  /** Bulge-to-total flux ratio (0 without a bulge; 1 for a spheroid). */
  readonly bulgeToTotal: number;
  /** Fractions of the host flux in the nuclear star cluster and the knots. */
  readonly nucleusFraction: number;
  readonly knotFraction: number;
  readonly spiralArms: number;
}

export interface Source {
  readonly cls: SourceClass;
  readonly fps: number;
  /** Total I_E magnitude (host + point). */
  readonly mag: number;
  /** Fluxes in image units (MAGZERO 24.6). */
  readonly fluxHost: number;
  readonly fluxPoint: number;
  /** Host centre (= point position), frame pixels. */
  readonly x: number;
  readonly y: number;
  readonly host: HostSummary | undefined;
  readonly components: readonly Component[];
}

export function drawMagnitude(rng: Rng, law: MagnitudeLaw): number {
  if (law.slope === 0) return rng.between(law.min, law.max);
  const k = law.slope * Math.LN10;
  const a = exp(k * law.min);
  const b = exp(k * law.max);
  return log(a + (b - a) * rng.uniform()) / k;
}

export function classOf(fps: number): SourceClass {
  if (fps <= 0) return 'galaxy';
  if (fps >= 1) return 'star';
  return fps < 0.5 ? 'agn' : 'qso';
}

function drawFps(rng: Rng, recipe: PopulationRecipe, gridIndex: number | undefined): number {
  if (gridIndex !== undefined) return recipe.gridFps[gridIndex % recipe.gridFps.length]!;
  const cls = SOURCE_CLASSES[rng.pick(SOURCE_CLASSES.map((c) => recipe.classFractions[c]))]!;
  switch (cls) {
    case 'galaxy':
      return 0;
    case 'agn':
      return rng.logBetween(...recipe.agnFps);
    case 'qso':
      return rng.between(...recipe.qsoFps);
    case 'star':
      return 1;
  }
}

/** Axis ratio of a thin disk (intrinsic thickness 0.15) seen at a random inclination. */
function diskAxisRatio(rng: Rng): number {
  const cosI = rng.uniform();
  const q0 = 0.15;
  return max(0.1, sqrt(cosI * cosI * (1 - q0 * q0) + q0 * q0));
}

function medianDiskRe(recipe: PopulationRecipe, mag: number): number {
  const { re20, dexPerMag } = recipe.size;
  return (re20 * pow(10, dexPerMag * (mag - 20))) / PIXEL_SCALE_ARCSEC;
}

function lognormal(rng: Rng, median: number, dex: number): number {
  return median * pow(10, dex * rng.normal());
}

const DEG = Math.PI / 180;

function component(role: ComponentRole, flux: number, re: number, n: number, q: number, pa: number, extra: Partial<Component> = {}): Component {
  return { role, flux, re, n, q, pa, dx: 0, dy: 0, ...extra };
}

/**
 * Host components for a host of `flux` whose total magnitude (with any point source) is `mag`: size
 * follows the total light, as catalogues select on it.
 */
export function drawHost(rng: Rng, recipe: PopulationRecipe, mag: number, flux: number): { host: HostSummary; components: Component[] } {
  const kind = HOST_KINDS[rng.pick(HOST_KINDS.map((k) => recipe.hostFractions[k]))]!;
  const pa = rng.between(0, Math.PI);
  const diskRe = max(0.5, lognormal(rng, medianDiskRe(recipe, mag), recipe.size.scatterDex));
  const components: Component[] = [];
  let summary: Omit<HostSummary, 'nucleusFraction' | 'knotFraction'>;
  switch (kind) {
    case 'disk':
    case 'spiral': {
      const bt = drawLaw(rng, kind === 'spiral' ? recipe.bulge.spiralToTotal : recipe.bulge.diskToTotal);
      const q = diskAxisRatio(rng);
      const n = rng.between(0.7, 1.3);
      const spiral: SpiralArms | undefined =
        kind === 'spiral'
          ? { arms: rng.uniform() < 0.7 ? 2 : 3 + rng.int(2), pitch: rng.between(10, 30) * DEG, amplitude: rng.between(0.3, 0.7), phase: rng.between(0, 2 * Math.PI) }
          : undefined;
      components.push(component('disk', flux * (1 - bt), diskRe, n, q, pa, spiral ? { spiral } : {}));
      components.push(component('bulge', flux * bt, max(recipe.bulge.minRe, diskRe * drawLaw(rng, recipe.bulge.reRatio)), drawLaw(rng, recipe.bulge.n), rng.between(0.6, 1), pa + rng.normal() * 10 * DEG));
      summary = { kind, re: diskRe, n, q, pa, bulgeToTotal: bt, spiralArms: spiral?.arms ?? 0 };
      break;
    }
    case 'spheroid': {
      const re = max(0.4, diskRe * recipe.size.spheroidScale);
      const n = drawLaw(rng, recipe.spheroidN);
      const q = rng.between(0.5, 1);
      components.push(component('bulge', flux, re, n, q, pa));
      summary = { kind, re, n, q, pa, bulgeToTotal: 1, spiralArms: 0 };
      break;
    }
    case 'compact': {
      const drawn = drawLaw(rng, recipe.compactRe);
      const re = recipe.compactRe.relative ? max(0.5, drawn * medianDiskRe(recipe, mag)) : drawn;
      const n = rng.between(1, 4);
      const q = rng.between(0.5, 1);
      components.push(component('body', flux, re, n, q, pa));
      summary = { kind, re, n, q, pa, bulgeToTotal: 0, spiralArms: 0 };
      break;
    }
    case 'irregular': {
      const knotFraction = rng.between(0.15, 0.5);
      const q = rng.between(0.3, 1);
      const n = rng.between(0.5, 1);
      const re = diskRe * 1.1;
      components.push(component('body', flux * (1 - knotFraction), re, n, q, pa));
      const knots = 2 + rng.int(7);
      const weights = Array.from({ length: knots }, () => rng.logBetween(0.2, 1));
      const total = weights.reduce((a, b) => a + b, 0);
      const cosPa = cos(pa);
      const sinPa = sin(pa);
      for (const w of weights) {
        // Uniform over the deprojected disk out to 1.5 Re, then projected and rotated.
        const r = 1.5 * re * sqrt(rng.uniform());
        const t = rng.between(0, 2 * Math.PI);
        const u = r * cos(t);
        const v = r * q * sin(t);
        components.push(
          component('knot', (flux * knotFraction * w) / total, drawLaw(rng, recipe.knotRe), 0.5, rng.between(0.6, 1), rng.between(0, Math.PI), {
            dx: u * cosPa - v * sinPa,
            dy: u * sinPa + v * cosPa,
          }),
        );
      }
      return { host: { kind, re, n, q, pa, bulgeToTotal: 0, nucleusFraction: 0, knotFraction, spiralArms: 0 }, components };
    }
  }
  let nucleusFraction = 0;
  if (kind !== 'compact' && rng.uniform() < recipe.nucleus.probability) {
    nucleusFraction = drawLaw(rng, recipe.nucleus.fraction);
    for (const c of components.splice(0)) components.push({ ...c, flux: c.flux * (1 - nucleusFraction) });
    components.push(component('nucleus', flux * nucleusFraction, drawLaw(rng, recipe.nucleus.re), rng.between(0.5, 2), rng.between(0.7, 1), rng.between(0, Math.PI)));
  }
  return { host: { ...summary, nucleusFraction, knotFraction: 0 }, components };
}

/**
 * A source at frame position (x, y). `gridIndex` selects a grid f_PS (grid mix); otherwise the class
 * is drawn. `magnitude` overrides the recipe's law (faint field sources).
 */
export function drawSource(rng: Rng, recipe: PopulationRecipe, x: number, y: number, gridIndex?: number, magnitude: MagnitudeLaw = recipe.magnitude): Source {
  const fps = drawFps(rng, recipe, gridIndex);
  const mag = drawMagnitude(rng, magnitude);
  const total = magToFlux(mag);
  const fluxPoint = total * fps;
  const fluxHost = total - fluxPoint;
  const { host, components } = fps < 1 ? drawHost(rng, recipe, mag, fluxHost) : { host: undefined, components: [] };
  return { cls: classOf(fps), fps, mag, fluxHost, fluxPoint, x, y, host, components };
}
