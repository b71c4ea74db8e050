/**
 * The HTML of `vis-agn report`: one page that works from a folder, offline, with nothing fetched but
 * its own images (a Content-Security-Policy makes the browser refuse anything else); the plots are
 * SVG inside the page. Inline CSS and a small script sort the candidate table by any column and
 * filter it by class, minimum selection score and text.
 * Every piece of text that reaches the page goes through escapeHtml.
 */

import { createHash } from 'node:crypto';
import path from 'node:path';

import { decodeFlags } from '../ground/flags.js';
import { selectionScore, type CatalogRow, type RunMetadata } from '../catalog/schema.js';
import { CANDIDATE_CLASSES, type CandidateClass } from '../detect/detect.js';

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text safe in element content and in quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char]!);
}

/** One row of the candidate table. Paths are relative to the report folder. */
export interface ReportEntry {
  readonly row: CatalogRow;
  /** Absent when the source could not be recomputed; `note` then says why. */
  readonly thumbnail?: string;
  /** The panel's files without their extension: it is written as .svg and .png. */
  readonly panel?: string;
  readonly note?: string;
}

export interface ReportFigure {
  /** The SVG and PNG files of the figure, relative to the report folder. */
  readonly svgFile: string;
  readonly pngFile: string;
  /** The SVG itself, embedded in the page; its ids must be unique across the page (scopeSvgIds). */
  readonly svg: string;
  readonly title: string;
  readonly caption: string;
}

export interface ReportCounts {
  readonly rows: number;
  readonly byClass: Readonly<Record<CandidateClass, number>>;
  readonly candidates: number;
  readonly flagged: number;
  /** Rows with each flag set, for the flags that occur. */
  readonly byFlag: readonly (readonly [string, number])[];
}

export interface ReportPage {
  readonly catalogPath: string;
  readonly metadata: RunMetadata;
  readonly generatedAt: string;
  readonly counts: ReportCounts;
  readonly classes: readonly CandidateClass[];
  /** Rows of the chosen classes; the table holds the `entries.length` most significant. */
  readonly eligible: number;
  readonly entries: readonly ReportEntry[];
  readonly figures: readonly ReportFigure[];
  /** Page-wide warnings, e.g. a model card other than the run's. */
  readonly notes: readonly string[];
  readonly thumbnailSize: { readonly width: number; readonly height: number };
}

type SortType = 'number' | 'bigint' | 'text';

interface TableColumn {
  /** Names the column in the page (data-key) for scripts and styles. */
  readonly key: string;
  readonly label: string;
  readonly sort?: SortType;
  readonly cell: (entry: ReportEntry, page: Pick<ReportPage, 'thumbnailSize'>) => { readonly html: string; readonly value?: string };
}

const MISSING = '–';

const fixed = (value: number | null, digits: number): string => (value === null ? MISSING : value.toFixed(digits));
/** Full precision for sorting; empty for a missing value, which the script keeps at the bottom. */
const sortValue = (value: number | bigint | null): string => (value === null ? '' : String(value));

function numberCell(value: number | null, digits: number): { html: string; value: string } {
  return { html: escapeHtml(fixed(value, digits)), value: sortValue(value) };
}

function flagWords(flags: number): string {
  const words = decodeFlags(flags);
  return words.length === 0 ? 'none' : words.join(', ');
}

