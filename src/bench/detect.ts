/**
 * `npm run bench:detect`: detection quality on held-out simulated cutouts, never used in training or
 * calibration, against the peers on the same files, for each simulated population (`realistic`, the
 * default population, and `stress`, the one the first models were trained on), and on `crosscheck`,
 * an independent set rendered without src/sim (src/bench/crosscheck-set.ts; one set holds its
 * galaxies, AGN/QSOs and stars, and the peers run on its first --peers cutouts):
 *
 *   survey set (seed 23): the survey mix, mostly normal galaxies: the false-positive side (the selection score on
 *     normal galaxies, thresholds at fixed false-positive rates) and the f_ps accuracy;
 *   grid set (seed 24, ids from 1,000,001): AGN/QSOs at fixed f_PS values and stars: the completeness side.
 *
 * Thresholds at a false-positive rate are set on the survey set's normal galaxies and applied to the
 * grid's sources. Methods: vis-agn's selection score combined_z (with its f_ps) and, as the ablation,
 * its generative (agn_z, with the generative ratio f_ps_generative) and morphology (morph_z) tests alone; Source Extractor's -SPREAD_MODEL (point
 * sources sit at 0, extended light above) and CLASS_STAR with the true PSF; the Sérsic + PSF
 * least-squares fit with the true PSF (src/baseline/sersic-psf.ts), ranked by its f_PS and by its
 * chi2 gain over the host alone; the concentration index (src/baseline/concentration.ts). The peers
 * run on the first --peers cutouts of each set, and vis-agn is also reported on just those.
 *
 * Options: --quick (small sets, for CI), --survey N, --grid N, --peers N (0 skips the peers),
 * --populations realistic,stress,crosscheck, --dir D (keep the simulated cutouts there and reuse them), --model
 * CARD (default the committed model), --workers W (default the cores), --out F (default
 * bench/results/detect.json; .md beside it).
 */

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { runSourceExtractor, sourceExtractorAvailable, summariseTiming } from '../baseline/sextractor.js';
import { runDetection } from '../batch/run.js';
import { readCatalog } from '../catalog/read.js';
import { selectionScore } from '../catalog/schema.js';
import { binOf, DEFAULT_MAG_EDGES, errorSummary, percent, rocAuc, thresholdAtFpr, type ErrorSummary } from '../completeness/stats.js';
import { readTruthTable, type TruthObject } from '../completeness/truth.js';
import { defaultDetectionSettings } from '../detect/settings.js';
import { defaultCardPath, readCard } from '../model/card.js';
import { simulateCutouts } from '../sim/cutouts.js';
import { buildRecipe } from '../sim/recipe.js';
import { orderedPool } from '../worker-pool.js';
import { crosscheckSet, crosscheckUnavailable, type CrosscheckRecipe } from './crosscheck-set.js';
import { measurePeers, type PeerMeasure, type PeerTask } from './peers-worker.js';
import { writeBenchResults } from './report.js';

/** The f_PS values of the grid; 1 is a star. */
const GRID_FPS = [0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1];
const AGN_FPS = GRID_FPS.filter((f) => f < 1);
const GRID_FIRST_ID = 1_000_001;
const FPRS = [0.01, 0.001];
/** AUC, the per-magnitude completeness and the magnitude rows count AGN/QSOs from this f_PS up. */
const BRIGHT_FPS = 0.2;
/** The population rendered by pipelines/crosscheck/make_set.py rather than src/sim. */
const CROSSCHECK = 'crosscheck';
/** Cutouts per peer task: a few seconds of fitting, so the pool's order costs little. */
const PEER_BLOCK = 16;

interface SimSet {
  readonly files: string[];
  readonly truth: TruthObject[];
}

async function simulatedSet(dir: string, count: number, seed: number, population: string, grid: boolean): Promise<SimSet> {
  const manifest = path.join(dir, 'manifest.json');
  const firstId = grid ? GRID_FIRST_ID : 1;
  let files: string[];
  const reusable = existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { count: number; seed: number }).count === count;
  if (reusable) {
    files = (JSON.parse(readFileSync(manifest, 'utf8')) as { files: string[] }).files.map((f) => path.join(dir, f));
  } else {
    const recipe = grid ? buildRecipe({ population, mix: 'grid', gridFps: GRID_FPS }) : buildRecipe({ population });
    files = (await simulateCutouts({ count, seed, out: dir, recipe, firstId })).files;
  }
  return { files, truth: await readTruthTable(path.join(dir, 'truth.arrow')) };
}

