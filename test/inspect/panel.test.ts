import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inflateSync } from 'node:zlib';

import { renderAsync } from '@resvg/resvg-js';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { defaultDetectionSettings } from '../../src/detect/settings.js';
import type { CatalogRow } from '../../src/catalog/schema.js';
import { FONT_FAMILY, FONT_PATHS } from '../../src/inspect/figure.js';
import { inspectCutout, plainSummary } from '../../src/inspect/inspect.js';
import { renderInspectionPanel, type PanelInput } from '../../src/inspect/panel.js';
import { readCard, defaultCardPath } from '../../src/model/card.js';
import { CoreGenerator } from '../../src/model/generator.js';
import { simulateCutouts } from '../../src/sim/cutouts.js';
import { buildRecipe } from '../../src/sim/recipe.js';
import { makeRows } from '../catalog/fixtures.js';

const side = 64;
const mask = { size: 5, shape: 'square' as const };

function input(brightness: number): PanelInput {
  // A uniform stamp: every pixel of every image tile is `brightness`, so a scale bar has only itself to stand out by.
  const crop = new Float32Array(side * side).fill(brightness);
  crop[32 * side + 32] = brightness + 1;
  // The centre regenerates 0.6 above the rest in every sample (residual 0.4, or 40 noise sigma); a corner varies.
  const samples = Float32Array.from({ length: 4 * 25 }, (_, i) => brightness + (i % 25 === 12 ? 0.6 : i % 25 === 0 ? 0.01 * Math.floor(i / 25) : 0));
  return {
    title: '42 cutout_42.fits',
    crop,
    side,
    mask,
    samples,
    sampleCount: 4,
    psfWeights: new Float32Array(25).fill(0.04),
    psFlux: 0.4,
    noiseSigma: 0.01,
    uJyPerUnit: 0.5248,
    summary: ['The core is brighter: an excess at 4.2 sigma.'],
    lines: ['agn_z 4.20'],
  };
}

async function pixels(svg: string): Promise<{ width: number; at: (x: number, y: number) => number }> {
  const image = await renderAsync(svg, { font: { fontFiles: [FONT_PATHS.regular, FONT_PATHS.bold], loadSystemFonts: false, defaultFontFamily: FONT_FAMILY }, background: 'white' });
  const data = image.pixels;
  // Luminance of the pixel at (x, y).
  return {
    width: image.width,
    at: (x, y) => {
      const i = 4 * (Math.floor(y) * image.width + Math.floor(x));
      return 0.2126 * data[i]! + 0.7152 * data[i + 1]! + 0.0722 * data[i + 2]!;
    },
  };
}

