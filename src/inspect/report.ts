/**
 * `vis-agn report`: a folder that shows a run to a person. The most significant candidates are
 * recomputed from their cutout files with the run's recorded settings (in batches: results do not
 * depend on them), each giving a thumbnail strip and the inspection panel; plots summarise the whole
 * catalogue (and, given the simulation's truth, its completeness); index.html ties them together.
 * index.html is written last, through a temporary file, so it exists only once everything it links
 * to does.
 */

import path from 'node:path';

import { ensureOutputDir, writeAtomically } from '../atomic-file.js';
import { runConfigOf, type RunConfig } from '../batch/metadata.js';
import type { PreparedCutout } from '../batch/run.js';
import { decodeFlags } from '../ground/flags.js';
import { readCatalog } from '../catalog/read.js';
import { selectionScore, type CatalogRow } from '../catalog/schema.js';
import type { CandidateClass } from '../detect/detect.js';
import { evaluateCatalogAgainstTruth, readTruthTable, scoredObject, type TruthReport } from '../completeness/truth.js';
import { VisAgnError } from '../errors.js';
import { CoreGenerator } from '../model/generator.js';
import { inspectPrepared, prepareRowForInspection } from './inspect.js';
import { renderChart } from './charts.js';
import { scopeSvgIds, writeFigure } from './figure.js';
import { renderInspectionPanel, renderThumbnail, THUMBNAIL_SIZE } from './panel.js';
import { encodePngAsync, type RasterImage } from './png.js';
import { selectionZPlot, fpsMagPlot, truthPlots, type ReportPlot } from './report-plots.js';
import { renderReportPage, type ReportCounts, type ReportEntry, type ReportFigure } from './report-html.js';

export interface ReportOptions {
  readonly catalog: string;
  readonly out: string;
  /** Rows of these classes make the table ... */
  readonly classes: readonly CandidateClass[];
  /** ... at most this many, most significant first. */
  readonly maxCandidates: number;
  /** A simulation's truth table: adds completeness plots. */
  readonly truth?: string;
  /** Model card to recompute with; by default the one the run recorded. */
  readonly cardPath?: string;
  readonly threads: number;
  readonly onProgress?: (done: number, total: number) => void;
  readonly onWarning?: (message: string) => void;
}

export interface ReportResult {
  readonly index: string;
  readonly eligible: number;
  readonly shown: number;
  /** Rows listed without images: their cutouts could not be recomputed. */
  readonly withoutImages: number;
}

/** Sources recomputed per model batch. */
const BATCH = 32;

const THUMBS_DIR = 'thumbs';
const PANELS_DIR = 'panels';
const PLOTS_DIR = 'plots';

/** Rows of `classes`, most significant (selectionScore) first, at most `max`. */
export function selectRows(rows: readonly CatalogRow[], classes: readonly CandidateClass[], max: number): { eligible: number; selected: CatalogRow[] } {
  const eligible = rows.filter((row) => classes.includes(row.candidate_class));
  eligible.sort((a, b) => (selectionScore(b).z ?? -Infinity) - (selectionScore(a).z ?? -Infinity));
  return { eligible: eligible.length, selected: eligible.slice(0, max) };
}

export function countRows(rows: readonly CatalogRow[]): ReportCounts {
  const byClass: Record<CandidateClass, number> = { agn: 0, qso: 0, point_like: 0, none: 0 };
  const byFlag = new Map<string, number>();
  let candidates = 0;
  let flagged = 0;
  for (const row of rows) {
    byClass[row.candidate_class]++;
    if (row.is_candidate) candidates++;
    if (row.flags !== 0) flagged++;
    for (const name of decodeFlags(row.flags)) byFlag.set(name, (byFlag.get(name) ?? 0) + 1);
  }
  return { rows: rows.length, byClass, candidates, flagged, byFlag: [...byFlag] };
}

async function writePng(file: string, image: RasterImage): Promise<void> {
  await writeAtomically(file, async (handle) => handle.write(await encodePngAsync(image)));
}

/** Waits for every write, then throws the first failure: none is left running unobserved. */
async function settleAll(writes: readonly Promise<void>[]): Promise<void> {
  const failed = (await Promise.allSettled(writes)).find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}

/** The file name of an object's images: its id, which is unique in a catalogue. */
const imageName = (row: CatalogRow) => String(row.object_id);

async function truthReport(options: ReportOptions, rows: readonly CatalogRow[]): Promise<TruthReport | undefined> {
  if (options.truth === undefined) return undefined;
  const truth = await readTruthTable(options.truth);
  return evaluateCatalogAgainstTruth(rows.map(scoredObject), truth, {}, { catalog: options.catalog, truth: options.truth });
}

