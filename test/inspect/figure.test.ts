import { renderAsync } from '@resvg/resvg-js';
import { describe, expect, it } from '@jest/globals';

import { figureFontMetrics, figurePng, FONT_FAMILY, FONT_PATHS, svgTextAsPaths, type Figure } from '../../src/inspect/figure.js';
import { renderInspectionPanel, type PanelInput } from '../../src/inspect/panel.js';

const RESVG = { font: { fontFiles: [FONT_PATHS.regular, FONT_PATHS.bold], loadSystemFonts: false, defaultFontFamily: FONT_FAMILY, sansSerifFamily: FONT_FAMILY }, background: 'white' };

async function pixels(svg: string): Promise<Buffer> {
  return (await renderAsync(svg, RESVG)).pixels;
}

/** Mean absolute difference of two renderings' channel values (0-255), and how many pixels have ink (not white) in each. */
function compare(a: Buffer, b: Buffer): { meanDifference: number; inkA: number; inkB: number } {
  expect(b.length).toBe(a.length);
  let sum = 0;
  let [inkA, inkB] = [0, 0];
  for (let i = 0; i < a.length; i += 4) {
    for (let c = 0; c < 3; c++) sum += Math.abs(a[i + c]! - b[i + c]!);
    if (a[i]! < 250 || a[i + 1]! < 250 || a[i + 2]! < 250) inkA++;
    if (b[i]! < 250 || b[i + 1]! < 250 || b[i + 2]! < 250) inkB++;
  }
  return { meanDifference: sum / ((3 * a.length) / 4), inkA, inkB };
}