describe('inspection panel', () => {
  it('gives every image a title, a colour bar with its unit and a scale bar, and prints the sentences', () => {
    const { svg, width, height } = renderInspectionPanel(input(0.1));
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain(`width="${width}" height="${height}"`);
    const images = svg.match(/<image /g)!.length;
    expect(images).toBe(10);
    expect(svg.match(/fill="url\(#cmap-/g)).toHaveLength(images);
    expect(svg.match(/>flux \[µJy \/ pixel\], asinh</g)).toHaveLength(7);
    expect(svg.match(/>residual \[noise σ\]</g)).toHaveLength(2);
    expect(svg.match(/>sd of regenerations \[noise σ\]</g)).toHaveLength(1);
    expect(svg.match(/height="4" fill="white" stroke="black"/g)).toHaveLength(images);
    expect(svg.match(/>1″</g)).toHaveLength(2);
    expect(svg.match(/>0.5″</g)).toHaveLength(8);
    for (const title of ['Observed (6.4″)', 'Model input: core masked', 'Observed, central 1.5″', 'Mean of 4 regenerations', 'Observed − mean', 'Regeneration 3', 'Spread of regenerations', 'Residual − fitted PSF']) expect(svg).toContain(`>${title}<`);
    expect(svg).toContain('>The core is brighter: an excess at 4.2 sigma.<');
    // The residual bar is symmetric about zero, in units of the noise.
    const ticks = [...svg.matchAll(/<text [^>]*font-size="10"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);
    expect(ticks.join(' ')).toContain('-40 -20 0 20 40');
  });

  it('escapes text that would break the SVG', () => {
    const { svg } = renderInspectionPanel({ ...input(0.1), title: 'a<b>&"c"' });
    expect(svg).toContain('>a&lt;b&gt;&amp;&quot;c&quot;<');
  });

  it('keeps scale bars visible on a black and on a white stamp: white inside, a dark outline around', async () => {
    for (const brightness of [0, 1e6]) {
      const { svg } = renderInspectionPanel(input(brightness));
      const bar = /<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="4" fill="white" stroke="black"/.exec(svg)!;
      const [x, y, w] = [Number(bar[1]), Number(bar[2]), Number(bar[3])];
      const image = await pixels(svg);
      const darkest = (points: [number, number][]) => Math.min(...points.map(([px, py]) => image.at(px, py)));
      expect(image.at(x + w / 2, y + 2)).toBeGreaterThan(240);
      expect(darkest([3.5, 4, 4.5, 5].map((dy) => [x + w / 2, y + dy]))).toBeLessThan(90);
      expect(darkest([-1, -0.5, 0].map((dx) => [x + dx, y + 2]))).toBeLessThan(90);
    }
  });
});

/**
 * The panel's image tiles in order, decoded (the panel's own PNGs: 8-bit RGB, filter 0): the
 * luminance of image pixel (ix, iy) of a tile showing `side` pixels, row 0 at the bottom.
 */
function tiles(svg: string, side: number): ((ix: number, iy: number) => number)[] {
  return [...svg.matchAll(/href="data:image\/png;base64,([^"]+)"/g)].map((match) => {
    const png = Buffer.from(match[1]!, 'base64');
    const width = png.readUInt32BE(16);
    expect(png[25]).toBe(2); // RGB
    const idat: Buffer[] = [];
    for (let at = 8; at < png.length; ) {
      const length = png.readUInt32BE(at);
      if (png.toString('latin1', at + 4, at + 8) === 'IDAT') idat.push(png.subarray(at + 8, at + 8 + length));
      at += 12 + length;
    }
    const raw = inflateSync(Buffer.concat(idat));
    const scale = width / side;
    return (ix, iy) => {
      const [x, y] = [Math.floor((ix + 0.5) * scale), Math.floor((side - 1 - iy + 0.5) * scale)];
      const i = y * (3 * width + 1) + 1 + 3 * x;
      return 0.2126 * raw[i]! + 0.7152 * raw[i + 1]! + 0.0722 * raw[i + 2]!;
    };
  });
}

/** Mean luminance of a tile over the pixels 3 and 4 away from the centre (just outside a 5x5 core), and over a far corner. */
function wingsAndSky(tile: (ix: number, iy: number) => number, side: number): { wings: number; sky: number } {
  const c = Math.floor(side / 2);
  const ring: number[] = [];
  for (let dy = -4; dy <= 4; dy++) for (let dx = -4; dx <= 4; dx++) if (Math.max(Math.abs(dx), Math.abs(dy)) >= 3) ring.push(tile(c + dx, c + dy));
  const corner: number[] = [];
  for (let y = 2; y < 8; y++) for (let x = 2; x < 8; x++) corner.push(tile(x, y));
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  return { wings: mean(ring), sky: mean(corner) };
}

describe('the model input tile', () => {
  // A faint flat sky with a bright point source (a Gaussian of sigma 1.5 pixels) on the core.
  const sky = 0.1;
  const pointSource = Float32Array.from({ length: side * side }, (_, i) => 100 * Math.exp(-(((i % side) - 32) ** 2 + (Math.floor(i / side) - 32) ** 2) / (2 * 1.5 ** 2)));
  const crop = Float32Array.from(pointSource, (v) => sky + v);

  it('shows the context as observed, core masked, without a joint fit', () => {
    const { svg } = renderInspectionPanel({ ...input(sky), crop });
    expect(svg).toContain('>Model input: core masked<');
    const [observed, modelInput] = tiles(svg, side);
    expect(modelInput!(40, 40)).toBe(observed!(40, 40));
    expect(wingsAndSky(modelInput!, side).wings).toBeGreaterThan(wingsAndSky(modelInput!, side).sky + 20);
  });

  it('shows what the model saw under the joint fit: the crop less the fitted point source, and says so', () => {
    const modelInput = Float32Array.from(crop, (v, i) => v - pointSource[i]!);
    const { svg } = renderInspectionPanel({ ...input(sky), crop, modelInput });
    // The title, on two lines: it is wider than the tile.
    expect(svg).toMatch(/>Model input: observed<\/text>\s*<text [^>]*>minus fitted point source</);
    expect(svg).not.toContain('Model input: core masked');
    const [observedTile, modelInputTile] = tiles(svg, side);
    // The observed tile keeps the point source's wings; the model's input has only sky there.
    expect(wingsAndSky(observedTile!, side).wings).toBeGreaterThan(wingsAndSky(observedTile!, side).sky + 20);
    const seen = wingsAndSky(modelInputTile!, side);
    expect(Math.abs(seen.wings - seen.sky)).toBeLessThan(1);
    // Everything else in the panel is as before: the same observed tile.
    expect(tiles(renderInspectionPanel({ ...input(sky), crop }).svg, side)[0]!(33, 35)).toBe(observedTile!(33, 35));
  });
});

describe('the inspection of a bright point source under the joint fit', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vis-agn-panel-'));
  let generator: CoreGenerator;
  beforeAll(async () => {
    generator = await CoreGenerator.load(defaultCardPath(), { device: 'cpu', threads: 1 });
  });
  afterAll(async () => {
    await generator.release();
    rmSync(dir, { recursive: true, force: true });
  });

  it("shows the model's input with the fitted point source taken out, not the context as observed", async () => {
    expect(generator.jointFit).toBe(true);
    // A bright quasar (f_PS 0.8) on its host.
    const sims = await simulateCutouts({ count: 1, seed: 3, out: dir, workers: 1, recipe: buildRecipe({ mix: 'grid', gridFps: [0.8], magnitude: [19, 19.5] }) });
    const config = defaultDetectionSettings(generator.loaded.card, 3);
    const { panel, row } = await inspectCutout(sims.files[0]!, generator, config);
    expect(row.f_ps).toBeGreaterThan(0.5);
    expect(panel.svg).toMatch(/>Model input: observed<\/text>\s*<text [^>]*>minus fitted point source</);
    const side = generator.crop;
    const [observed, modelInput] = tiles(panel.svg, side);
    const before = wingsAndSky(observed!, side);
    const after = wingsAndSky(modelInput!, side);
    // Most of the wings' excess over the sky was the point source's.
    expect(after.wings - after.sky).toBeLessThan(0.5 * (before.wings - before.sky));
  }, 60_000);
});