/** Scores keyed by object id; null where the method gave none. */
type Scores = Map<bigint, number | null>;

interface Method {
  readonly name: string;
  readonly scores: Scores;
  /** f_PS estimates, for the methods that make one. */
  readonly fps?: Scores;
}

interface BinQuality {
  readonly n: number;
  /** Completeness at each of FPRS. */
  readonly atFpr: readonly (number | null)[];
  readonly auc: number | null;
  /** f_PS estimate - truth; null for methods without an f_PS. */
  readonly fpsError: ErrorSummary | null;
}

interface MethodQuality {
  readonly method: string;
  readonly galaxies: number;
  readonly thresholds: readonly { fpr: number; threshold: number | null }[];
  /** Per grid f_PS value (AGN/QSOs) and for the grid's stars. */
  readonly byFps: readonly ({ fps: number | 'star' } & BinQuality)[];
  /**
   * Per magnitude bin: completeness and AUC of the AGN/QSOs with f_PS >= BRIGHT_FPS (AUC against the
   * normal galaxies of the same bin; completeness at the thresholds of all galaxies), f_PS error of
   * all grid AGN/QSOs in the bin.
   */
  readonly byMag: readonly ({ mag: readonly [number, number] } & BinQuality)[];
  /** AUC of every grid AGN/QSO with f_PS >= BRIGHT_FPS against the normal galaxies. */
  readonly aucBright: number | null;
  /** f_PS error over the grid's AGN/QSOs (all f_PS values), and on the survey's normal galaxies (truth 0). */
  readonly fpsAgn: ErrorSummary | null;
  readonly fpsGalaxies: ErrorSummary | null;
}

function scored(values: Scores, ids: readonly bigint[]): number[] {
  // A source without a score ranks below every score: it is never selected.
  return ids.map((id) => values.get(id) ?? Number.NEGATIVE_INFINITY);
}

function fpsError(estimates: Scores | undefined, objects: readonly TruthObject[]): ErrorSummary | null {
  if (estimates === undefined) return null;
  // A source without an estimate is left out: the row's n says how many had one.
  return errorSummary(objects.filter((t) => estimates.get(t.objectId) != null).map((t) => [estimates.get(t.objectId)!, t.fps] as const));
}

function methodQuality(method: Method, survey: SimSet, grid: SimSet): MethodQuality {
  const { scores } = method;
  const measured = (t: TruthObject) => scores.has(t.objectId);
  const galaxies = survey.truth.filter((t) => t.cls === 'galaxy' && measured(t));
  const negatives = scored(scores, galaxies.map((t) => t.objectId));
  const thresholds = FPRS.map((fpr) => ({ fpr, threshold: thresholdAtFpr(negatives, fpr) }));
  const bin = (objects: readonly TruthObject[], against: readonly number[], fpsObjects: readonly TruthObject[] = objects): BinQuality => {
    const positives = scored(scores, objects.map((t) => t.objectId));
    return {
      n: objects.length,
      atFpr: thresholds.map((t) => (t.threshold === null || objects.length === 0 ? null : positives.filter((s) => s > t.threshold!).length / objects.length)),
      auc: rocAuc(positives, against),
      fpsError: fpsError(method.fps, fpsObjects),
    };
  };
  const agn = grid.truth.filter((t) => t.cls !== 'star' && t.fps > 0 && measured(t));
  const bright = agn.filter((t) => t.fps >= BRIGHT_FPS);
  const byFps = [
    ...AGN_FPS.map((fps) => ({ fps: fps as number | 'star', ...bin(agn.filter((t) => t.fps === fps), negatives) })),
    { fps: 'star' as const, ...bin(grid.truth.filter((t) => t.cls === 'star' && measured(t)), negatives) },
  ];
  const byMag = DEFAULT_MAG_EDGES.slice(0, -1).map((lo, k) => {
    const inBin = (t: TruthObject) => binOf(DEFAULT_MAG_EDGES, t.mag) === k;
    const against = scored(scores, galaxies.filter(inBin).map((t) => t.objectId));
    return { mag: [lo, DEFAULT_MAG_EDGES[k + 1]!] as const, ...bin(bright.filter(inBin), against, agn.filter(inBin)) };
  });
  return {
    method: method.name,
    galaxies: galaxies.length,
    thresholds,
    byFps,
    byMag,
    aucBright: rocAuc(scored(scores, bright.map((t) => t.objectId)), negatives),
    fpsAgn: fpsError(method.fps, agn),
    fpsGalaxies: fpsError(method.fps, galaxies),
  };
}

