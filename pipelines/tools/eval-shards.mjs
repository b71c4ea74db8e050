#!/usr/bin/env node
/**
 * Ranking power of a model and score on held-out simulated shards with truth, before any significance
 * calibration: raw z of normal galaxies (and the card's calibrated agn_z: P(agn_z > 3)), completeness at the galaxies' 99th percentile (1% false
 * positives) per true f_PS (grid mixes: per grid value, stars included), ROC AUC of f_PS >= 0.2
 * against normal galaxies, f_PS accuracy over 0.1-0.8, and the pulls of ps_flux in units of ps_flux_err. How docs/model.md compares training
 * variants and scores. Needs `npm run build`. Prints a table and writes JSON with OUT=file.
 *
 *   CARD=models/default/card.json SHARDS=sims/grid-r24 N=10000 JOINT=1 node pipelines/tools/eval-shards.mjs
 *
 * SAMPLES and STEPS default to the card's sampler (samples, Heun steps).
 * SHARDS: e.g. `vis-agn simulate shards --n 10000 --seed 24 --stamp 72 --mix grid
 *   --fps 0,0,0,0.05,0.1,0.2,0.3,0.5,0.8,1 --population realistic --out sims/grid-r24`.
 */
import { writeFileSync } from 'node:fs';
import { CoreGenerator } from '../../dist/model/generator.js';
import { readShards } from '../../dist/sim/read-shards.js';
import { scoreShards } from '../../dist/detect/shards.js';
import { MAGZERO, MER_RMS_TO_SIGMA, magToFlux } from '../../dist/ground/vis.js';
import { madSigma, median } from '../../dist/ground/stats.js';

const card = process.env.CARD ?? new URL('../../models/default/card.json', import.meta.url).pathname;
const dir = process.env.SHARDS ?? 'sims/grid-r24';
const jointFit = process.env.JOINT === undefined ? undefined : process.env.JOINT === '1';
const g = await CoreGenerator.load(card, { device: 'cpu', threads: Number(process.env.THREADS ?? 2) });
const samples = Number(process.env.SAMPLES ?? g.loaded.card.sampler.samples);
const steps = Number(process.env.STEPS ?? g.loaded.card.sampler.steps);
const shards = readShards(dir);
const N = Math.min(Number(process.env.N ?? shards.truth.length), shards.truth.length);
const t0 = performance.now();
const scored = await scoreShards(
  g,
  shards,
  { sampling: { samples, solver: { steps, method: 'heun' }, seed: 1, jointFit }, calibration: g.loaded.card.significance ?? { offset: 0, scale: 1 }, rmsToSigma: MER_RMS_TO_SIGMA },
  Array.from({ length: N }, (_, i) => i),
);
const seconds = (performance.now() - t0) / 1000;
const cardJointFit = g.jointFit;
await g.release();

