/**
 * `npm run bench:detect`: detection quality on held-out simulated cutouts, never used in training or
 * calibration, against Source Extractor on the same files.
 *
 *   survey set (seed 23): the survey mix, mostly normal galaxies: the false-positive side (agn_z on
 *     normal galaxies, thresholds at fixed false-positive rates) and the f_ps accuracy;
 *   grid set (seed 24, ids from 1,000,001): AGN/QSOs at fixed f_PS values: the completeness side.
 *
 * Thresholds at a false-positive rate are set on the survey set's normal galaxies and applied to the
 * grid's sources, for vis-agn's agn_z, SPREAD_MODEL (score -SPREAD_MODEL: point sources sit at 0,
 * extended light above) and CLASS_STAR. Options: --quick (small sets, for CI), --survey N, --grid N,
 * --sextractor N (cutouts of each set measured by Source Extractor; 0 skips it), --dir D (keep the
 * simulated cutouts there and reuse them), --model CARD (default the committed model), --out F (default bench/results/detect.json; .md beside it).
 */

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { runSourceExtractor, sourceExtractorAvailable, summariseTiming } from '../baseline/sextractor.js';
import { defaultDetectionConfig, runDetection } from '../batch/run.js';
import { readCatalog } from '../catalog/read.js';
import { percent, rocAuc, thresholdAtFpr } from '../completeness/stats.js';
import { readTruthTable, type TruthObject } from '../completeness/truth.js';
import { defaultCardPath, readCard } from '../model/card.js';
import { simulateCutouts } from '../sim/cutouts.js';
import { buildRecipe } from '../sim/recipe.js';
import { writeBenchResults } from './report.js';

const GRID_FPS = [0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1];
const GRID_FIRST_ID = 1_000_001;
const FPRS = [0.01, 0.001];

interface SimSet {
  readonly files: string[];
  readonly truth: TruthObject[];
}

async function simulatedSet(dir: string, count: number, seed: number, grid: boolean): Promise<SimSet> {
  const manifest = path.join(dir, 'manifest.json');
  const firstId = grid ? GRID_FIRST_ID : 1;
  let files: string[];
  const reusable = existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { count: number; seed: number }).count === count;
  if (reusable) {
    files = (JSON.parse(readFileSync(manifest, 'utf8')) as { files: string[] }).files.map((f) => path.join(dir, f));
  } else {
    const recipe = grid ? buildRecipe({ mix: 'grid', gridFps: GRID_FPS }) : buildRecipe({});
    files = (await simulateCutouts({ count, seed, out: dir, recipe, firstId })).files;
  }
  return { files, truth: await readTruthTable(path.join(dir, 'truth.arrow')) };
}

/** Scores keyed by object id; null where the method gave none. */
type Scores = Map<bigint, number | null>;

interface MethodQuality {
  readonly method: string;
  readonly galaxies: number;
  readonly thresholds: readonly { fpr: number; threshold: number | null }[];
  /** Per grid f_PS value: completeness at each FPR and the ROC AUC against normal galaxies. */
  readonly byFps: readonly { fps: number; n: number; atFpr: readonly (number | null)[]; auc: number | null }[];
  /** AUC of every grid source with f_PS >= 0.2 (stars excluded) against the normal galaxies. */
  readonly aucBright: number | null;
}

function scored(values: Scores, ids: readonly bigint[]): number[] {
  // A source without a score ranks below every score: it is never selected.
  return ids.map((id) => values.get(id) ?? Number.NEGATIVE_INFINITY);
}

function methodQuality(method: string, values: Scores, survey: SimSet, grid: SimSet): MethodQuality {
  const galaxyIds = survey.truth.filter((t) => t.cls === 'galaxy' && values.has(t.objectId)).map((t) => t.objectId);
  const negatives = scored(values, galaxyIds);
  const thresholds = FPRS.map((fpr) => ({ fpr, threshold: thresholdAtFpr(negatives, fpr) }));
  const byFps = GRID_FPS.filter((f) => f > 0 && f < 1).map((fps) => {
    const ids = grid.truth.filter((t) => t.fps === fps && values.has(t.objectId)).map((t) => t.objectId);
    const positives = scored(values, ids);
    return {
      fps,
      n: ids.length,
      atFpr: thresholds.map((t) => (t.threshold === null || ids.length === 0 ? null : positives.filter((s) => s > t.threshold!).length / ids.length)),
      auc: rocAuc(positives, negatives),
    };
  });
  const bright = grid.truth.filter((t) => t.fps >= 0.2 && t.cls !== 'star' && values.has(t.objectId)).map((t) => t.objectId);
  return { method, galaxies: galaxyIds.length, thresholds, byFps, aucBright: rocAuc(scored(values, bright), negatives) };
}

