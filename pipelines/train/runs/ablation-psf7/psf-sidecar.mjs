// Writes DIR/psf7.f32 beside simulated shards: for each stamp (by truth index) the central 7x7 of the Q1 PSF stamp it was rendered with (unit sum over the whole stamp), float32 little-endian. Run from the repository root after npm run build: node pipelines/train/runs/ablation-psf7/psf-sidecar.mjs sims/train
import { readFileSync, writeFileSync } from 'node:fs';
import { tableFromIPC } from 'apache-arrow';
import { q1Psfs } from '../../../../dist/ground/psf.js';
const dir = process.argv[2]; const side = 7;
const m = JSON.parse(readFileSync(`${dir}/manifest.json`, 'utf8'));
const t = tableFromIPC(readFileSync(`${dir}/${m.truth.path}`));
const names = t.getChild('psf'); const index = t.getChild('index');
const psfs = new Map(q1Psfs().map((p) => [p.name, p]));
const centre = (p) => { const n = p.size, c = (n - 1) / 2, h = (side - 1) / 2, out = new Float32Array(side * side);
  for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) out[y * side + x] = p.data[(c - h + y) * n + (c - h + x)]; return out; };
const cache = new Map();
const out = new Float32Array(m.count * side * side);
for (let i = 0; i < t.numRows; i++) {
  const name = names.get(i); if (!cache.has(name)) cache.set(name, centre(psfs.get(name)));
  out.set(cache.get(name), Number(index.get(i)) * side * side);
}
writeFileSync(`${dir}/psf${side}.f32`, Buffer.from(out.buffer));
console.log(dir, t.numRows, 'rows,', cache.size, 'PSFs');