// SCORE=agnZ ranks by the card's calibrated agn_z (which differs from raw z in order where the card calibrates per magnitude);
// SCORE=combinedZ or morphZ by the selection score or its morphology test alone.
const SCORES = { z: 'raw z', agnZ: 'agn_z', combinedZ: 'combined_z', morphZ: 'morph_z' };
const rankBy = process.env.SCORE ?? 'z';
if (!(rankBy in SCORES)) throw new Error(`SCORE must be one of ${Object.keys(SCORES).join(', ')}, got ${rankBy}`);
const rows = scored.filter((r) => r.scores).map((r) => ({ fps: r.truth.fps, mag: r.truth.mag, measuredMag: r.prepared.totalFlux > 0 ? MAGZERO - 2.5 * Math.log10(r.prepared.totalFlux) : null, z: r.scores[rankBy], rawZ: r.scores.z, agnZ: r.scores.agnZ, spread: r.scores.spreadModel, morphZ: r.scores.morphZ, combinedZ: r.scores.combinedZ, fpsEst: r.scores.fPs, fpsErr: r.scores.fPsErr, fpsGenerative: r.scores.fPsGenerative, psFlux: r.scores.psFlux, psFluxErr: r.scores.psFluxErr, chi2: r.scores.chi2, matchedZ: r.scores.matchedZ, studentisedZ: r.scores.studentisedZ }));
if (process.env.ROWS) writeFileSync(process.env.ROWS, JSON.stringify(rows));
const quantile = (sorted, p) => sorted[Math.floor(p * (sorted.length - 1))];
const galaxies = rows.filter((r) => r.fps === 0);
const galZ = galaxies.map((r) => r.z).sort((a, b) => a - b);
const threshold = quantile(galZ, 0.99);
const mean = galZ.reduce((a, b) => a + b, 0) / galZ.length;
const sd = Math.sqrt(galZ.reduce((a, b) => a + (b - mean) ** 2, 0) / galZ.length);
const bins = [...new Set(rows.map((r) => r.fps).filter((f) => f > 0))].sort((a, b) => a - b);
const gridded = bins.length <= 12;
const completeness = (gridded ? bins.map((f) => [f, f]) : [[0.01, 0.07], [0.07, 0.15], [0.15, 0.3], [0.3, 0.6], [0.6, 0.999], [1, 1]]).map(([lo, hi]) => {
  const sel = rows.filter((r) => r.fps >= lo && r.fps <= hi);
  return { fps: lo === hi ? lo : `${lo}-${hi}`, n: sel.length, completeness: sel.filter((r) => r.z > threshold).length / Math.max(1, sel.length) };
});
/** Mann-Whitney AUC of positives against galaxies. */
function auc(positives) {
  const all = [...galZ.map((z) => ({ z, p: 0 })), ...positives.map((z) => ({ z, p: 1 }))].sort((a, b) => a.z - b.z);
  let rankSum = 0;
  all.forEach((e, i) => (rankSum += e.p ? i + 1 : 0));
  const np = positives.length;
  return (rankSum - (np * (np + 1)) / 2) / (np * galZ.length);
}
const magBins = [[19, 21], [21, 22], [22, 23], [23, 24], [24, 25]];
const byMagnitude = magBins.map(([lo, hi]) => {
  const inBin = (r) => r.mag >= lo && r.mag < hi;
  const z = rows.filter((r) => r.fps === 0 && inBin(r)).map((r) => r.z).sort((a, b) => a - b);
  const sel = rows.filter((r) => r.fps === 0.2 && inBin(r));
  const stars = rows.filter((r) => r.fps === 1 && inBin(r));
  return {
    mag: `${lo}-${hi}`,
    galaxies: z.length,
    galaxyQ99: z.length ? quantile(z, 0.99) : null,
    completenessFps02: sel.filter((r) => r.z > threshold).length / Math.max(1, sel.length),
    n: sel.length,
    starCompleteness: stars.filter((r) => r.z > threshold).length / Math.max(1, stars.length),
    stars: stars.length,
    starMedianZ: stars.length ? quantile(stars.map((r) => r.z).sort((a, b) => a - b), 0.5) : null,
  };
});
const aucBright = auc(rows.filter((r) => r.fps >= 0.2 && r.fps < 1).map((r) => r.z));
const measured = rows.filter((r) => r.fps >= 0.1 && r.fps <= 0.8 && r.fpsEst !== null);
const errors = measured.map((r) => r.fpsEst - r.fps).sort((a, b) => a - b);
const rmse = Math.sqrt(errors.reduce((a, e) => a + e * e, 0) / Math.max(1, errors.length));
// ps_flux against the true point flux in units of ps_flux_err, per class and magnitude: robust width and median.
const pullsOf = (cls, lo, hi) => {
  const sel = rows.filter((r) => r.mag >= lo && r.mag < hi && r.psFluxErr > 0 && (cls === 'galaxies' ? r.fps === 0 : cls === 'stars' ? r.fps === 1 : r.fps > 0 && r.fps < 1));
  const pulls = sel.map((r) => (r.psFlux - r.fps * magToFlux(r.mag)) / r.psFluxErr);
  return pulls.length < 10 ? null : { n: pulls.length, width: madSigma(pulls), median: median(pulls) };
};
const psFluxPulls = Object.fromEntries(['galaxies', 'agn', 'stars'].map((cls) => [cls, magBins.map(([lo, hi]) => ({ mag: `${lo}-${hi}`, ...pullsOf(cls, lo, hi) }))]));
const result = {
  card,
  shards: dir,
  jointFit: jointFit ?? cardJointFit,
  samples,
  steps,
  stamps: scored.length,
  seconds,
  galaxies: { n: galZ.length, mean, sd, q99: threshold, pRawAbove3: galZ.filter((z) => z > 3).length / galZ.length, pAgnZAbove3: galaxies.filter((r) => r.agnZ > 3).length / galaxies.length, pCombinedZAbove3: galaxies.filter((r) => r.combinedZ > 3).length / galaxies.length },
  calibrated: g.loaded.card.significance !== undefined,
  completenessAt1pctFpr: completeness,
  completenessFps02ByMagnitude: byMagnitude,
  aucFps02: aucBright,
  fpsRmse01to08: rmse,
  fpsMedianBias01to08: quantile(errors, 0.5),
  psFluxPulls,
};
console.log(`${card} on ${dir} (${scored.length} stamps, ${seconds.toFixed(1)} s, joint fit ${result.jointFit ? 'on' : 'off'}, S ${samples}, K ${steps}, ranked by ${SCORES[rankBy]})`);
console.log(`galaxies n ${galZ.length}: z mean ${mean.toFixed(3)} sd ${sd.toFixed(3)} q99 ${threshold.toFixed(2)} raw P(z>3) ${result.galaxies.pRawAbove3.toFixed(4)}; calibrated agn_z ${result.calibrated ? '' : '(card uncalibrated) '}P(agn_z>3) ${result.galaxies.pAgnZAbove3.toFixed(4)}, P(combined_z>3) ${result.galaxies.pCombinedZAbove3.toFixed(4)}`);
console.log('completeness at 1% FPR: ' + completeness.map((c) => `${c.fps}: ${(100 * c.completeness).toFixed(1)}% (n ${c.n})`).join(', '));
console.log('f_PS 0.2 by magnitude: ' + byMagnitude.map((b) => `${b.mag}: ${(100 * b.completenessFps02).toFixed(1)}% (n ${b.n})`).join(', '));
console.log('stars by magnitude: ' + byMagnitude.map((b) => `${b.mag}: ${(100 * b.starCompleteness).toFixed(1)}% (n ${b.stars}, median z ${b.starMedianZ?.toFixed(1)}; galaxy q99 ${b.galaxyQ99?.toFixed(2)})`).join(', '));
console.log(`AUC(f_PS >= 0.2, hosts) ${aucBright?.toFixed(4)}; f_PS RMSE 0.1-0.8 ${rmse.toFixed(4)}, median bias ${result.fpsMedianBias01to08?.toFixed(4)}`);
for (const [cls, perMag] of Object.entries(psFluxPulls)) {
  console.log(`ps_flux pulls, ${cls}: ` + perMag.map((b) => `${b.mag}: ${b.n === undefined ? '-' : `width ${b.width.toFixed(2)} median ${b.median.toFixed(2)} (n ${b.n})`}`).join(', '));
}
if (process.env.OUT) writeFileSync(process.env.OUT, JSON.stringify(result, null, 1) + '\n');