function positive(text: string | undefined, fallback: number, allowZero = false): number {
  const n = text === undefined ? fallback : Number(text);
  if (!Number.isSafeInteger(n) || n < (allowZero ? 0 : 1)) throw new Error(`expected a ${allowZero ? 'non-negative' : 'positive'} integer, got '${text}'`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      survey: { type: 'string' },
      grid: { type: 'string' },
      sextractor: { type: 'string' },
      dir: { type: 'string' },
      model: { type: 'string' },
      out: { type: 'string', default: path.join('bench', 'results', 'detect.json') },
    },
  });
  const surveyCount = positive(values.survey, values.quick ? 300 : 10000);
  const gridCount = positive(values.grid, values.quick ? 180 : 4500);
  const sexCount = positive(values.sextractor, values.quick ? 40 : 1500, true);
  const dir = values.dir ?? mkdtempSync(path.join(os.tmpdir(), 'vis-agn-bench-detect-'));
  const cardPath = values.model ?? defaultCardPath();
  const card = readCard(cardPath).card;
  const loadBefore = os.loadavg();

  const survey = await simulatedSet(path.join(dir, 'survey-seed23'), surveyCount, 23, false);
  const grid = await simulatedSet(path.join(dir, 'grid-seed24'), gridCount, 24, true);

  const config = defaultDetectionConfig(card);
  const ours: Scores = new Map();
  const fpsEstimates = new Map<bigint, number | null>();
  const selected = new Map<bigint, boolean>();
  let runSeconds = 0;
  for (const [name, set] of [['survey', survey], ['grid', grid]] as const) {
    const summary = await runDetection({ inputs: set.files, out: path.join(dir, `run-${name}`), cardPath, device: 'cpu', threads: 1, workers: os.availableParallelism(), batch: 256, config });
    runSeconds += summary.seconds;
    for (const row of (await readCatalog(summary.catalog)).rows) {
      ours.set(row.object_id, row.agn_z);
      fpsEstimates.set(row.object_id, row.f_ps);
      selected.set(row.object_id, row.is_candidate);
    }
  }

  const galaxies = survey.truth.filter((t) => t.cls === 'galaxy');
  const galaxyZ = galaxies.map((t) => ours.get(t.objectId)).filter((z): z is number => z !== null && z !== undefined);
  const mean = galaxyZ.reduce((a, b) => a + b, 0) / galaxyZ.length;
  const sd = Math.sqrt(galaxyZ.reduce((a, b) => a + (b - mean) ** 2, 0) / (galaxyZ.length - 1));
  const above3 = galaxyZ.filter((z) => z > 3).length;
  const withFps = [...survey.truth, ...grid.truth].filter((t) => t.cls !== 'star' && fpsEstimates.get(t.objectId) != null);
  const rmse = (set: readonly TruthObject[]) => Math.sqrt(set.reduce((a, t) => a + (fpsEstimates.get(t.objectId)! - t.fps) ** 2, 0) / set.length);
  const agnGrid = grid.truth.filter((t) => t.cls === 'agn' || t.cls === 'qso');
  const defaultSelection = GRID_FPS.filter((f) => f > 0 && f < 1).map((fps) => {
    const ids = grid.truth.filter((t) => t.fps === fps).map((t) => t.objectId);
    return { fps, completeness: ids.filter((id) => selected.get(id) === true).length / ids.length };
  });
  const galaxiesSelected = galaxies.filter((t) => selected.get(t.objectId) === true).length;

  const methods: MethodQuality[] = [methodQuality(`vis-agn agn_z (${card.name})`, ours, survey, grid)];
  let sextractor: { timing: ReturnType<typeof summariseTiming>; measured: number } | undefined;
  if (sexCount > 0 && sourceExtractorAvailable()) {
    const chosen = [...survey.files.slice(0, sexCount), ...grid.files.slice(0, sexCount)];
    const ids = [...survey.truth.slice(0, sexCount), ...grid.truth.slice(0, sexCount)].map((t) => t.objectId);
    const started = performance.now();
    const results = await runSourceExtractor(chosen, { workers: os.availableParallelism() });
    const timing = summariseTiming(results, (performance.now() - started) / 1000);
    const spread: Scores = new Map(results.map((r, k) => [ids[k]!, r.spreadModel === null ? null : -r.spreadModel]));
    const classStar: Scores = new Map(results.map((r, k) => [ids[k]!, r.classStar]));
    // The same sources for every method, so the comparison is like for like.
    const oursSubset: Scores = new Map(ids.map((id) => [id, ours.get(id) ?? null]));
    methods.push(methodQuality('vis-agn agn_z, same cutouts as Source Extractor', oursSubset, survey, grid));
    methods.push(methodQuality('Source Extractor -SPREAD_MODEL (true PSF)', spread, survey, grid));
    methods.push(methodQuality('Source Extractor CLASS_STAR', classStar, survey, grid));
    sextractor = { timing, measured: chosen.length };
  }

  const result = {
    date: new Date().toISOString(),
    node: process.version,
    cpu: `${os.cpus()[0]?.model ?? 'unknown'} x${os.cpus().length}`,
    loadAverageBefore: loadBefore,
    model: card.name,
    significance: card.significance ?? null,
    sets: { survey: { seed: 23, count: surveyCount, galaxies: galaxies.length }, grid: { seed: 24, count: gridCount, fps: GRID_FPS } },
    galaxies: { scored: galaxyZ.length, zMean: mean, zSd: sd, aboveThree: above3 / galaxyZ.length, selected: galaxiesSelected / galaxies.length },
    fpsRmse: { all: rmse(withFps), agnQso: rmse(withFps.filter((t) => t.fps > 0)), gridAgnQso: rmse(agnGrid.filter((t) => fpsEstimates.get(t.objectId) != null)) },
    defaultSelection: { threshold: config.thresholds.z, byFps: defaultSelection },
    runSourcesPerSecond: (surveyCount + gridCount) / runSeconds,
    methods,
    sextractor: sextractor ?? null,
  };

  const fpsValues = GRID_FPS.filter((f) => f > 0 && f < 1);
  const md = [
    `Detection on held-out simulated cutouts, ${result.cpu}, Node ${result.node}, model ${card.name}, load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}.`,
    `Survey set: ${surveyCount} cutouts (seed 23, ${galaxies.length} normal galaxies); grid set: ${gridCount} cutouts (seed 24, ${gridCount / GRID_FPS.length} per f_PS value).`,
    '',
    `Normal galaxies: agn_z mean ${mean.toFixed(3)}, sd ${sd.toFixed(3)}; P(agn_z > 3) = ${percent(above3 / galaxyZ.length, 2)} (${above3}/${galaxyZ.length}; N(0,1): 0.13%); selected by the default cut (agn_z > ${config.thresholds.z}): ${percent(galaxiesSelected / galaxies.length, 2)}.`,
    `f_ps RMSE: ${result.fpsRmse.all.toFixed(4)} over galaxies, AGN and QSOs of both sets; ${result.fpsRmse.agnQso.toFixed(4)} over AGN and QSOs only.`,
    `Default selection (agn_z > ${config.thresholds.z}) completeness by f_PS: ${defaultSelection.map((d) => `${d.fps}: ${percent(d.completeness)}`).join(', ')}.`,
    `vis-agn: ${result.runSourcesPerSecond.toFixed(0)} sources/s end to end (FITS in, Arrow catalogue out).${sextractor ? ` Source Extractor: ${(1000 * sextractor.timing.wallSecondsPerSource).toFixed(1)} ms per source (${sextractor.measured} cutouts, ${os.availableParallelism()} at once).` : ' Source Extractor: not run.'}`,
    '',
    `Completeness at a fixed false-positive rate among normal galaxies (threshold set on the survey set's galaxies), ROC AUC against them:`,
    '',
    `| method | FPR | ${fpsValues.map((f) => `f_PS ${f}`).join(' | ')} | AUC (f_PS >= 0.2) |`,
    `| --- | ---: | ${fpsValues.map(() => '---:').join(' | ')} | ---: |`,
    ...methods.flatMap((m) =>
      FPRS.map((fpr, k) => `| ${m.method} | ${percent(fpr, 1)} | ${m.byFps.map((b) => percent(b.atFpr[k] ?? null)).join(' | ')} | ${k === 0 ? (m.aucBright?.toFixed(4) ?? '–') : ''} |`),
    ),
    '',
    `ROC AUC per f_PS: ${methods.map((m) => `${m.method}: ${m.byFps.map((b) => `${b.fps} ${b.auc?.toFixed(3) ?? '–'}`).join(', ')}`).join('; ')}.`,
    '',
  ].join('\n');
  writeBenchResults(values.out!, result, md);
  if (values.dir === undefined) rmSync(dir, { recursive: true, force: true });
}

await main();