const svgOf = (body: string, attributes = '') =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="420" height="220" viewBox="0 0 420 220" font-family="${FONT_FAMILY}, sans-serif"${attributes}>${body}</svg>`;

/** Every way the panels and Vega's charts write text: anchors, bold, a halo, px sizes, transforms, entities, collapsed spaces, ligatures and kerned pairs. */
const TEXTS = [
  '<text x="10" y="20" font-size="18" font-weight="bold" fill="#1a1a1a">42  cutout_42.fits &amp; AVATAR</text>',
  '<text x="10" y="45" font-size="14" fill="#1a1a1a">The office&#39;s fluffy flux [µJy / pixel], asinh −0.0028 ± 1″ σ</text>',
  '<text x="200" y="70" font-size="13" font-weight="bold" text-anchor="middle" fill="white" stroke="black" stroke-width="3" stroke-linejoin="round" paint-order="stroke">0.5″</text>',
  '<text x="410" y="95" font-size="10" text-anchor="end" fill="#444">residual [noise σ] &lt;= 3</text>',
  '<text text-anchor="middle" transform="translate(30,160) rotate(-90) translate(0,-3)" font-family="DejaVu Sans" font-size="12px" font-weight="bold" fill="#000" opacity="1">rows per bin</text>',
  '<text aria-label="value: 3" role="graphics-symbol" text-anchor="start" transform="translate(60.5,130.25)" font-family="DejaVu Sans" font-size="11px" fill="#666666">candidates: agn_z &gt; 3 Ty To Wa</text>',
];

const side = 64;
function panelInput(): PanelInput {
  const crop = Float32Array.from({ length: side * side }, (_, i) => 0.1 + 0.01 * Math.sin(i));
  return {
    title: '42 cutout_42.fits',
    crop,
    side,
    mask: { size: 5, shape: 'square' },
    samples: Float32Array.from({ length: 4 * 25 }, (_, i) => 0.1 + 0.01 * (i % 7)),
    sampleCount: 4,
    psfWeights: new Float32Array(25).fill(0.04),
    psFlux: 0.4,
    noiseSigma: 0.01,
    uJyPerUnit: 0.5248,
    summary: ['The core is brighter along the PSF than the regenerations predict: an excess at 4.2 sigma.'],
    lines: ['agn_z 4.20  (p 1.3e-5)   f_ps 0.31 ± 0.05'],
  };
}

describe('figure text as paths', () => {
  it("outlines glyphs as the font draws them: a glyph's contours, ligatures and kerned advances", () => {
    const { regular, bold } = figureFontMetrics();
    // One absolute moveto per glyph, a relative one for each further contour.
    const contours = (text: string) => ({ glyphs: regular.outline(text, 0, 0, 2048).match(/M/g)?.length ?? 0, contours: regular.outline(text, 0, 0, 2048).match(/[Mm]/g)?.length ?? 0 });
    expect(contours('l')).toEqual({ glyphs: 1, contours: 1 });
    expect(contours('o')).toEqual({ glyphs: 1, contours: 2 });
    expect(contours('8')).toEqual({ glyphs: 1, contours: 3 });
    expect(contours('l o')).toEqual({ glyphs: 2, contours: 3 });
    // DejaVu's standard ligature: "fi" is one glyph, as resvg's shaper draws it.
    expect(contours('fi').glyphs).toBe(1);
    expect(contours('f i').glyphs).toBe(2);
    // Digits and space carry no kerning: 1303 and 651 units of 2048; "AV" is kerned closer than its advances.
    expect(regular.kernedWidth('10 0')).toBeCloseTo((3 * 1303 + 651) / 2048, 9);
    expect(regular.kernedWidth('AV')).toBeLessThan(regular.width('AV') - 0.02);
    expect(bold.kernedWidth('0')).toBeGreaterThan(regular.kernedWidth('0'));
    // "l" is a stem from x 193 to 377 font units, 1556 high (2048 per em): at 20 user units per em from a pen at (100, 50), y down.
    expect(regular.outline('l', 100, 50, 20)).toBe('M101.885,34.805l1.797,0l0,15.195l-1.797,0z');
    expect(regular.covers('µ−±″σ')).toBe(true);
    expect(regular.covers('中')).toBe(false);
  });

  it('draws every text of the figures as paths that render like resvg renders the text', async () => {
    const svg = svgOf(TEXTS.join('\n'));
    const paths = svgTextAsPaths(svg);
    expect(paths).not.toContain('<text');
    expect(paths.match(/<path /g)).toHaveLength(TEXTS.length);
    // The paint stays: the halo's stroke under its fill, the chart's transform, opacity and ARIA attributes.
    expect(paths).toContain('fill="white" stroke="black" stroke-width="3" stroke-linejoin="round" paint-order="stroke"/>');
    expect(paths).toContain('transform="translate(30,160) rotate(-90) translate(0,-3)" fill="#000" opacity="1"/>');
    expect(paths).toContain('aria-label="value: 3" role="graphics-symbol"');
    const { meanDifference, inkA, inkB } = compare(await pixels(svg), await pixels(paths));
    expect(inkA).toBeGreaterThan(4000);
    expect(Math.abs(inkB - inkA)).toBeLessThan(0.01 * inkA);
    expect(meanDifference).toBeLessThan(0.05);
    // A misplaced text shows: the middle-anchored halo drawn from its x instead.
    const unanchored = paths.replace(/<path d="M(\d+\.?\d*)([^"]*)" fill="white"/, (_, x: string, rest: string) => `<path d="M${Number(x) + 15}${rest}" fill="white"`);
    expect(compare(await pixels(svg), await pixels(unanchored)).meanDifference).toBeGreaterThan(0.1);
  });

  it('leaves text it cannot reproduce to resvg: children, styles, inherited text properties, glyphs the font lacks', () => {
    const kept = [
      '<text x="5" y="20" font-size="12"><tspan>a</tspan></text>',
      '<text x="5" y="20" font-size="12" style="font-style: italic">a</text>',
      '<text x="5" y="20" font-size="1em">a</text>',
      '<text x="5 9" y="20" font-size="12">ab</text>',
      '<text x="5" y="20">no size</text>',
      '<text x="5" y="20" font-size="12">中</text>',
    ];
    const svg = svgOf([...kept, TEXTS[0]!].join(''));
    const converted = svgTextAsPaths(svg);
    for (const text of kept) expect(converted).toContain(text);
    expect(converted).not.toContain(TEXTS[0]);
    // Sizes or anchors set on a group would be inherited: all text stays.
    const inherited = svgOf(`<g font-size="20">${TEXTS[1]}</g>`);
    expect(svgTextAsPaths(inherited)).toBe(inherited);
    expect(svgTextAsPaths(svgOf(TEXTS[1]!, ' xml:space="preserve"'))).toContain('<text');
  });

  it("rasterises an inspection panel's text as paths: the same picture, the SVG keeping its text", async () => {
    const panel: Figure = renderInspectionPanel(panelInput());
    expect(panel.svg.match(/<text /g)!.length).toBeGreaterThan(60);
    const paths = svgTextAsPaths(panel.svg);
    expect(paths).not.toContain('<text');
    const png = await figurePng(panel);
    // figurePng rasterises the paths, not the text: resvg draws the two a few edge pixels apart.
    const rendered = async (svg: string) => (await renderAsync(svg, { ...RESVG, fitTo: { mode: 'zoom', value: panel.pngScale } })).asPng();
    expect(png.equals(await rendered(paths))).toBe(true);
    expect(png.equals(await rendered(panel.svg))).toBe(false);
    const { meanDifference, inkA, inkB } = compare(await pixels(panel.svg), await pixels(paths));
    expect(Math.abs(inkB - inkA)).toBeLessThan(0.001 * inkA);
    expect(meanDifference).toBeLessThan(0.05);
  });
});
