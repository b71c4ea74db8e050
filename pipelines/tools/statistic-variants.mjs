#!/usr/bin/env node
/**
 * Tries variants of the generative statistic on regenerations saved by `dump-regenerations.mjs`: each
 * variant's agn_z, morph_z and combined_z maps are fitted on the calibration set's galaxies with the
 * project's own fitting functions (as `vis-agn calibrate` fits them, 2,000 galaxies per magnitude bin),
 * then every test set's completeness at its own 1% false positives (the 99th percentile of its normal
 * galaxies) is printed per f_PS value. How docs/detection.md chose the studentised matched filter.
 *
 *   DUMPS=dumps CAL=cal-r25 TESTS=grid-r37,grid-r38 VARIANTS='{"matched":{"statistic":"matched"},"t":{}}' \
 *     node pipelines/tools/statistic-variants.mjs
 *
 * A variant is an object of these keys (absent: the default card's choice):
 *   statistic    'studentised' (default) or 'matched' (the unstudentised matched filter)
 *   k, cap       the studentised scale's prior weight (0.1) and bound L (3; null: unbounded)
 *   noiseScale   multiple of the pixel variance added to the regenerations' covariance (1)
 *   shot         multiple of the shot noise of the light the regenerations leave unexplained added to it
 *   penalty      instead of dividing, subtract penalty * (sqrt(chi2 - m^2) - sqrt(P - 1)) from m
 *   misfit, floor  subtract (misfit * m)^2 from the orthogonal chi2 and hold the squared scale >= floor
 *   misfitDof    add (misfitDof * m)^2 to the scale's degrees of freedom
 *   samples      use the first this many regenerations only
 *   nucleus      the null allows a nucleus of this fraction of the source's (Kron) light: the matched
 *                filter less nucleus x flux x matchedZPerFlux, then studentised
 *   faintLimit   the generative faint limit of combined_z (24)
 *   morphologyMargin  combined_z from max(agn_z, morph_z - margin)
 * KEYS=c,a prints combined_z (c) and agn_z (a).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fitScoreCalibration, fitSignificanceByMagnitude } from '../../dist/detect/calibrate.js';
import { applySignificanceCalibration, generativeRawZ, morphologyRawZ } from '../../dist/detect/detect.js';
import { scoreCore } from '../../dist/detect/core-scores.js';
import { MAGZERO, MER_RMS_TO_SIGMA, MER_VIS_GAIN } from '../../dist/ground/vis.js';

const dumps = process.env.DUMPS ?? 'dumps';
const PER_BIN = 2000;
const FPS_VALUES = [0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1];

function load(name) {
  const { samples: S, pixels: P, meta } = JSON.parse(readFileSync(path.join(dumps, `${name}.meta.json`), 'utf8'));
  const floats = (kind) => {
    const bytes = readFileSync(path.join(dumps, `${name}.${kind}.f32`));
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  };
  return { S, P, meta, samples: floats('samples'), observed: floats('obs'), weights: floats('w') };
}

/**
 * The raw generative statistic of stamp `i` of `set` under variant `v`, from the pipeline's own
 * scoreCore (chi2_core, the matched filter m and the studentised t it returns): a variant changes only
 * what it names.
 */
