import { renderAsync } from '@resvg/resvg-js';
import { describe, expect, it } from '@jest/globals';

import { defaultDetectionSettings } from '../../src/detect/settings.js';
import type { CatalogRow } from '../../src/catalog/schema.js';
import { FONT_FAMILY, FONT_PATHS } from '../../src/inspect/figure.js';
import { plainSummary } from '../../src/inspect/inspect.js';
import { renderInspectionPanel, type PanelInput } from '../../src/inspect/panel.js';
import { readCard, defaultCardPath } from '../../src/model/card.js';
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