function count(text: string | undefined, fallback: number, allowZero = false): number {
  const n = text === undefined ? fallback : Number(text);
  if (!Number.isSafeInteger(n) || n < (allowZero ? 0 : 1)) throw new Error(`expected a ${allowZero ? 'non-negative' : 'positive'} integer, got '${text}'`);
  return n;
}

interface Settings {
  readonly surveyCount: number;
  readonly gridCount: number;
  readonly peerCount: number;
  readonly workers: number;
  readonly dir: string;
  readonly cardPath: string;
  readonly crosscheck: CrosscheckRecipe;
}

interface PopulationSets {
  /** Whose normal galaxies set the thresholds. */
  readonly survey: SimSet;
  /** Whose AGN/QSOs and stars are counted; the same object as `survey` where one set holds both. */
  readonly grid: SimSet;
  readonly description: string;
}

async function populationSets(population: string, settings: Settings): Promise<PopulationSets> {
  const { dir, surveyCount, gridCount } = settings;
  if (population === CROSSCHECK) {
    const r = settings.crosscheck;
    const set = await crosscheckSet(path.join(dir, `${CROSSCHECK}-seed${r.seed}`), r);
    const galaxies = set.truth.filter((t) => t.cls === 'galaxy').length;
    const description = `Independent set (pipelines/crosscheck/make_set.py, seed ${r.seed}: none of src/sim's code or population rules): ${set.files.length} cutouts of I_E ${r.mag[0]}-${r.mag[1]}, ${galaxies} normal galaxies (the false-positive side; 40% of the disks, ellipticals and bulge + disk galaxies with a nucleus of 3-8% of the light), ${r.agnPerFps} AGN/QSOs per f_PS value and ${r.stars} stars.`;
    return { survey: set, grid: set, description };
  }
  const survey = await simulatedSet(path.join(dir, `${population}-survey-seed23`), surveyCount, 23, population, false);
  const grid = await simulatedSet(path.join(dir, `${population}-grid-seed24`), gridCount, 24, population, true);
  const galaxies = survey.truth.filter((t) => t.cls === 'galaxy').length;
  const description = `Survey set: ${surveyCount} cutouts (seed 23, ${galaxies} normal galaxies); grid set: ${gridCount} cutouts (seed 24, ${Math.round(gridCount / GRID_FPS.length)} per f_PS value, f_PS 1 a star).`;
  return { survey, grid, description };
}

/** The Sérsic + PSF fit and the concentration index of each file, in file order. */
async function projectPeers(files: readonly string[], workers: number): Promise<{ measures: PeerMeasure[]; wallSeconds: number }> {
  const started = performance.now();
  const tasks: PeerTask[] = [];
  for (let k = 0; k < files.length; k += PEER_BLOCK) tasks.push({ files: files.slice(k, k + PEER_BLOCK) });
  const measures: PeerMeasure[] = [];
  for await (const block of orderedPool(new URL('./peers-worker.js', import.meta.url), tasks, { workers }, measurePeers)) measures.push(...block);
  return { measures, wallSeconds: (performance.now() - started) / 1000 };
}

