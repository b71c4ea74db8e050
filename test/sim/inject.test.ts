import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { describe, expect, test } from '@jest/globals';

import { injectPointSource, pointFluxFor } from '../../src/sim/inject.js';
import { simulateCutouts } from '../../src/sim/cutouts.js';
import { defaultVisPsf } from '../../src/ground/psf.js';
import { runCli } from '../helpers/cli.js';

describe('injectPointSource', () => {
  const side = 72;
  const psf = defaultVisPsf();
  const draw = { seed: 3, objectId: 123456789012345678n, index: 0 };

  test('f_PS is the point flux over host plus point', () => {
    expect(pointFluxFor(0.2, 8)).toBeCloseTo(2, 12);
    expect(pointFluxFor(0, 8)).toBe(0);
    expect(() => pointFluxFor(1, 8)).toThrow(RangeError);
  });

  test('adds the point flux through the PSF at the centre, with shot noise, reproducibly', () => {
    const empty = new Float32Array(side * side);
    const { pixels, injection } = injectPointSource(empty, side, psf, 4, 0.5, draw);
    expect(injection.flux).toBeCloseTo(4, 10);
    expect(Math.abs(injection.dx)).toBeLessThanOrEqual(0.5);
    const total = pixels.reduce((a, b) => a + b, 0);
    expect(Math.abs(total - 4) / 4).toBeLessThan(0.01);
    const peak = pixels.indexOf(Math.max(...pixels));
    expect(Math.abs((peak % side) - 36)).toBeLessThanOrEqual(1);
    expect(Math.abs(Math.floor(peak / side) - 36)).toBeLessThanOrEqual(1);
    expect(Array.from(injectPointSource(empty, side, psf, 4, 0.5, draw).pixels)).toEqual(Array.from(pixels));
    const other = injectPointSource(empty, side, psf, 4, 0.5, { ...draw, index: 1 }).pixels;
    expect(Array.from(other)).not.toEqual(Array.from(pixels));
    // Without shot noise (infinite gain) the image is exactly the rendered point.
    const clean = injectPointSource(empty, side, psf, 4, 0.5, draw, Infinity).pixels;
    expect(clean.some((v, i) => v !== pixels[i])).toBe(true);
    expect(clean.every((v) => v >= 0)).toBe(true);
  });

  test("the shot noise has the mosaic's per-pixel variance: rms_to_sigma^2 x light / gain", () => {
    const empty = new Float32Array(side * side);
    const flux = 2000;
    const ratios: number[] = [];
    for (let index = 0; index < 40; index++) {
      const noisy = injectPointSource(empty, side, psf, flux, 0.5, { ...draw, index }, 3000, 0.6).pixels;
      const moved = injectPointSource(empty, side, psf, flux, 0.5, { ...draw, index }, Infinity).pixels;
      noisy.forEach((v, i) => {
        if (moved[i]! > 1) ratios.push((v - moved[i]!) ** 2 / (moved[i]! / 3000));
      });
    }
    const variance = ratios.reduce((a, b) => a + b, 0) / ratios.length;
    expect(ratios.length).toBeGreaterThan(1000);
    expect(variance).toBeGreaterThan(0.36 * 0.9);
    expect(variance).toBeLessThan(0.36 * 1.1);
  });

  test('f_PS 0 leaves the cutout as it was', () => {
    const image = Float32Array.from({ length: side * side }, (_, i) => Math.sin(i));
    expect(Array.from(injectPointSource(image, side, psf, 4, 0, draw).pixels)).toEqual(Array.from(image));
  });
});

describe('vis-agn inject', () => {
  test('scores each cutout as it is and with each injection, and writes the table, JSON and plot', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vis-agn-inject-'));
    try {
      const sims = await simulateCutouts({ count: 6, seed: 41, out: path.join(dir, 'sims'), workers: 1 });
      const out = path.join(dir, 'inj');
      const result = await runCli(['inject', ...sims.files, '--fps', '0.1,0.6', '--out', out, '--quiet', '--threads', '1']);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/\| injected f_PS \|/);
      const report = JSON.parse(readFileSync(path.join(out, 'injection.json'), 'utf8')) as { sources: number; results: { fps: number }[]; cells: { fps: number; mag: unknown }[] };
      expect(report.results.filter((r) => r.fps === 0)).toHaveLength(report.sources);
      expect(report.results).toHaveLength(3 * report.sources);
      expect(report.cells.filter((c) => c.mag === null).map((c) => c.fps)).toEqual([0.1, 0.6]);
      expect(readFileSync(path.join(out, 'injection.png')).subarray(1, 4).toString()).toBe('PNG');
      expect((await runCli(['inject', ...sims.files, '--fps', '1', '--out', out])).code).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