const TABLE_COLUMNS: readonly TableColumn[] = [
  {
    key: 'thumbnail',
    label: 'observed | regeneration | residual',
    cell: ({ thumbnail, note }, { thumbnailSize }) => {
      const image = thumbnail === undefined ? '' : `<img src="${escapeHtml(thumbnail)}" width="${thumbnailSize.width}" height="${thumbnailSize.height}" alt="observed, mean regeneration and residual">`;
      return { html: image + (note === undefined ? '' : `<p class="note">${escapeHtml(note)}</p>`) };
    },
  },
  { key: 'object_id', label: 'object_id', sort: 'bigint', cell: ({ row }) => ({ html: escapeHtml(String(row.object_id)), value: sortValue(row.object_id) }) },
  { key: 'ra', label: 'ra [deg]', sort: 'number', cell: ({ row }) => numberCell(row.ra, 6) },
  { key: 'dec', label: 'dec [deg]', sort: 'number', cell: ({ row }) => numberCell(row.dec, 6) },
  { key: 'mag_vis', label: 'mag_vis', sort: 'number', cell: ({ row }) => numberCell(row.mag_vis, 2) },
  { key: 'agn_z', label: 'agn_z', sort: 'number', cell: ({ row }) => numberCell(row.agn_z, 2) },
  { key: 'combined_z', label: 'combined_z', sort: 'number', cell: ({ row }) => numberCell(row.combined_z, 2) },
  {
    key: 'f_ps',
    label: 'f_ps ± err',
    sort: 'number',
    cell: ({ row }) => ({ html: escapeHtml(row.f_ps === null ? MISSING : `${row.f_ps.toFixed(3)} ± ${fixed(row.f_ps_err, 3)}`), value: sortValue(row.f_ps) }),
  },
  { key: 'class', label: 'class', sort: 'text', cell: ({ row }) => ({ html: escapeHtml(row.candidate_class), value: row.candidate_class }) },
  // By bit value: clean rows first, the same combination of flags together.
  { key: 'flags', label: 'flags', sort: 'number', cell: ({ row }) => ({ html: escapeHtml(flagWords(row.flags)), value: String(row.flags) }) },
  {
    key: 'panel',
    label: 'panel',
    cell: ({ panel }) => ({ html: panel === undefined ? MISSING : `<a href="${escapeHtml(panel)}.svg">panel</a> (<a href="${escapeHtml(panel)}.png">PNG</a>)` }),
  },
];

/** What the text filter searches: the id, class, flags, source file and note. */
function searchText({ row, note }: ReportEntry): string {
  return [String(row.object_id), row.candidate_class, flagWords(row.flags), path.basename(row.source_file), note ?? ''].join(' ').toLowerCase();
}

export function renderTableRow(entry: ReportEntry, page: Pick<ReportPage, 'thumbnailSize'>): string {
  const cells = TABLE_COLUMNS.map((column) => {
    const { html, value } = column.cell(entry, page);
    return value === undefined ? `<td>${html}</td>` : `<td data-value="${escapeHtml(value)}">${html}</td>`;
  });
  const attributes = `data-class="${escapeHtml(entry.row.candidate_class)}" data-z="${sortValue(selectionScore(entry.row).z)}" data-search="${escapeHtml(searchText(entry))}"`;
  return `<tr ${attributes}>${cells.join('')}</tr>`;
}

function tableHead(): string {
  const cells = TABLE_COLUMNS.map(({ key, label, sort }) =>
    sort === undefined
      ? `<th scope="col" data-key="${key}">${escapeHtml(label)}</th>`
      : `<th scope="col" data-key="${key}" data-type="${sort}" aria-sort="none"><button type="button">${escapeHtml(label)}</button></th>`,
  );
  return `<thead><tr>${cells.join('')}</tr></thead>`;
}

const INPUTS_SHOWN = 20;

function definitionList(items: readonly (readonly [string, string])[]): string {
  return `<dl>${items.map(([term, html]) => `<dt>${escapeHtml(term)}</dt><dd>${html}</dd>`).join('')}</dl>`;
}