async function benchPopulation(population: string, settings: Settings) {
  const { peerCount, workers, dir, cardPath } = settings;
  const card = readCard(cardPath).card;
  const { survey, grid, description } = await populationSets(population, settings);
  const oneSet = survey === grid;

  const config = defaultDetectionSettings(card);
  // The selection score (combined_z) and, as the ablation, each of its two tests alone.
  const ours: Scores = new Map();
  const generativeOnly: Scores = new Map();
  const morphologyOnly: Scores = new Map();
  const oursFps: Scores = new Map();
  const generativeFps: Scores = new Map();
  const selected = new Map<bigint, boolean>();
  let runSeconds = 0;
  for (const [name, set] of oneSet ? ([['all', survey]] as const) : ([['survey', survey], ['grid', grid]] as const)) {
    const summary = await runDetection({ inputs: set.files, out: path.join(dir, `${population}-run-${name}`), cardPath, device: 'cpu', threads: 1, workers, batch: 256, settings: config });
    runSeconds += summary.seconds;
    for (const row of (await readCatalog(summary.catalog)).rows) {
      ours.set(row.object_id, selectionScore(row).z);
      generativeOnly.set(row.object_id, row.agn_z);
      morphologyOnly.set(row.object_id, row.morph_z);
      oursFps.set(row.object_id, row.f_ps);
      generativeFps.set(row.object_id, row.f_ps_generative);
      selected.set(row.object_id, row.is_candidate);
    }
  }

  const galaxies = survey.truth.filter((t) => t.cls === 'galaxy');
  const galaxyZ = galaxies.map((t) => ours.get(t.objectId)).filter((z): z is number => z !== null && z !== undefined);
  const mean = galaxyZ.reduce((a, b) => a + b, 0) / galaxyZ.length;
  const sd = Math.sqrt(galaxyZ.reduce((a, b) => a + (b - mean) ** 2, 0) / (galaxyZ.length - 1));
  const above3 = galaxyZ.filter((z) => z > 3).length;
  const defaultSelection = GRID_FPS.map((fps) => {
    const ids = grid.truth.filter((t) => t.fps === fps).map((t) => t.objectId);
    return { fps, completeness: ids.filter((id) => selected.get(id) === true).length / ids.length };
  });
  const galaxiesSelected = galaxies.filter((t) => selected.get(t.objectId) === true).length;

  const combined = card.significance?.combined !== undefined;
  const methods: Method[] = [{ name: `vis-agn ${combined ? 'combined_z' : 'agn_z'} (${card.name})`, scores: ours, fps: oursFps }];
  if (combined) {
    methods.push({ name: 'vis-agn agn_z and f_ps_generative alone (generative)', scores: generativeOnly, fps: generativeFps });
    methods.push({ name: 'vis-agn morph_z alone (morphology)', scores: morphologyOnly });
  }
  let sextractor: { timing: ReturnType<typeof summariseTiming>; measured: number } | null = null;
  let sersic: { wallSecondsPerSource: number; fitSecondsPerSource: number; measured: number } | null = null;
  if (peerCount > 0) {
    const chosen = oneSet ? survey.files.slice(0, peerCount) : [...survey.files.slice(0, peerCount), ...grid.files.slice(0, peerCount)];
    const ids = (oneSet ? survey.truth.slice(0, peerCount) : [...survey.truth.slice(0, peerCount), ...grid.truth.slice(0, peerCount)]).map((t) => t.objectId);
    const subset = (values: Scores): Scores => new Map(ids.map((id) => [id, values.get(id) ?? null]));
    // The same sources for every method, so the comparison is like for like.
    methods.push({ name: `vis-agn ${combined ? 'combined_z' : 'agn_z'}, same cutouts as the peers`, scores: subset(ours), fps: subset(oursFps) });
    if (sourceExtractorAvailable()) {
      const started = performance.now();
      const results = await runSourceExtractor(chosen, { workers });
      const timing = summariseTiming(results, (performance.now() - started) / 1000);
      methods.push({ name: 'Source Extractor -SPREAD_MODEL (true PSF)', scores: new Map(results.map((r, k) => [ids[k]!, r.spreadModel === null ? null : -r.spreadModel])) });
      methods.push({ name: 'Source Extractor CLASS_STAR', scores: new Map(results.map((r, k) => [ids[k]!, r.classStar])) });
      sextractor = { timing, measured: chosen.length };
    }
    const { measures, wallSeconds } = await projectPeers(chosen, workers);
    const fitFps: Scores = new Map(measures.map((m, k) => [ids[k]!, m.fps]));
    methods.push({ name: 'Sérsic + PSF fit f_PS (true PSF)', scores: fitFps, fps: fitFps });
    methods.push({ name: 'Sérsic + PSF fit sqrt(chi2 gain) (true PSF)', scores: new Map(measures.map((m, k) => [ids[k]!, m.significance])) });
    methods.push({ name: 'concentration index C(1.5 px / 4 px)', scores: new Map(measures.map((m, k) => [ids[k]!, m.concentration])) });
    sersic = {
      wallSecondsPerSource: wallSeconds / chosen.length,
      fitSecondsPerSource: measures.reduce((a, m) => a + m.fitSeconds, 0) / chosen.length,
      measured: chosen.length,
    };
  }

  return {
    population,
    selectionScore: combined ? 'combined_z' : 'agn_z',
    sets: description,
    galaxies: { scored: galaxyZ.length, zMean: mean, zSd: sd, aboveThree: above3 / galaxyZ.length, selected: galaxiesSelected / galaxies.length },
    defaultSelection: { threshold: config.thresholds.z, byFps: defaultSelection },
    runSourcesPerSecond: (oneSet ? survey.files.length : survey.files.length + grid.files.length) / runSeconds,
    methods: methods.map((m) => methodQuality(m, survey, grid)),
    sextractor,
    sersic,
  };
}

