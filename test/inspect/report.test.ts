import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { encodeFlags } from '../../src/ground/flags.js';
import { readCatalog } from '../../src/catalog/read.js';
import type { CatalogRow } from '../../src/catalog/schema.js';
import { EXIT_CODES } from '../../src/errors.js';
import { renderThumbnail, THUMBNAIL_SIZE, type PanelInput } from '../../src/inspect/panel.js';
import { colormapColor } from '../../src/inspect/raster.js';
import { escapeHtml, renderReportPage, renderTableRow, type ReportEntry, type ReportPage } from '../../src/inspect/report-html.js';
import { selectionZPlot } from '../../src/inspect/report-plots.js';
import { countRows, selectRows } from '../../src/inspect/report.js';
import { simulateCutouts } from '../../src/sim/cutouts.js';
import { buildRecipe } from '../../src/sim/recipe.js';
import { METADATA, makeRows } from '../catalog/fixtures.js';
import { runCli } from '../helpers/cli.js';
import { describeIf, repoRoot } from '../helpers/shared.js';

const THUMBS = { thumbnailSize: THUMBNAIL_SIZE };

/** A row of a run whose model has no combined calibration (selected on agn_z), unless overridden. */
function row(overrides: Partial<CatalogRow>): CatalogRow {
  return { ...makeRows(1)[0]!, combined_z: null, ...overrides };
}

