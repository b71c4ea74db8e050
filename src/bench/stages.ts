/**
 * `npm run bench:stages`: where a run's time goes, and how close the pipeline comes to the model alone.
 *
 * 1. Stages, one source at a time through this thread (onnxruntime on every core): FITS read of a
 *    cutout file, preprocessing, encoder, denoiser (S samples x K steps), scoring, catalogue write.
 * 2. Cutting from a MER-like tile (simulated, 19200 px): one thread, and the worker pool.
 * 3. End to end (`runDetection`: files in, Arrow out) against the model alone (encoder + denoiser on
 *    the same prepared sources, same worker threads) for a small grid of S and K: the model is the
 *    upper limit, the difference the pipeline's overhead.
 *
 * Every figure is a ratio or a rate from this one process on this machine. Options: --quick (seconds,
 * for CI: asserts nothing about speed), --sources N, --tile-size N, --workers W, --dir D (keep and
 * reuse the simulated inputs), --out F (default bench/results/stages.json; markdown beside it).
 */

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { runMetadata } from '../batch/metadata.js';
import { inGroupsOf, prepareCutout, runDetection, sourceRow, type PreparedCutout } from '../batch/run.js';
import { defaultDetectionSettings, samplingOf, significanceCalibration, type DetectionSettings } from '../detect/settings.js';
import { CatalogWriter } from '../catalog/arrow.js';
import type { CatalogRow } from '../catalog/schema.js';
import { readCutout, type CutoutSource } from '../cutout/from-files.js';
import { readTileObjects, selectObjects, type TileInput } from '../cutout/from-tile.js';
import { defaultCardPath, readCard } from '../model/card.js';
import { CoreGenerator } from '../model/generator.js';
import { samplerNoise } from '../model/noise.js';
import { runtimeVersion } from '../model/runtime.js';
import { evaluationsPerSolve } from '../model/sampler.js';
import { detectBatch } from '../detect/detect.js';
import { CORE_SEARCH } from '../detect/prepare.js';
import { simulateCutouts } from '../sim/cutouts.js';
import { simulateTile } from '../sim/mosaic.js';
import { orderedPool } from '../worker-pool.js';
import { writeBenchResults } from './report.js';
import { runModelTask, type ModelTask } from './model-worker.js';
import { cutTileBlock, type TileCutTask } from './tile-cut-worker.js';

const BATCH = 128;

function options() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      sources: { type: 'string' },
      'tile-size': { type: 'string' },
      workers: { type: 'string' },
      dir: { type: 'string' },
      out: { type: 'string', default: path.join('bench', 'results', 'stages.json') },
    },
  });
  const quick = values.quick!;
  return {
    quick,
    sources: Number(values.sources ?? (quick ? 64 : 4096)),
    tileSize: Number(values['tile-size'] ?? (quick ? 600 : 19200)),
    workers: Number(values.workers ?? os.availableParallelism()),
    dir: values.dir,
    out: values.out!,
  };
}

function machine() {
  const cpus = os.cpus();
  return { cpu: cpus[0]?.model.trim() ?? 'unknown', cores: os.availableParallelism(), memoryGb: Math.round(os.totalmem() / 2 ** 30), node: process.version, onnxruntime: runtimeVersion(), platform: `${os.platform()} ${os.release()}` };
}

async function timed<T>(work: () => Promise<T> | T): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

interface StageTimes {
  read: number;
  preprocess: number;
  encoder: number;
  denoiser: number;
  scoring: number;
  write: number;
}