type PopulationResult = Awaited<ReturnType<typeof benchPopulation>>;

const number = (value: number | null | undefined, digits: number) => (value === null || value === undefined ? '–' : value.toFixed(digits));
const errorCell = (e: ErrorSummary | null) => (e === null || e.n === 0 ? '–' : `${number(e.rmse, 3)} / ${number(e.bias, 3)}`);
const fpsLabel = (fps: number | 'star') => (fps === 'star' ? 'star' : `f_PS ${fps}`);

function populationMarkdown(r: PopulationResult, cardName: string, workers: number): string[] {
  const { galaxies: g } = r;
  const methods = r.methods;
  const withFps = methods.filter((m) => m.fpsAgn !== null);
  const mags = methods[0]!.byMag.map((b) => `${b.mag[0]}-${b.mag[1]}`);
  const header = (cells: readonly string[]) => [`| ${cells.join(' | ')} |`, `| --- | ${cells.slice(1).map(() => '---:').join(' | ')} |`];
  return [
    `## Population \`${r.population}\``,
    '',
    `${r.sets} Model ${cardName}.`,
    '',
    `Normal galaxies: ${r.selectionScore} mean ${g.zMean.toFixed(3)}, sd ${g.zSd.toFixed(3)}; P(${r.selectionScore} > 3) = ${percent(g.aboveThree, 2)} (N(0,1): 0.13%); selected by the default cut (${r.selectionScore} > ${r.defaultSelection.threshold}): ${percent(g.selected, 2)}.`,
    `Default selection (${r.selectionScore} > ${r.defaultSelection.threshold}) completeness by f_PS: ${r.defaultSelection.byFps.map((d) => `${d.fps === 1 ? 'star' : d.fps}: ${percent(d.completeness)}`).join(', ')}.`,
    [
      `vis-agn: ${r.runSourcesPerSecond.toFixed(0)} sources/s end to end (FITS in, Arrow catalogue out).`,
      r.sextractor === null ? 'Source Extractor: not run.' : `Source Extractor: ${(1000 * r.sextractor.timing.wallSecondsPerSource).toFixed(1)} ms of wall time per source (${r.sextractor.measured} cutouts, ${workers} at once).`,
      r.sersic === null ? 'Sérsic + PSF fit: not run.' : `Sérsic + PSF fit: ${(1000 * r.sersic.fitSecondsPerSource).toFixed(0)} ms of CPU per source, ${(1000 * r.sersic.wallSecondsPerSource).toFixed(0)} ms of wall time per source with ${workers} workers (${r.sersic.measured} cutouts).`,
    ].join(' '),
    '',
    `Completeness at a fixed false-positive rate among normal galaxies (threshold set on the survey set's galaxies), ROC AUC of AGN/QSOs with f_PS >= ${BRIGHT_FPS} against them, f_PS RMSE / bias over the grid's AGN/QSOs (f_PS 0.05-0.8):`,
    '',
    ...header(['method', 'galaxies', 'FPR', ...r.methods[0]!.byFps.map((b) => fpsLabel(b.fps)), `AUC (f_PS >= ${BRIGHT_FPS})`, 'f_PS RMSE / bias']),
    ...methods.flatMap((m) =>
      FPRS.map((fpr, k) =>
        `| ${m.method} | ${k === 0 ? m.galaxies : ''} | ${percent(fpr, 1)} | ${m.byFps.map((b) => percent(b.atFpr[k] ?? null)).join(' | ')} | ${k === 0 ? number(m.aucBright, 4) : ''} | ${k === 0 ? errorCell(m.fpsAgn) : ''} |`,
      ),
    ),
    '',
    `ROC AUC per f_PS bin against all normal galaxies:`,
    '',
    ...header(['method', ...methods[0]!.byFps.map((b) => fpsLabel(b.fps))]),
    ...methods.map((m) => `| ${m.method} | ${m.byFps.map((b) => number(b.auc, 3)).join(' | ')} |`),
    '',
    `f_PS RMSE / bias per f_PS bin (normal galaxies: truth 0):`,
    '',
    ...header(['method', 'galaxies', ...methods[0]!.byFps.map((b) => fpsLabel(b.fps))]),
    ...withFps.map((m) => `| ${m.method} | ${errorCell(m.fpsGalaxies)} | ${m.byFps.map((b) => errorCell(b.fpsError)).join(' | ')} |`),
    '',
    `Per magnitude (I_E, total): completeness at 1% FPR (all galaxies' threshold) and ROC AUC against the galaxies of the same bin, of AGN/QSOs with f_PS >= ${BRIGHT_FPS}; f_PS RMSE / bias of all grid AGN/QSOs in the bin:`,
    '',
    ...header(['method', 'measure', ...mags]),
    ...methods.flatMap((m) => [
      `| ${m.method} | completeness at 1% (n) | ${m.byMag.map((b) => `${percent(b.atFpr[0] ?? null)} (${b.n})`).join(' | ')} |`,
      `| | AUC | ${m.byMag.map((b) => number(b.auc, 3)).join(' | ')} |`,
      ...(m.fpsAgn === null ? [] : [`| | f_PS RMSE / bias | ${m.byMag.map((b) => errorCell(b.fpsError)).join(' | ')} |`]),
    ]),
    '',
  ];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      survey: { type: 'string' },
      grid: { type: 'string' },
      peers: { type: 'string' },
      populations: { type: 'string', default: `realistic,stress,${CROSSCHECK}` },
      workers: { type: 'string' },
      dir: { type: 'string' },
      model: { type: 'string' },
      out: { type: 'string', default: path.join('bench', 'results', 'detect.json') },
    },
  });
  const settings: Settings = {
    surveyCount: count(values.survey, values.quick ? 150 : 10000),
    gridCount: count(values.grid, values.quick ? 70 : 4200),
    peerCount: count(values.peers, values.quick ? 20 : 1500, true),
    workers: count(values.workers, os.availableParallelism()),
    dir: values.dir ?? mkdtempSync(path.join(os.tmpdir(), 'vis-agn-bench-detect-')),
    cardPath: values.model ?? defaultCardPath(),
    crosscheck: values.quick
      ? { seed: 1, galaxies: 40, agnPerFps: 5, stars: 5, fps: AGN_FPS, mag: [19, 23] }
      : { seed: 1, galaxies: 2000, agnPerFps: 200, stars: 200, fps: AGN_FPS, mag: [19, 23] },
  };
  const populations = values.populations!.split(',').filter((p) => p !== '');
  // Unknown names fail here, before any simulation.
  for (const population of populations) if (population !== CROSSCHECK) buildRecipe({ population });
  const unavailable = populations.includes(CROSSCHECK) ? crosscheckUnavailable() : null;
  if (unavailable !== null) process.stderr.write(`bench:detect: population ${CROSSCHECK} skipped: ${unavailable}\n`);
  const card = readCard(settings.cardPath).card;
  const loadBefore = os.loadavg();
  const results: PopulationResult[] = [];
  for (const population of populations) if (population !== CROSSCHECK || unavailable === null) results.push(await benchPopulation(population, settings));

  const result = {
    date: new Date().toISOString(),
    node: process.version,
    cpu: `${os.cpus()[0]?.model ?? 'unknown'} x${os.cpus().length}`,
    loadAverageBefore: loadBefore,
    model: card.name,
    significance: card.significance ?? null,
    workers: settings.workers,
    populations: results,
  };
  const md = [
    `Detection on held-out simulated cutouts, ${result.cpu}, Node ${result.node}, model ${card.name}, ${settings.workers} workers, load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}.`,
    `Peers on the first ${settings.peerCount} cutouts of each set, with the true PSF; vis-agn on all of them and on the peers' cutouts.`,
    '',
    ...results.flatMap((r) => populationMarkdown(r, card.name, settings.workers)),
  ].join('\n');
  writeBenchResults(values.out!, result, md);
  if (values.dir === undefined) rmSync(settings.dir, { recursive: true, force: true });
}

await main();