/** A row's cutout read again, or why it could not be: a missing file, or a file holding another object. */
function readAgain(row: CatalogRow, generator: CoreGenerator, config: RunConfig): PreparedCutout | string {
  let cutout: PreparedCutout;
  try {
    cutout = prepareRowForInspection(row, generator, config);
  } catch (error) {
    if (!(error instanceof VisAgnError)) throw error;
    return `no images: the cutout could not be read again (${error.message})`;
  }
  if (cutout.cutout.objectId === row.object_id) return cutout;
  return `no images: ${row.source_file} is a cutout of object ${cutout.cutout.objectId}, not of this one`;
}

/** One batch of table rows: recomputed in one model call, their images written (encoded in parallel). */
async function batchEntries(rows: readonly CatalogRow[], generator: CoreGenerator, config: RunConfig, options: ReportOptions): Promise<ReportEntry[]> {
  const cutouts = rows.map((row) => readAgain(row, generator, config));
  const readable = cutouts.filter((cutout): cutout is PreparedCutout => typeof cutout !== 'string');
  const inspected = await inspectPrepared(generator, readable, config);
  const writes: Promise<void>[] = [];
  const entries = rows.map((row, k): ReportEntry => {
    const cutout = cutouts[k]!;
    if (typeof cutout === 'string') return { row, note: cutout };
    const source = inspected[readable.indexOf(cutout)]!;
    const thumbnail = `${THUMBS_DIR}/${imageName(row)}.png`;
    const panel = `${PANELS_DIR}/${imageName(row)}`;
    writes.push(writePng(path.join(options.out, thumbnail), renderThumbnail(source.view)), writeFigure(path.join(options.out, panel), renderInspectionPanel(source.view)).then(() => undefined));
    if (source.row.agn_z === row.agn_z) return { row, thumbnail, panel };
    options.onWarning?.(`object ${row.object_id}: agn_z recomputes as ${source.row.agn_z}, the catalogue has ${row.agn_z}`);
    return { row, thumbnail, panel, note: `recomputed agn_z ${source.row.agn_z?.toFixed(2) ?? 'n/a'} differs from the catalogue's (another model or input file?)` };
  });
  await settleAll(writes);
  return entries;
}

export async function writeReport(options: ReportOptions): Promise<ReportResult> {
  const catalog = await readCatalog(options.catalog);
  const config = runConfigOf(catalog.metadata, options.catalog);
  // Read before the slow part, so a wrong truth file fails at once.
  const truth = await truthReport(options, catalog.rows);
  const { eligible, selected } = selectRows(catalog.rows, options.classes, options.maxCandidates);
  for (const dir of [THUMBS_DIR, PANELS_DIR, PLOTS_DIR]) await ensureOutputDir(path.join(options.out, dir));

  const notes: string[] = [];
  const entries: ReportEntry[] = [];
  const generator = await CoreGenerator.load(options.cardPath ?? config.model, { device: 'cpu', threads: options.threads });
  try {
    if (generator.loaded.cardSha256 !== catalog.metadata.modelCardSha256) {
      const note = `images recomputed with model card ${generator.loaded.cardSha256}, not the run's ${catalog.metadata.modelCardSha256}: they may not match the catalogue's scores`;
      notes.push(note);
      options.onWarning?.(note);
    }
    for (let start = 0; start < selected.length; start += BATCH) {
      entries.push(...(await batchEntries(selected.slice(start, start + BATCH), generator, config, options)));
      options.onProgress?.(entries.length, selected.length);
    }
  } finally {
    await generator.release();
  }

  const plots: ReportPlot[] = [
    ...[selectionZPlot(catalog.rows, config.thresholds), fpsMagPlot(catalog.rows, config.thresholds)].filter((plot): plot is ReportPlot => plot !== undefined),
    ...(truth === undefined ? [] : truthPlots(truth)),
  ];
  const figures: ReportFigure[] = [];
  for (const plot of plots) {
    const figure = await renderChart(plot.chart);
    const base = `${PLOTS_DIR}/${plot.name}`;
    await writeFigure(path.join(options.out, base), figure);
    figures.push({ svgFile: `${base}.svg`, pngFile: `${base}.png`, svg: scopeSvgIds(figure.svg, plot.name), title: plot.title, caption: plot.caption });
  }

  const withoutImages = entries.filter((entry) => entry.thumbnail === undefined).length;
  if (withoutImages > 0) notes.push(`${withoutImages} of ${entries.length} rows in the table have no images: their cutouts could not be recomputed (see the notes in the table).`);
  const html = renderReportPage({
    catalogPath: options.catalog,
    metadata: catalog.metadata,
    generatedAt: new Date().toISOString(),
    counts: countRows(catalog.rows),
    classes: options.classes,
    eligible,
    entries,
    figures,
    notes,
    thumbnailSize: THUMBNAIL_SIZE,
  });
  const index = path.join(options.out, 'index.html');
  await writeAtomically(index, (file) => file.write(Buffer.from(html)));
  return { index, eligible, shown: entries.length, withoutImages };
}