describe('report HTML', () => {
  it('escapes every character that could open markup or leave an attribute', () => {
    expect(escapeHtml(`<script>alert("x" & 'y')</script>`)).toBe('&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;');
    expect(escapeHtml('plain 1.5" ± 0.1')).toBe('plain 1.5&quot; ± 0.1');
  });

  it('renders a table row: values, sort keys, flags in words, links, and a note instead of a missing thumbnail', () => {
    const scored = row({ object_id: -(2n ** 63n), ra: 150.123456789, dec: null, mag_vis: 23.456, agn_z: 4.567, f_ps: 0.2345, f_ps_err: 0.0512, candidate_class: 'qso', flags: encodeFlags(['no_rms_map', 'corrupt_input']) });
    const html = renderTableRow({ row: scored, thumbnail: 'thumbs/-9223372036854775808.png', panel: 'panels/-9223372036854775808' }, THUMBS);
    expect(html).toContain('data-class="qso"');
    expect(html).toContain('data-z="4.567"');
    // The full 64-bit id survives as the sort key (a double would round it).
    expect(html).toContain('<td data-value="-9223372036854775808">-9223372036854775808</td>');
    expect(html).toContain('<td data-value="150.123456789">150.123457</td>');
    expect(html).toContain('<td data-value="">–</td>');
    expect(html).toContain('<td data-value="0.2345">0.234 ± 0.051</td>');
    expect(html).toContain(`<td data-value="${16 + 128}">no_rms_map, corrupt_input</td>`);
    expect(html).toContain(`<img src="thumbs/-9223372036854775808.png" width="${THUMBNAIL_SIZE.width}" height="${THUMBNAIL_SIZE.height}"`);
    expect(html).toContain('<a href="panels/-9223372036854775808.svg">panel</a> (<a href="panels/-9223372036854775808.png">PNG</a>)');

    const hostile = row({ object_id: 7n, source_file: '/data/a<b>"evil".fits', candidate_class: 'agn', agn_z: null, flags: 0 });
    const missing = renderTableRow({ row: hostile, note: 'no images: <img src=x onerror=alert(1)>' }, THUMBS);
    expect(missing).not.toContain('<img');
    expect(missing).not.toContain('<b>');
    expect(missing).toContain('<p class="note">no images: &lt;img src=x onerror=alert(1)&gt;</p>');
    expect(missing).toContain('data-z=""');
    expect(missing).toContain('data-search="7 agn none a&lt;b&gt;&quot;evil&quot;.fits no images: &lt;img src=x onerror=alert(1)&gt;"');
    expect(missing).toContain('<td data-value="0">none</td>');
    expect(missing).toContain('<td>–</td>');
  });

  it('builds one page with no external resource, only hashed inline code, and escaped metadata', () => {
    const rows = makeRows(30, 4);
    const entries: ReportEntry[] = rows.slice(0, 5).map((r) => ({ row: r, thumbnail: `thumbs/${r.object_id}.png`, panel: `panels/${r.object_id}` }));
    const page: ReportPage = {
      catalogPath: 'catalogs/<run>/catalog.arrow',
      metadata: { ...METADATA, modelName: '<img src=x onerror=alert(1)>' },
      generatedAt: '2026-01-01T00:00:00.000Z',
      counts: countRows(rows),
      classes: ['agn', 'qso'],
      eligible: 12,
      entries,
      figures: [{ svgFile: 'plots/agn-z.svg', pngFile: 'plots/agn-z.png', svg: '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>agn_z</text></svg>', title: 'agn_z & co', caption: 'a <caption>' }],
      notes: ['model card <differs>'],
      thumbnailSize: THUMBNAIL_SIZE,
    };
    const html = renderReportPage(page);
    expect(html).not.toMatch(/<img src=x/);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('model card &lt;differs&gt;');
    expect(html).toContain('catalogs/&lt;run&gt;/catalog.arrow');
    expect(html).toContain('the 5 most significant of 12');
    // Every src and href is a relative path into the report folder.
    const links = [...html.matchAll(/(?:src|href)="([^"]*)"/g)].map((m) => m[1]!);
    expect(links.length).toBe(2 + 3 * entries.length);
    for (const link of links) expect(link).toMatch(/^(thumbs|panels|plots)\/-?\d*[\w-]*\.(png|svg)$/);
    // The plot itself is in the page, not fetched.
    expect(html).toContain('<div class="chart" role="img" aria-label="agn_z &amp; co"><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>agn_z</text></svg></div>');
    // The policy admits exactly the page's own style and script.
    const policy = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)![1]!.replace(/&#39;/g, "'");
    const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
    const script = /<script>([\s\S]*)<\/script>/.exec(html)![1]!;
    const style = /<style>([\s\S]*)<\/style>/.exec(html)![1]!;
    expect(policy).toContain(`script-src ${hash(script)}`);
    expect(policy).toContain(`style-src ${hash(style)}`);
    expect(policy).toContain("default-src 'none'");
    expect(html.match(/<tr data-class=/g)).toHaveLength(entries.length);
  });

  it('selects the rows of the chosen classes, most significant first, missing scores last', () => {
    const rows = [
      row({ object_id: 1n, candidate_class: 'agn', agn_z: 3.5 }),
      row({ object_id: 2n, candidate_class: 'none', agn_z: 9 }),
      row({ object_id: 3n, candidate_class: 'qso', agn_z: 7 }),
      row({ object_id: 4n, candidate_class: 'agn', agn_z: null }),
      row({ object_id: 5n, candidate_class: 'point_like', agn_z: 12 }),
      row({ object_id: 6n, candidate_class: 'agn', agn_z: 5 }),
    ];
    const ids = (selected: readonly CatalogRow[]) => selected.map((r) => Number(r.object_id));
    expect(ids(selectRows(rows, ['agn', 'qso'], 10).selected)).toEqual([3, 6, 1, 4]);
    expect(selectRows(rows, ['agn', 'qso'], 2)).toEqual({ eligible: 4, selected: [rows[2], rows[5]] });
    expect(ids(selectRows(rows, ['point_like', 'none'], 10).selected)).toEqual([5, 2]);
    const combined = [row({ object_id: 1n, candidate_class: 'agn', agn_z: 9, combined_z: 1 }), row({ object_id: 2n, candidate_class: 'agn', agn_z: 1, combined_z: 5 })];
    expect(ids(selectRows(combined, ['agn'], 2).selected)).toEqual([2, 1]);
    const counts = countRows(rows.map((r, i) => ({ ...r, flags: i < 2 ? encodeFlags(['no_rms_map']) : 0, is_candidate: r.candidate_class === 'agn' || r.candidate_class === 'qso' })));
    expect(counts).toEqual({ rows: 6, byClass: { agn: 3, qso: 1, point_like: 1, none: 1 }, candidates: 4, flagged: 2, byFlag: [['no_rms_map', 2]] });
  });

  it('histograms every selection score (combined_z, else agn_z), beside the N(0, 1) expectation', () => {
    const rows = makeRows(200, 9);
    const plot = selectionZPlot(rows, { z: 3, qsoFps: 0.5, pointLikeFps: 0.9 })!;
    const scored = rows.filter((r) => (r.combined_z ?? r.agn_z) !== null).length;
    expect(scored).toBeGreaterThan(rows.filter((r) => r.combined_z !== null).length);
    const [expected] = plot.chart.series;
    expect(plot.chart.bars!.bins.reduce((n, b) => n + b.count, 0)).toBe(scored);
    // The expectation's bins cover all of N(0, 1) at most: its sum reaches `scored` only up to rounding.
    expect(expected!.points.reduce((n, p) => n + p.y!, 0)).toBeLessThanOrEqual(scored * (1 + 1e-12));
    expect(expected!.points.reduce((n, p) => n + p.y!, 0)).toBeGreaterThan(0.9 * scored);
    expect(plot.chart.references).toEqual([{ axis: 'x', value: 3, label: 'candidates: combined_z > 3' }]);
    const generativeOnly = selectionZPlot(rows.map((r) => ({ ...r, combined_z: null })), { z: 3, qsoFps: 0.5, pointLikeFps: 0.9 })!;
    expect(generativeOnly.chart.references).toEqual([{ axis: 'x', value: 3, label: 'candidates: agn_z > 3' }]);
    expect(generativeOnly.chart.bars!.bins.reduce((n, b) => n + b.count, 0)).toBe(rows.filter((r) => r.agn_z !== null).length);
    expect(selectionZPlot(rows.map((r) => ({ ...r, agn_z: null, combined_z: null })), { z: 3, qsoFps: 0.5, pointLikeFps: 0.9 })).toBeUndefined();
  });
});

