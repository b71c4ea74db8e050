#!/usr/bin/env node
/**
 * Ranking power of a model on held-out simulated shards with truth, before any significance
 * calibration: raw z of normal galaxies (mean, sd, quantiles, per magnitude), completeness per f_PS at
 * the galaxies' 99th percentile (1% false positives), f_ps accuracy. How docs/model.md compares
 * training variants (v2 against the 7x7 mask and the hidden 9x9 box). Needs `npm run build`.
 *
 *   CARD=models/default/card.json SHARDS=sims/test-seed23 N=3000 node pipelines/tools/eval-shards.mjs
 *
 * SHARDS: `vis-agn simulate shards --n 6000 --seed 23 --stamp 72 --out sims/test-seed23`.
 */
import { CoreGenerator } from '../../dist/model/generator.js';
import { readShards } from '../../dist/sim/read-shards.js';
import { scoreShards } from '../../dist/score/shards.js';
import { MER_RMS_TO_SIGMA } from '../../dist/score/prepare.js';
const card = process.env.CARD ?? new URL('../../models/default/card.json', import.meta.url).pathname;
const dir = process.env.SHARDS ?? 'sims/test-seed23';
const N = Number(process.env.N ?? 3000);
const g = await CoreGenerator.load(card, { device: 'cpu', threads: 2 });
const shards = readShards(dir);
const t0 = performance.now();
const res = await scoreShards(g, shards, { sampling: { samples: 16, solver: { steps: 4, method: 'heun' }, seed: 1 }, calibration: { offset: 0, scale: 1 }, rmsToSigma: MER_RMS_TO_SIGMA }, Array.from({ length: N }, (_, i) => i));
console.log('scored', res.length, 'in', ((performance.now() - t0) / 1000).toFixed(1), 's');
await g.release();
const rows = res.filter((r) => r.scores).map((r) => ({ cls: r.truth.cls, fps: r.truth.fps, mag: r.truth.mag, z: r.scores.z, fpsEst: r.scores.fPs }));
const gal = rows.filter((r) => r.cls === 'galaxy').map((r) => r.z).sort((a, b) => a - b);
const q = (a, p) => a[Math.floor(p * (a.length - 1))];
const mean = gal.reduce((a, b) => a + b, 0) / gal.length, sd = Math.sqrt(gal.reduce((a, b) => a + (b - mean) ** 2, 0) / gal.length);
console.log('galaxies', gal.length, 'z mean', mean.toFixed(3), 'sd', sd.toFixed(3), 'median', q(gal, 0.5).toFixed(3), 'q16', q(gal, 0.16).toFixed(2), 'q84', q(gal, 0.84).toFixed(2), 'q99', q(gal, 0.99).toFixed(2), 'q99.9', q(gal, 0.999).toFixed(2), 'P(z>3)', (gal.filter((z) => z > 3).length / gal.length).toFixed(4));
const thr = q(gal, 0.99);
for (const [lo, hi] of [[0.01, 0.07], [0.07, 0.15], [0.15, 0.3], [0.3, 0.6], [0.6, 1.01]]) {
  const sel = rows.filter((r) => r.cls !== 'galaxy' && r.cls !== 'star' && r.fps >= lo && r.fps < hi);
  console.log(`f_ps ${lo}-${hi}: n=${sel.length} completeness at 1% FPR ${(sel.filter((r) => r.z > thr).length / Math.max(1, sel.length)).toFixed(3)}`);
}
const nonstar = rows.filter((r) => r.cls !== 'star' && r.fpsEst !== null);
const rmse = Math.sqrt(nonstar.reduce((a, r) => a + (r.fpsEst - r.fps) ** 2, 0) / nonstar.length);
const agn = nonstar.filter((r) => r.fps > 0);
const rmseAgn = Math.sqrt(agn.reduce((a, r) => a + (r.fpsEst - r.fps) ** 2, 0) / agn.length);
const medBias = agn.map((r) => r.fpsEst - r.fps).sort((a, b) => a - b)[Math.floor(agn.length / 2)];
console.log('f_ps RMSE all non-star', rmse.toFixed(4), 'AGN/QSO', rmseAgn.toFixed(4), 'median bias AGN', medBias.toFixed(4));
{
  const score = (r) => r.fpsEst ?? -Infinity;
  const galf = rows.filter((r) => r.cls === 'galaxy').map(score).sort((a, b) => a - b);
  const t = q(galf, 0.99);
  console.log('ranking by f_ps estimate: galaxy q50', q(galf, 0.5).toFixed(3), 'q99', t.toFixed(3));
  for (const [lo, hi] of [[0.01, 0.07], [0.07, 0.15], [0.15, 0.3], [0.3, 0.6], [0.6, 1.01]]) {
    const sel = rows.filter((r) => r.cls !== 'galaxy' && r.cls !== 'star' && r.fps >= lo && r.fps < hi);
    console.log(`  f_ps ${lo}-${hi}: completeness at 1% FPR ${(sel.filter((r) => score(r) > t).length / Math.max(1, sel.length)).toFixed(3)}`);
  }
  const zmag = rows.filter((r) => r.cls === 'galaxy');
  for (const [lo, hi] of [[19, 21], [21, 23], [23, 24], [24, 25.5]]) {
    const g = zmag.filter((r) => r.mag >= lo && r.mag < hi).map((r) => r.z).sort((a, b) => a - b);
    console.log(`  galaxies mag ${lo}-${hi}: n ${g.length} z median ${q(g, 0.5).toFixed(2)} q84 ${q(g, 0.84).toFixed(2)} q99 ${q(g, 0.99).toFixed(2)}`);
  }
}