/** Milliseconds per stage over all the files, run once through this thread. */
async function stageTimes(files: readonly string[], generator: CoreGenerator, config: DetectionSettings, scratch: string): Promise<{ times: StageTimes; prepared: PreparedCutout[] }> {
  const side = generator.crop + CORE_SEARCH - 1;
  const times: StageTimes = { read: 0, preprocess: 0, encoder: 0, denoiser: 0, scoring: 0, write: 0 };
  const read = await timed(() => files.map((file) => readCutout(file, { hduNames: config.hduNames, side })));
  times.read = read.ms;
  const prepare = await timed(() => read.value.map((cutout: CutoutSource) => prepareCutout(cutout, generator.crop, generator, config.rmsToSigma)));
  times.preprocess = prepare.ms;
  const calibration = significanceCalibration(generator.loaded);
  const sampling = samplingOf(config);
  const rows: CatalogRow[] = [];
  for (const group of inGroupsOf(prepare.value, BATCH)) {
    const scores = await detectBatch(generator, group.map((g) => ({ prepared: g.prepared, objectId: g.cutout.objectId })), sampling, calibration, (stage, ms) => (times[stage] += ms));
    const built = await timed(() => group.map((g, k) => sourceRow(g.cutout, g.prepared, scores[k], config.thresholds)));
    times.scoring += built.ms;
    rows.push(...built.value);
  }
  const write = await timed(async () => {
    const writer = await CatalogWriter.create(path.join(scratch, 'stages.arrow'), { ...runMetadata(generator.loaded, config, files), executionProvider: generator.provider });
    for (const row of rows) writer.append(row);
    await writer.close();
  });
  times.write = write.ms;
  return { times, prepared: prepare.value };
}

/**
 * Seconds per source of the model alone (encoder + S x K denoiser) on the prepared sources, batched as
 * the pipeline batches, in the worker layout of the end-to-end run it is compared with.
 */
async function pureModelSeconds(generator: CoreGenerator, prepared: readonly PreparedCutout[], config: DetectionSettings, workers: number): Promise<number> {
  const crop = generator.crop;
  const pixels = generator.corePixels;
  const chosen = prepared.filter((p) => p.prepared.scorable);
  const threads = Math.max(1, Math.floor(os.availableParallelism() / workers));
  const tasks: ModelTask[] = inGroupsOf(chosen, BATCH).map((group) => {
    const crops = new Float32Array(group.length * crop * crop);
    const sigma = new Float32Array(group.length);
    const noise = new Float32Array(group.length * config.samples * pixels);
    group.forEach((g, k) => {
      crops.set(g.prepared.crop, k * crop * crop);
      sigma[k] = g.prepared.sigma;
      samplerNoise(config.seed, g.cutout.objectId, config.samples, pixels, noise.subarray(k * config.samples * pixels, (k + 1) * config.samples * pixels));
    });
    return { cardPath: defaultCardPath(), threads, crops, sigma, noise, samples: config.samples, solver: { steps: config.steps, method: config.method } };
  });
  let done = 0;
  const { ms } = await timed(async () => {
    for await (const n of orderedPool(new URL('./model-worker.js', import.meta.url), tasks, { workers }, runModelTask)) done += n;
  });
  return ms / 1000 / done;
}

/**
 * Seconds per source of a whole run, and in its steady state: from the first group of rows written to
 * the last, leaving out what a long run pays once (starting the workers, loading the model in each).
 */
async function endToEnd(inputs: string, out: string, config: DetectionSettings, workers: number): Promise<{ whole: number; steady: number }> {
  rmSync(out, { recursive: true, force: true });
  let first: { at: number; done: number } | undefined;
  let last: { at: number; done: number } | undefined;
  const onProgress = (done: number) => {
    last = { at: performance.now(), done };
    first ??= last;
  };
  const summary = await runDetection({ inputs: [inputs], out, cardPath: defaultCardPath(), device: 'cpu', threads: Math.max(1, Math.floor(os.availableParallelism() / workers)), workers, batch: BATCH, settings: config, onProgress });
  return { whole: summary.seconds / summary.sources, steady: (last!.at - first!.at) / 1000 / (last!.done - first!.done) };
}