describe('the scores in sentences', () => {
  const config = defaultDetectionSettings(readCard(defaultCardPath()).card);
  const row = (overrides: Partial<CatalogRow>): CatalogRow => ({ ...makeRows(1)[0]!, flags: 0, ...overrides });

  it('say how significant the excess is, what decided the class and how far the core is from the model', () => {
    const text = plainSummary(row({ agn_z: 4.23, agn_pvalue: 1.2e-5, f_ps: 0.23, f_ps_err: 0.05, candidate_class: 'agn', chi2_core: 875, chi2_dof: 25 }), config).join(' ');
    expect(text).toContain('an excess at 4.2 sigma');
    expect(text).toContain(`AGN candidate: above ${config.thresholds.z} sigma`);
    expect(text).toContain('a point source would carry 23% ± 5.0% of the light');
    expect(text).toContain('differs from the regenerations 35x more than the noise and their spread allow (chi2/dof 35.0 over 25 core pixels)');
  });

  it('say so when nothing stands out, and when a source could not be scored', () => {
    const quiet = plainSummary(row({ agn_z: -0.4, f_ps: -0.01, f_ps_err: 0.03, candidate_class: 'none', chi2_core: 26, chi2_dof: 25 }), config).join(' ');
    expect(quiet).toContain('fainter than the model');
    expect(quiet).toContain('Not a candidate');
    expect(quiet).toContain('agrees with the regenerations within the noise');
    expect(plainSummary(row({ agn_z: null, flags: 1 }), config)[0]).toMatch(/^Not scored/);
  });
});