function runSection(page: ReportPage): string {
  const { metadata, counts } = page;
  const config = metadata.config;
  const thresholds = config['thresholds'] as { z?: unknown; qsoFps?: unknown; pointLikeFps?: unknown } | undefined;
  const text = (value: unknown): string => escapeHtml(value === undefined ? MISSING : typeof value === 'string' ? value : JSON.stringify(value));
  const inputs = metadata.inputs.slice(0, INPUTS_SHOWN).map((input) => `<li>${escapeHtml(input)}</li>`);
  if (metadata.inputs.length > INPUTS_SHOWN) inputs.push(`<li>… and ${metadata.inputs.length - INPUTS_SHOWN} more</li>`);
  const run = definitionList([
    ['catalogue', escapeHtml(page.catalogPath)],
    ['created', escapeHtml(metadata.createdAt)],
    ['model', escapeHtml(metadata.modelName)],
    ['model card sha256', `<code>${escapeHtml(metadata.modelCardSha256)}</code>`],
    ['execution provider', escapeHtml(metadata.executionProvider)],
    ['seed', escapeHtml(String(metadata.seed))],
    ['sampler', `${text(config['samples'])} regenerations, ${text(config['steps'])} ${text(config['method'])} steps`],
    ['thresholds', `candidate: combined_z (agn_z where the model has no combined calibration) &gt; ${text(thresholds?.z)}; qso from f_ps ${text(thresholds?.qsoFps)}; point_like from f_ps ${text(thresholds?.pointLikeFps)}`],
    ['versions', `vis-agn ${escapeHtml(metadata.visAgnVersion)}, Node.js ${escapeHtml(metadata.nodeVersion)}, onnxruntime-node ${escapeHtml(metadata.onnxruntimeVersion)}`],
    ['inputs', metadata.inputs.length <= 3 ? `<ul class="inputs">${inputs.join('')}</ul>` : `<details><summary>${metadata.inputs.length} inputs</summary><ul class="inputs">${inputs.join('')}</ul></details>`],
  ]);
  const classRows = CANDIDATE_CLASSES.map((cls) => `<tr><td>${escapeHtml(cls)}</td><td>${counts.byClass[cls]}</td></tr>`);
  const flagRows = counts.byFlag.length === 0 ? ['<tr><td colspan="2">none set</td></tr>'] : counts.byFlag.map(([name, n]) => `<tr><td>${escapeHtml(name)}</td><td>${n}</td></tr>`);
  return [
    '<section id="run"><h2>Run</h2>',
    ...page.notes.map((note) => `<p class="warning">${escapeHtml(note)}</p>`),
    run,
    `<table class="counts"><caption>${counts.rows} rows, ${counts.candidates} candidates</caption><thead><tr><th scope="col">class</th><th scope="col">rows</th></tr></thead><tbody>${classRows.join('')}</tbody></table>`,
    `<table class="counts"><caption>${counts.flagged} flagged rows</caption><thead><tr><th scope="col">flag</th><th scope="col">rows</th></tr></thead><tbody>${flagRows.join('')}</tbody></table>`,
    `<details><summary>run configuration</summary><pre>${escapeHtml(JSON.stringify(config, null, 2))}</pre></details>`,
    '</section>',
  ].join('\n');
}

function figuresSection(figures: readonly ReportFigure[]): string {
  const items = figures.map(
    (f) =>
      `<figure><div class="chart" role="img" aria-label="${escapeHtml(f.title)}">${f.svg}</div><figcaption><strong>${escapeHtml(f.title)}</strong>. ${escapeHtml(f.caption)} <a href="${escapeHtml(f.svgFile)}">SVG</a> · <a href="${escapeHtml(f.pngFile)}">PNG</a></figcaption></figure>`,
  );
  return `<section id="plots"><h2>Plots</h2><div class="figures">${items.join('\n')}</div></section>`;
}