describe('thumbnails', () => {
  const side = 64;
  const mask = { size: 5, shape: 'square' as const };
  const crop = Float32Array.from({ length: side * side }, (_, i) => Math.exp(-(((i % side) - 32) ** 2 + (Math.floor(i / side) - 32) ** 2) / 18));
  const core = (values: Float32Array) => Array.from({ length: 25 }, (_, k) => values[(32 + Math.floor(k / 5) - 2) * side + 32 + (k % 5) - 2]!);
  const input = (samples: number[]): PanelInput => ({
    title: 't',
    crop,
    side,
    mask,
    samples: Float32Array.from(samples),
    sampleCount: samples.length / 25,
    psfWeights: new Float32Array(25).fill(0.04),
    psFlux: 0,
    noiseSigma: 0.01,
    uJyPerUnit: 0.5248,
    summary: [],
    lines: [],
  });
  const tile = (image: { width: number; data: Uint8Array }, k: number) => {
    const size = THUMBNAIL_SIZE.height;
    const pixels: number[] = [];
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) pixels.push(...image.data.subarray((y * image.width + k * (size + 2) + x) * 3, (y * image.width + k * (size + 2) + x) * 3 + 3));
    return pixels.join();
  };

  it('show the observed centre, the mean regeneration in its core and the residual', () => {
    const perfect = renderThumbnail(input([...core(crop), ...core(crop)]));
    expect([perfect.width, perfect.height]).toEqual([THUMBNAIL_SIZE.width, THUMBNAIL_SIZE.height]);
    // Regenerations equal to the observed core: the middle tile is the observed one, the residual is zero (white).
    expect(tile(perfect, 1)).toBe(tile(perfect, 0));
    const centre = ((THUMBNAIL_SIZE.height / 2) * perfect.width + 2 * (THUMBNAIL_SIZE.height + 2) + THUMBNAIL_SIZE.height / 2) * 3;
    expect([...perfect.data.subarray(centre, centre + 3)]).toEqual(colormapColor('coolwarm', 0.5));

    const faint = renderThumbnail(input(core(crop).map((v) => v / 2)));
    expect(tile(faint, 0)).toBe(tile(perfect, 0));
    expect(tile(faint, 1)).not.toBe(tile(perfect, 1));
    const [r, , b] = faint.data.subarray(centre, centre + 3);
    expect(r!).toBeGreaterThan(b! + 50);
  });
});

const hasChromium = existsSync('/usr/bin/chromium');

