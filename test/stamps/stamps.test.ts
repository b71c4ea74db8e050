import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';

import { trainModel } from '../../src/stamps/train.js';
import { readTableColumns } from '../../src/ground/table.js';
import { EXIT_CODES } from '../../src/errors.js';
import { readCard } from '../../src/model/card.js';
import { simulateCutouts } from '../../src/sim/cutouts.js';
import { simulateTile } from '../../src/sim/mosaic.js';
import type { StampsManifest } from '../../src/stamps/write.js';
import { runCli } from '../helpers/cli.js';
import { describeIf, hasTorch, repoRoot } from '../helpers/shared.js';

const cli = path.join(repoRoot, 'dist', 'cli', 'index.js');


const readManifest = (dir: string): StampsManifest => JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as StampsManifest;

/** Every file of a stamps folder by name, as bytes. */
function folderBytes(dir: string): Map<string, Buffer> {
  return new Map(readdirSync(dir).sort().map((name) => [name, readFileSync(path.join(dir, name))]));
}

describe('vis-agn stamps', () => {
  let dir: string;
  let tileArgs: string[];
  let pointLike: Set<string>;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vis-agn-stamps-'));
    const tile = await simulateTile({ seed: 4, out: path.join(dir, 'tile'), size: 1024, workers: 1 });
    // A catalogue as a survey gives it, with a point-like probability and a blend flag to select on.
    const truth = await readTableColumns(tile.truth, () => ({ id: 'object_id', ra: 'right_ascension', dec: 'declination', flux: 'flux_total', cls: 'class', near: 'n_neighbours' }));
    const c = truth.columns;
    const lines = ['object_id,right_ascension,declination,flux_detection_total,point_like_prob,blended'];
    pointLike = new Set();
    c.id!.forEach((id, i) => {
      const point = c.cls![i] === 'star' || c.cls![i] === 'qso';
      if (point) pointLike.add(String(id));
      lines.push(`${id},${c.ra![i]},${c.dec![i]},${c.flux![i]},${point ? 0.95 : 0.05},${i % 17 === 3 ? 1 : 0}`);
    });
    writeFileSync(path.join(dir, 'catalogue.csv'), `${lines.join('\n')}\n`);
    tileArgs = ['stamps', '--tile', tile.image, '--rms', tile.rms, '--catalog', path.join(dir, 'catalogue.csv'), '--exclude', 'point_like_prob>0.5', '--quiet'];
  }, 60_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('from a tile and catalogue: the selection rules, counts, ids and arrays in the manifest agree', async () => {
    const out = path.join(dir, 'tile-stamps');
    const result = await runCli([...tileArgs, '--out', out, '--shard-size', '25']);
    expect(result.code).toBe(EXIT_CODES.ok);
    const m = readManifest(out);
    expect(m).toMatchObject({ schema: 'vis-agn/stamps/1', labels: 'none', truth: null, stamp: { width: 72, height: 72 } });
    expect(m.selection).toMatchObject({ magnitude: [19, 25], magnitudeFrom: { kind: 'flux', column: 'flux_detection_total' }, blend: { column: 'blended', bits: null }, exclude: [{ column: 'point_like_prob', op: '>', value: 0.5 }] });
    const rejected = Object.values(m.counts.rejected).reduce((a, b) => a + b, 0);
    expect(m.counts.kept + rejected).toBe(m.counts.candidates);
    // The simulated tile puts sources near its edges, and the catalogue marks point sources and blends.
    expect(m.counts.rejected.edge).toBeGreaterThan(0);
    expect(m.counts.rejected.excluded).toBeGreaterThan(0);
    expect(m.counts.rejected.blended).toBeGreaterThan(0);
    const ids = m.shards.flatMap((s) => s.objectIds);
    expect(ids).toHaveLength(m.count);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => pointLike.has(id))).toEqual([]);
    expect(m.files.some((f) => (f.kind as string) === 'point')).toBe(false);
    let first = 0;
    for (const f of m.files.filter((x) => x.kind === 'image')) {
      expect(f.first).toBe(first);
      expect(readFileSync(path.join(out, f.path)).length).toBe(f.shape[0]! * 72 * 72 * 4);
      first += f.shape[0]!;
    }
    expect(first).toBe(m.count);
    const sigma = m.files.filter((f) => f.kind === 'sigma').flatMap((f) => {
      const bytes = readFileSync(path.join(out, f.path));
      return [...new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4)];
    });
    expect(sigma.every((s) => s > 0 && s < 0.01)).toBe(true);
    // A rerun of a complete folder changes nothing; other settings are refused.
    const before = folderBytes(out);
    expect((await runCli([...tileArgs, '--out', out, '--shard-size', '25'])).code).toBe(EXIT_CODES.ok);
    expect(folderBytes(out)).toEqual(before);
    const other = await runCli([...tileArgs, '--out', out, '--shard-size', '25', '--mag', '20,24']);
    expect(other.code).toBe(EXIT_CODES.usage);
    expect(other.stderr).toMatch(/other inputs or selection/);
  }, 60_000);

  test('killed with SIGKILL after its first shard and rerun, the folder equals an uninterrupted one, each source once', async () => {
    const clean = path.join(dir, 'clean');
    expect((await runCli([...tileArgs, '--out', clean, '--shard-size', '4'])).code).toBe(EXIT_CODES.ok);
    const killed = path.join(dir, 'killed');
    const child = spawn(process.execPath, [cli, ...tileArgs, '--out', killed, '--shard-size', '4'], { stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !existsSync(path.join(killed, 'shard-00000.json'))) await new Promise((resolve) => setTimeout(resolve, 5));
    child.kill('SIGKILL');
    await exited;
    expect(existsSync(path.join(killed, 'manifest.json'))).toBe(false);
    expect((await runCli([...tileArgs, '--out', killed, '--shard-size', '4'])).code).toBe(EXIT_CODES.ok);
    // No temporary is left, and every shard, record and the manifest match byte for byte (paths are the same inputs).
    expect(folderBytes(killed)).toEqual(folderBytes(clean));
    const ids = readManifest(killed).shards.flatMap((s) => s.objectIds);
    expect(new Set(ids).size).toBe(ids.length);
  }, 120_000);

  test('from a cutout folder: Kron magnitudes and pixel rules; --exclude needs a catalogue', async () => {
    await simulateCutouts({ count: 40, seed: 9, out: path.join(dir, 'sims'), workers: 1 });
    const out = path.join(dir, 'cutout-stamps');
    // Several shards, so that two training ranks each have their own.
    const result = await runCli(['stamps', path.join(dir, 'sims', 'cutouts'), '--out', out, '--shard-size', '10', '--quiet']);
    expect(result.code).toBe(EXIT_CODES.ok);
    expect(result.stdout).toMatch(/stamps: \d+ of 40 sources kept/);
    const m = readManifest(out);
    expect(m.selection.magnitudeFrom).toEqual({ kind: 'kron' });
    expect(m.count).toBeGreaterThan(30);
    expect(m.source).toMatchObject({ kind: 'cutouts' });
    expect((await runCli(['stamps', path.join(dir, 'sims', 'cutouts'), '--out', path.join(dir, 'x'), '--exclude', 'p>1'])).code).toBe(EXIT_CODES.usage);
  }, 60_000);

  describeIf(hasTorch(), 'Debian python3-torch and python3-onnx are not installed', 'the trainer on observed stamps', () => {
    test('vis-agn train --stamps trains label-free on 2 ranks and records the manifest; --target galaxies is refused', async () => {
      const stamps = path.join(dir, 'cutout-stamps');
      const out = path.join(dir, 'model');
      const parity = await trainModel({ quick: true, out, data: dir, n: '0', valN: '0', seed: '1', stamps, procs: '2', extra: ['--threads', '1'] });
      expect(parity.ok).toBe(true);
      const training = readCard(path.join(out, 'card.json')).card.training as Record<string, unknown> & { data: Record<string, unknown> };
      const manifest = path.join(stamps, 'manifest.json');
      expect(training).toMatchObject({ target: 'observed', world_size: 2, quick: true });
      expect(training.data).toMatchObject({ manifest: path.resolve(manifest), labels: 'none', schema: 'vis-agn/stamps/1' });
      expect(training.data.manifest_sha256).toBe(execFileSync('sha256sum', [manifest], { encoding: 'utf8' }).split(' ')[0]);
      expect(training.data.selection).toEqual(readManifest(stamps).selection);

      const refused = spawnSync('/usr/bin/python3', [path.join(repoRoot, 'pipelines', 'train', 'train.py'), '--shards', stamps, '--out', path.join(dir, 'no'), '--quick', '--target', 'galaxies'], { encoding: 'utf8' });
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toMatch(/observed stamps carry no truth.*--target galaxies.*--target observed/s);
      expect(existsSync(path.join(dir, 'no', 'card.json'))).toBe(false);
    }, 180_000);
  });
});