function candidatesSection(page: ReportPage): string {
  const classes = [...new Set([...page.classes, ...page.entries.map((e) => e.row.candidate_class)])];
  const boxes = classes.map((cls) => `<label><input type="checkbox" name="class" value="${escapeHtml(cls)}" checked> ${escapeHtml(cls)}</label>`);
  const shown = page.entries.length;
  const what = shown < page.eligible ? `the ${shown} most significant of ${page.eligible}` : `all ${shown}`;
  return [
    '<section id="candidates"><h2>Candidates</h2>',
    `<p>${escapeHtml(`${what} rows of class ${page.classes.join(', ')}, most significant first (combined_z, else agn_z). Click a column header to sort, again to reverse; images: the central 1.5" as observed, with the mean regeneration in its core, and the residual.`)}</p>`,
    `<form class="filters" id="filters">${boxes.join(' ')} <label>min z <input type="number" id="min-z" step="any"></label> <label>search <input type="search" id="search" placeholder="id, flag, file"></label> <output id="shown">${shown}</output> of ${shown} rows shown</form>`,
    `<table id="candidate-table">${tableHead()}<tbody>`,
    ...page.entries.map((entry) => renderTableRow(entry, page)),
    '</tbody></table></section>',
  ].join('\n');
}

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.5em; margin: 0 0 0.2em; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1em; }
dt { font-weight: 600; }
dd { margin: 0; }
ul.inputs { margin: 0; padding-left: 1.2em; }
table { border-collapse: collapse; margin: 0.5em 1em 0.5em 0; }
table.counts { display: inline-table; vertical-align: top; }
caption { white-space: nowrap; text-align: left; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: left; vertical-align: middle; }
td[data-value] { font-variant-numeric: tabular-nums; }
th button { font: inherit; font-weight: 600; border: 0; background: none; cursor: pointer; padding: 0; }
th[aria-sort="ascending"] button::after { content: " \\25B2"; }
th[aria-sort="descending"] button::after { content: " \\25BC"; }
img { image-rendering: pixelated; display: block; }
.figures { display: flex; flex-wrap: wrap; gap: 1em; }
figure { margin: 0; max-width: 560px; }
figure .chart svg { display: block; max-width: 100%; height: auto; }
.note { color: #8a4b00; margin: 0; max-width: 28em; }
.warning { background: #fff3cd; padding: 0.4em 0.6em; }
.filters { margin: 0.5em 0; }
tr[hidden] { display: none; }
`;

/** Sorting and filtering; kept tiny and dependency-free so the page works from a folder. */
const SCRIPT = `
(() => {
  const table = document.getElementById('candidate-table');
  const body = table.tBodies[0];
  const headers = [...table.tHead.rows[0].cells];
  const order = {
    number: (a, b) => Number(a) - Number(b),
    bigint: (a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0),
    text: (a, b) => a.localeCompare(b),
  };
  headers.forEach((th, column) => {
    const type = th.dataset.type;
    if (type === undefined) return;
    th.querySelector('button').addEventListener('click', () => {
      const direction = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
      for (const other of headers) if (other.dataset.type !== undefined) other.setAttribute('aria-sort', 'none');
      th.setAttribute('aria-sort', direction === 1 ? 'ascending' : 'descending');
      const value = (row) => row.cells[column].dataset.value ?? '';
      const rows = [...body.rows].sort((a, b) => {
        const [x, y] = [value(a), value(b)];
        // Missing values stay at the bottom in both directions.
        if (x === '' || y === '') return (x === '') - (y === '');
        return direction * order[type](x, y);
      });
      body.append(...rows);
    });
  });
  const boxes = [...document.querySelectorAll('input[name="class"]')];
  const minZ = document.getElementById('min-z');
  const search = document.getElementById('search');
  const shown = document.getElementById('shown');
  const filter = () => {
    const classes = new Set(boxes.filter((box) => box.checked).map((box) => box.value));
    const z = minZ.value === '' ? -Infinity : Number(minZ.value);
    const text = search.value.trim().toLowerCase();
    let visible = 0;
    for (const row of body.rows) {
      const rowZ = row.dataset.z === '' ? -Infinity : Number(row.dataset.z);
      const keep = classes.has(row.dataset.class) && rowZ >= z && row.dataset.search.includes(text);
      row.hidden = !keep;
      if (keep) visible++;
    }
    shown.textContent = String(visible);
  };
  document.getElementById('filters').addEventListener('input', filter);
  document.getElementById('filters').addEventListener('submit', (event) => event.preventDefault());
  filter();
})();
`;

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** Only the page's own files as images, and only its own inline style and script (by hash). */
const POLICY = `default-src 'none'; img-src 'self'; style-src ${sha256(STYLE)}; script-src ${sha256(SCRIPT)}; form-action 'none'; base-uri 'none'`;

export function renderReportPage(page: ReportPage): string {
  const title = `vis-agn report: ${path.basename(page.catalogPath)}`;
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(POLICY)}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head><body>',
    `<h1>${escapeHtml(title)}</h1>`,
    `<p>Generated ${escapeHtml(page.generatedAt)} by vis-agn report from ${escapeHtml(page.catalogPath)}.</p>`,
    runSection(page),
    figuresSection(page.figures),
    candidatesSection(page),
    `<script>${SCRIPT}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}