function statistic(set, i, v) {
  const { P } = set;
  const sigma = set.meta[i].sigma * Math.sqrt(v.noiseScale ?? 1);
  const observed = set.observed.subarray(i * P, (i + 1) * P);
  const pixelSigma = new Float64Array(P).fill(sigma);
  if (v.shot !== undefined) {
    // The shot noise of the light the regenerations do not explain: in a MER mosaic its per-pixel variance is (rms_to_sigma)^2 x excess / gain.
    const S = v.samples ?? set.S;
    for (let p = 0; p < P; p++) {
      let mean = 0;
      for (let s = 0; s < S; s++) mean += set.samples[i * set.S * P + s * P + p] / S;
      pixelSigma[p] = Math.sqrt(sigma * sigma + v.shot * MER_RMS_TO_SIGMA ** 2 * Math.max(0, observed[p] - mean) / MER_VIS_GAIN);
    }
  }
  const scores = scoreCore(observed, set.samples, v.samples ?? set.S, set.weights.subarray(i * P, (i + 1) * P), pixelSigma, i * set.S * P);
  if (v.nucleus !== undefined) {
    const flux = Number.isFinite(set.meta[i].kmag) ? 10 ** (-0.4 * (set.meta[i].kmag - MAGZERO)) : 0;
    return generativeRawZ(scores, set.S, v.statistic === 'matched' ? 'matched_filter' : 'studentised_matched_filter', v.nucleus, flux);
  }
  const m = scores.matchedZ;
  if (v.statistic === 'matched') return m;
  const orthogonal = Math.max(0, scores.chi2 - m * m);
  if (v.penalty !== undefined) return m - v.penalty * (Math.sqrt(orthogonal) - Math.sqrt(P - 1));
  if (v.k === undefined && v.cap === undefined && v.misfit === undefined && v.misfitDof === undefined) return scores.studentisedZ;
  const k = v.k ?? 0.1;
  if (v.misfit !== undefined) return m / Math.sqrt(Math.max(v.floor ?? 0.25, (orthogonal - (v.misfit * m) ** 2 + k * (P - 1)) / ((1 + k) * (P - 1))));
  const scale = Math.sqrt((orthogonal + k * (P - 1)) / ((1 + k) * (P - 1) + ((v.misfitDof ?? 0) * m) ** 2));
  const cap = v.cap === undefined ? 3 : v.cap === null ? Number.POSITIVE_INFINITY : v.cap;
  return m / Math.min(cap, scale);
}

const combinedRaw = (v) => (agnZ, morphZ, magnitude) => (magnitude >= (v.faintLimit ?? 24) ? morphZ : Math.max(agnZ, morphZ - (v.morphologyMargin ?? 0)));

const calibration = load(process.env.CAL ?? 'cal-r25');
const tests = (process.env.TESTS ?? '').split(',').filter(Boolean).map((name) => [name, load(name)]);
const variants = JSON.parse(process.env.VARIANTS ?? '{"default":{}}');
const keys = (process.env.KEYS ?? 'c').split(',');
for (const [name, v] of Object.entries(variants)) {
  const combine = combinedRaw(v);
  const galaxies = calibration.meta.map((m, i) => ({ z: statistic(calibration, i, v), spread: m.spread, magnitude: m.kmag ?? Number.NaN }));
  const { generative, morphology } = fitScoreCalibration(galaxies, PER_BIN, v.faintLimit ?? 24);
  const agnOf = (z, magnitude) => applySignificanceCalibration(z, generative, magnitude);
  const morphOf = (spread, magnitude) => applySignificanceCalibration(morphologyRawZ(spread), morphology, magnitude);
  const combined = fitSignificanceByMagnitude(
    galaxies.filter((g) => Number.isFinite(g.spread)).map((g) => ({ z: combine(agnOf(g.z, g.magnitude), morphOf(g.spread, g.magnitude), g.magnitude), magnitude: g.magnitude })),
    PER_BIN,
  );
  const line = tests.flatMap(([testName, set]) => {
    const rows = set.meta.map((m, i) => {
      const magnitude = m.kmag ?? Number.NaN;
      const a = agnOf(statistic(set, i, v), magnitude);
      return { fps: m.fps, a, c: applySignificanceCalibration(combine(a, morphOf(m.spread, magnitude), magnitude), combined, magnitude) };
    });
    return keys.map((key) => {
      const galaxyScores = rows.filter((r) => r.fps === 0).map((r) => r[key]).sort((x, y) => x - y);
      const threshold = galaxyScores[Math.floor(0.99 * (galaxyScores.length - 1))];
      const completeness = FPS_VALUES.map((f) => {
        const sources = rows.filter((r) => r.fps === f);
        return ((100 * sources.filter((r) => r[key] > threshold).length) / Math.max(1, sources.length)).toFixed(1);
      });
      return `${testName}.${key} ${completeness.join('/')}`;
    });
  });
  process.stdout.write(`${name.padEnd(12)} ${line.join('  ')}\n`);
}