async function tileCutting(tile: TileInput, workers: number, side: number) {
  const catalogue = await timed(() => readTileObjects(tile));
  const objects = catalogue.value;
  const oneThread = await timed(() => cutTileBlock({ tile, objects, side }));
  const block = 1024;
  const tasks: TileCutTask[] = inGroupsOf(Array.from({ length: objects.ids.length }, (_, i) => i), block).map((rows) => ({ tile, objects: selectObjects(objects, rows), side }));
  let pooledCount = 0;
  const pooled = await timed(async () => {
    for await (const result of orderedPool(new URL('./tile-cut-worker.js', import.meta.url), tasks, { workers }, cutTileBlock)) pooledCount += result.cutouts;
  });
  if (pooledCount !== oneThread.value.cutouts) throw new Error(`the pool cut ${pooledCount} cutouts, one thread ${oneThread.value.cutouts}`);
  return { objects: objects.ids.length, catalogueReadMs: catalogue.ms, oneThreadPerSecond: (1000 * objects.ids.length) / oneThread.ms, pooledPerSecond: (1000 * objects.ids.length) / pooled.ms, workers };
}

async function main(): Promise<void> {
  const opts = options();
  const dir = opts.dir ?? mkdtempSync(path.join(os.tmpdir(), 'vis-agn-bench-stages-'));
  const cutouts = path.join(dir, `cutouts-${opts.sources}`);
  if (!existsSync(path.join(cutouts, 'manifest.json'))) await simulateCutouts({ count: opts.sources, seed: 41, out: cutouts });
  const tileDir = path.join(dir, `tile-${opts.tileSize}`);
  if (!existsSync(path.join(tileDir, 'manifest.json'))) await simulateTile({ seed: 43, out: tileDir, size: opts.tileSize });
  const tileFiles = readdirSync(tileDir);
  const tileFile = (part: string) => path.join(tileDir, tileFiles.find((name) => name.includes(part))!);
  const tile: TileInput = { tile: tileFile('BGSUB-MOSAIC'), rms: tileFile('VIS-RMS'), catalog: tileFile('FINAL-CAT') };
  const files = readdirSync(path.join(cutouts, 'cutouts')).sort().map((name) => path.join(cutouts, 'cutouts', name));
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'vis-agn-bench-stages-out-'));

  const card = readCard(defaultCardPath()).card;
  const base = defaultDetectionSettings(card);
  const generator = await CoreGenerator.load(defaultCardPath(), { device: 'cpu', threads: os.availableParallelism() });
  try {
    // The files into the page cache first: the read stage measures this reader, not the disk.
    for (const file of files) readFileSync(file);
    await stageTimes(files.slice(0, Math.min(files.length, BATCH)), generator, base, scratch); // warm-up: JIT and onnxruntime arenas
    const { times, prepared } = await stageTimes(files, generator, base, scratch);
    const cutting = await tileCutting(tile, opts.workers, generator.crop + CORE_SEARCH - 1);

    const grid = opts.quick ? [{ samples: base.samples, steps: base.steps }] : [8, 16, 32].flatMap((samples) => [2, base.steps, 8].map((steps) => ({ samples, steps })));
    const points = [];
    for (const { samples, steps } of grid) {
      const config = { ...base, samples, steps };
      const model = await pureModelSeconds(generator, prepared, config, opts.workers);
      const pipeline = await endToEnd(path.join(cutouts, 'cutouts'), path.join(scratch, 'e2e'), config, opts.workers);
      points.push({
        samples,
        steps,
        evaluations: evaluationsPerSolve({ steps, method: config.method }),
        modelPerSecond: 1 / model,
        endToEndPerSecond: 1 / pipeline.whole,
        steadyPerSecond: 1 / pipeline.steady,
        overheadPercent: (100 * (pipeline.whole - model)) / model,
        steadyOverheadPercent: (100 * (pipeline.steady - model)) / model,
      });
    }
    const total = Object.values(times).reduce((a, b) => a + b, 0);
    const result = { date: new Date().toISOString(), machine: machine(), workers: opts.workers, sources: files.length, batch: BATCH, sampler: { samples: base.samples, steps: base.steps, method: base.method }, stagesMs: times, stagesPerSourceMs: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, v / files.length])), tileCutting: cutting, grid: points };
    writeBenchResults(opts.out, result, markdown(result, total));
  } finally {
    await generator.release();
    rmSync(scratch, { recursive: true, force: true });
    if (opts.dir === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

type Result = {
  machine: ReturnType<typeof machine>;
  sources: number;
  sampler: { samples: number; steps: number; method: string };
  stagesMs: StageTimes;
  tileCutting: Awaited<ReturnType<typeof tileCutting>>;
  workers: number;
  grid: { samples: number; steps: number; evaluations: number; modelPerSecond: number; endToEndPerSecond: number; steadyPerSecond: number; overheadPercent: number; steadyOverheadPercent: number }[];
};

function markdown(result: Result, totalMs: number): string {
  const m = result.machine;
  const n = result.sources;
  const names: Record<keyof StageTimes, string> = { read: 'FITS read (cutout file: image, RMS, PSF)', preprocess: 'preprocessing (centring, noise, crop, PSF weights)', encoder: 'encoder', denoiser: `denoiser (S = ${result.sampler.samples}, K = ${result.sampler.steps} ${result.sampler.method} steps)`, scoring: 'scoring (errors, significance, f_PS, row)', write: 'catalogue write (Arrow)' };
  const t = result.tileCutting;
  return [
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GiB, ${m.platform}; Node ${m.node}, onnxruntime-node ${m.onnxruntime}, CPU execution provider.`,
    '',
    `### Stages (${n} simulated cutouts, one thread of JavaScript, onnxruntime on ${m.cores} threads, batches of ${BATCH})`,
    '',
    '| stage | ms per source | share |',
    '| --- | ---: | ---: |',
    ...(Object.keys(names) as (keyof StageTimes)[]).map((k) => `| ${names[k]} | ${(result.stagesMs[k] / n).toFixed(3)} | ${((100 * result.stagesMs[k]) / totalMs).toFixed(1)}% |`),
    `| total | ${(totalMs / n).toFixed(3)} | |`,
    '',
    `### Cutting from a tile (simulated MER-like tile, ${t.objects} catalogue objects, image + RMS sections of ${72}x${72})`,
    '',
    `- one thread: ${t.oneThreadPerSecond.toFixed(0)} cutouts/s; ${t.workers} worker threads: ${t.pooledPerSecond.toFixed(0)} cutouts/s (catalogue read once: ${t.catalogueReadMs.toFixed(0)} ms, not included).`,
    '',
    `### End to end against the model alone (${n} cutout files in, Arrow catalogue out; ${result.workers} workers, onnxruntime threads shared among them)`,
    '',
    '| S | K | denoiser evaluations | model alone (sources/s) | end to end, whole run (sources/s) | overhead | end to end, steady state (sources/s) | overhead |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...result.grid.map((p) => `| ${p.samples} | ${p.steps} | ${p.evaluations} | ${p.modelPerSecond.toFixed(0)} | ${p.endToEndPerSecond.toFixed(0)} | ${p.overheadPercent.toFixed(0)}% | ${p.steadyPerSecond.toFixed(0)} | ${p.steadyOverheadPercent.toFixed(0)}% |`),
    '',
    'Model alone: the encoder and denoiser on the same prepared sources, in batches of the same size, on the same worker threads. Overhead: the end-to-end time per source over the model-alone time, minus one: reading FITS files, preprocessing, scoring, moving rows to the writer and writing the catalogue. The whole run also pays, once, for starting the workers and loading the model in each; the steady state (from the first group of rows written to the last) leaves that out, as a long run does.',
  ].join('\n');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