describe('vis-agn report', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vis-agn-report-'));
  const catalogPath = path.join(dir, 'run', 'catalog.arrow');
  const out = path.join(dir, 'report');
  let rows: CatalogRow[] = [];
  let shown: CatalogRow[] = [];
  let gone: CatalogRow;
  let stdout = '';
  let stderr = '';
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  beforeAll(async () => {
    // Grid simulation: normal galaxies beside AGN and QSOs of known f_PS; thresholds low enough that
    // a few dozen faint sources give candidates of several classes.
    const sims = await simulateCutouts({ count: 40, seed: 31, out: path.join(dir, 'sims'), workers: 1, recipe: buildRecipe({ mix: 'grid', gridFps: [0, 0, 0.3, 0.5, 0.8] }) });
    const run = await runCli(['run', ...sims.files, '--out', path.dirname(catalogPath), '--seed', '5', '--z-threshold', '1', '--qso-fps', '0.2', '--point-like-fps', '0.4', '--quiet']);
    expect(run.code).toBe(EXIT_CODES.ok);
    rows = [...(await readCatalog(catalogPath)).rows];
    shown = rows.filter((r) => r.candidate_class !== 'none');
    // One cutout deleted after the run: its row must be listed with a note, not crash the report.
    gone = [...shown].sort((a, b) => a.agn_z! - b.agn_z!)[0]!;
    unlinkSync(gone.source_file);
    const result = await runCli(['report', '--catalog', catalogPath, '--out', out, '--classes', 'agn,qso,point_like', '--truth', sims.truth]);
    expect(result.code).toBe(EXIT_CODES.ok);
    ({ stdout, stderr } = result);
  }, 120_000);

  it('writes the page, a thumbnail and a panel per readable row, and the plots', () => {
    // Preconditions of the data, so the checks below cannot pass vacuously.
    expect(shown.length).toBeGreaterThanOrEqual(5);
    expect(new Set(shown.map((r) => r.candidate_class)).size).toBeGreaterThanOrEqual(2);
    expect(stdout).toContain(`${shown.length} of ${shown.length} rows of class agn, qso, point_like in the table (1 without images`);
    expect(stderr).toMatch(/report: \d+\/\d+ sources/);
    const plots = ['completeness-fps', 'completeness-mag', 'fps-mag', 'selection-z'];
    expect(readdirSync(path.join(out, 'plots')).sort()).toEqual(plots.flatMap((name) => [`${name}.png`, `${name}.svg`]));
    const readable = shown.filter((r) => r !== gone).map((r) => String(r.object_id)).sort();
    expect(readdirSync(path.join(out, 'thumbs')).sort()).toEqual(readable.map((id) => `${id}.png`));
    expect(readdirSync(path.join(out, 'panels')).sort()).toEqual(readable.flatMap((id) => [`${id}.png`, `${id}.svg`]).sort());
    const html = readFileSync(path.join(out, 'index.html'), 'utf8');
    expect(html).toContain('no images: the cutout could not be read again');
    expect(html).toContain(escapeHtml(path.basename(gone.source_file)));
  });

  it("draws the same panel as vis-agn inspect, byte for byte, as SVG and PNG", async () => {
    const source = shown.find((r) => r !== gone)!;
    const panel = path.join(dir, 'inspect.png');
    expect((await runCli(['inspect', '--catalog', catalogPath, '--id', String(source.object_id), '--out', panel])).code).toBe(EXIT_CODES.ok);
    for (const ext of ['png', 'svg']) expect(readFileSync(path.join(out, 'panels', `${source.object_id}.${ext}`)).equals(readFileSync(path.join(dir, `inspect.${ext}`)))).toBe(true);
  }, 30_000);

  it('refuses bad options and missing catalogues; a failed report leaves no index.html', async () => {
    expect((await runCli(['report', '--catalog', catalogPath, '--out', path.join(dir, 'x'), '--classes', 'agn,galaxy'])).code).toBe(EXIT_CODES.usage);
    expect((await runCli(['report', '--catalog', catalogPath, '--out', path.join(dir, 'x'), '--max-candidates', '0'])).code).toBe(EXIT_CODES.usage);
    expect((await runCli(['report', '--catalog', path.join(dir, 'none.arrow'), '--out', path.join(dir, 'x')])).code).toBe(EXIT_CODES.inputNotFound);
    // index.html cannot be put in place (a folder is in the way): the report fails after its images.
    const blocked = path.join(dir, 'blocked');
    mkdirSync(path.join(blocked, 'index.html', 'occupied'), { recursive: true });
    // --overwrite: past the refusal to replace an existing index.html, to the failure to put it in place.
    const failed = await runCli(['report', '--catalog', catalogPath, '--out', blocked, '--quiet', '--overwrite']);
    expect(failed.code).toBe(EXIT_CODES.outputFailed);
    expect(readdirSync(path.join(blocked, 'thumbs')).length).toBeGreaterThan(0);
    expect(readdirSync(blocked).filter((name) => name.includes('index.html')).sort()).toEqual(['index.html']);
    expect(existsSync(path.join(blocked, 'index.html', 'occupied'))).toBe(true);
  }, 60_000);

  describeIf(hasChromium, '/usr/bin/chromium not found (Debian package chromium)', 'in headless Chromium', () => {
    type Browser = import('playwright-core').Browser;
    type Page = import('playwright-core').Page;
    let browser: Browser;
    let page: Page;
    const problems: string[] = [];
    const requests: string[] = [];

    beforeAll(async () => {
      const { chromium } = await import('playwright-core');
      browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
      page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
      });
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      page.on('requestfailed', (request) => problems.push(`failed request: ${request.url()} ${request.failure()?.errorText ?? ''}`));
      page.on('request', (request) => requests.push(request.url()));
      await page.goto(pathToFileURL(path.join(out, 'index.html')).href, { waitUntil: 'load' });
    }, 60_000);

    afterAll(async () => {
      if (page !== undefined) {
        mkdirSync(path.join(repoRoot, 'test', 'artifacts'), { recursive: true });
        await page.screenshot({ path: path.join(repoRoot, 'test', 'artifacts', 'report.png'), fullPage: true });
      }
      await browser?.close();
    });

    /** The class and a column's sort value of every row, in table order; visible rows only unless `all`. */
    const tableRows = async (key: string, all = false): Promise<{ cls: string; value: string }[]> => {
      const keys = await page.$$eval('#candidate-table thead th', (ths) => ths.map((th) => th.getAttribute('data-key')));
      return page.$$eval(
        '#candidate-table tbody tr',
        (trs, [index, includeHidden]) =>
          trs.filter((tr) => includeHidden || !tr.hasAttribute('hidden')).map((tr) => ({ cls: tr.getAttribute('data-class')!, value: tr.children[index]!.getAttribute('data-value')! })),
        [keys.indexOf(key), all] as const,
      );
    };

    it('loads with no console errors, no failed requests and nothing fetched from outside the folder', async () => {
      expect(problems).toEqual([]);
      expect(requests.length).toBeGreaterThan(1);
      for (const url of requests) expect(url.startsWith(pathToFileURL(out).href + '/')).toBe(true);
      expect(await page.title()).toBe('vis-agn report: catalog.arrow');
    });

    it('renders every image', async () => {
      const images = await page.$$eval('img', (imgs) => imgs.map((img) => ({ src: img.getAttribute('src'), complete: img.complete, width: img.naturalWidth })));
      expect(images).toHaveLength(shown.length - 1);
      expect(images.filter((image) => !image.complete || image.width === 0)).toEqual([]);
    });

    it('renders the four plots as SVG in the page: sized, with their titles, axes and marks laid out', async () => {
      const charts = await page.$$eval('figure .chart svg', (svgs) =>
        svgs.map((svg) => {
          const box = svg.getBoundingClientRect();
          const texts = [...svg.querySelectorAll('text')].filter((t) => (t as unknown as { getComputedTextLength(): number }).getComputedTextLength() > 0).map((t) => t.textContent);
          const marks = [...svg.querySelectorAll('.role-mark path, .role-mark line, .role-mark rect')].filter((m) => {
            const b = (m as unknown as { getBBox(): { width: number; height: number } }).getBBox();
            return b.width > 0 || b.height > 0;
          }).length;
          return { width: box.width, height: box.height, texts, marks };
        }),
      );
      expect(charts).toHaveLength(4);
      for (const chart of charts) {
        expect(chart.width).toBeGreaterThan(300);
        expect(chart.height).toBeGreaterThan(200);
        expect(chart.marks).toBeGreaterThan(0);
      }
      const all = charts.flatMap((c) => c.texts);
      for (const text of ['combined_z of', 'f_ps against mag_vis, by class', 'completeness against true f_PS', 'true I_E [AB]', 'candidates: combined_z > 1']) expect(all.some((t) => t!.includes(text))).toBe(true);
      // Inline SVGs share the page's id space: every clip path must resolve inside its own figure.
      const ids = await page.$$eval('figure .chart [id]', (elements) => elements.map((e) => e.id));
      expect(new Set(ids).size).toBe(ids.length);
    });

    it('sorts by a numeric column in both directions, and by 64-bit ids', async () => {
      const ascending = (values: number[]) => values.every((v, i) => i === 0 || values[i - 1]! <= v);
      await page.click('th[data-key="mag_vis"] button');
      const up = (await tableRows('mag_vis', true)).map((r) => Number(r.value));
      expect(up).toHaveLength(shown.length);
      expect(ascending(up)).toBe(true);
      expect(await page.getAttribute('th[data-key="mag_vis"]', 'aria-sort')).toBe('ascending');
      await page.click('th[data-key="mag_vis"] button');
      const down = (await tableRows('mag_vis', true)).map((r) => Number(r.value));
      expect(down).toEqual([...up].reverse());
      expect(await page.getAttribute('th[data-key="mag_vis"]', 'aria-sort')).toBe('descending');
      expect(new Set(up)).toEqual(new Set(shown.map((r) => r.mag_vis)));

      await page.click('th[data-key="object_id"] button');
      const ids = (await tableRows('object_id', true)).map((r) => BigInt(r.value));
      expect(ids).toEqual(shown.map((r) => r.object_id).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    });

    it('filters by class, by minimum combined_z (the selection score) and by text', async () => {
      const hiddenClass = shown[0]!.candidate_class;
      await page.uncheck(`input[name="class"][value="${hiddenClass}"]`);
      const byClass = await tableRows('combined_z');
      expect(byClass.length).toBe(shown.filter((r) => r.candidate_class !== hiddenClass).length);
      expect(byClass.every((r) => r.cls !== hiddenClass)).toBe(true);
      expect(await page.textContent('#shown')).toBe(String(byClass.length));
      await page.check(`input[name="class"][value="${hiddenClass}"]`);

      const scores = shown.map((r) => r.combined_z!).sort((a, b) => a - b);
      const cut = scores[Math.floor(scores.length / 2)]!;
      await page.fill('#min-z', String(cut));
      const strong = await tableRows('combined_z');
      expect(strong.length).toBe(scores.filter((z) => z >= cut).length);
      expect(strong.length).toBeLessThan(shown.length);
      expect(strong.every((r) => Number(r.value) >= cut)).toBe(true);
      await page.fill('#min-z', '');
      expect(await tableRows('combined_z')).toHaveLength(shown.length);

      await page.fill('#search', 'could not be read');
      expect((await tableRows('object_id')).map((r) => r.value)).toEqual([String(gone.object_id)]);
      await page.fill('#search', '');
    });

    it('links every readable row to its panel, SVG and PNG, which exist and render', async () => {
      const links = await page.$$eval('#candidate-table a', (anchors) => anchors.map((a) => a.getAttribute('href')!));
      expect(links).toHaveLength(2 * (shown.length - 1));
      for (const link of links) expect(existsSync(path.join(out, link))).toBe(true);
      expect(links).not.toContain(`panels/${gone.object_id}.svg`);
      const panel = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      try {
        await panel.goto(pathToFileURL(path.join(out, links.find((l) => l.endsWith('.svg'))!)).href, { waitUntil: 'load' });
        const tiles = await panel.$$eval('image', (images) => images.map((image) => (image as unknown as { getBBox(): { width: number } }).getBBox().width));
        expect(tiles).toHaveLength(10);
        expect(tiles.every((width) => width > 100)).toBe(true);
        expect(await panel.$$eval('text', (texts) => texts.filter((t) => (t as unknown as { getComputedTextLength(): number }).getComputedTextLength() > 0).length)).toBeGreaterThan(40);
      } finally {
        await panel.close();
      }
    });
  });
});
