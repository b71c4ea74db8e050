/**
 * `npm run bench:model`: time per source of the default core generator (encoder once, S samples x K
 * steps of the denoiser, batched over sources) against the paper recipe (178 passes of its 64x64
 * U-Net per source), both through onnxruntime-node on this machine in the same run.
 *
 * The paper U-Net's ONNX graph (30 MB) is not committed: it is exported here with Debian's torch
 * (pipelines/train/paper_unet.py) into .cache/ when missing; without torch that row is skipped.
 * Options: --quick (few repeats, for CI), --sources N, --threads N, --out FILE.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultCardPath } from '../model/card.js';
import { CoreGenerator } from '../model/generator.js';
import { samplerNoise } from '../model/noise.js';
import { openGraph } from '../model/runtime.js';
import { evaluationsPerSolve, type FlowSolverOptions } from '../model/sampler.js';

const PAPER_PASSES = 178;

function options() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      sources: { type: 'string' },
      threads: { type: 'string', default: String(availableParallelism()) },
      out: { type: 'string', default: path.join('bench', 'results', 'model.json') },
    },
  });
  const quick = values.quick!;
  return { quick, sources: Number(values.sources ?? (quick ? 64 : 1024)), threads: Number(values.threads), out: values.out! };
}

/** A smooth galaxy-like crop, so the encoder sees realistic magnitudes. */
function crops(count: number, crop: number): Float32Array {
  const out = new Float32Array(count * crop * crop);
  for (let s = 0; s < count; s++) {
    for (let i = 0; i < crop * crop; i++) {
      const r = Math.hypot((i % crop) - crop / 2, Math.floor(i / crop) - crop / 2);
      out[s * crop * crop + i] = (1 + (s % 7)) * Math.exp(-r / (1.5 + (s % 5)));
    }
  }
  return out;
}

async function timeOurs(sources: number, threads: number, samples: number, solver: FlowSolverOptions): Promise<number> {
  const generator = await CoreGenerator.load(defaultCardPath(), { device: 'cpu', threads });
  try {
    const batch = 64;
    const crop = generator.crop;
    const pixels = generator.corePixels;
    const input = crops(batch, crop);
    const sigma = new Float32Array(batch).fill(0.003);
    const noise = new Float32Array(batch * samples * pixels);
    const run = async () => {
      const encoded = await generator.encode(input, sigma);
      for (let s = 0; s < batch; s++) samplerNoise(1, BigInt(s), samples, pixels, noise.subarray(s * samples * pixels, (s + 1) * samples * pixels));
      await generator.sample(encoded, samples, noise, solver);
    };
    await run();
    const started = performance.now();
    const rounds = Math.max(1, Math.round(sources / batch));
    for (let r = 0; r < rounds; r++) await run();
    return (performance.now() - started) / 1000 / (rounds * batch);
  } finally {
    await generator.release();
  }
}

function paperGraph(): { file: string; flops: number } | undefined {
  const file = path.join('.cache', 'paper-unet.onnx');
  if (!existsSync(file)) {
    mkdirSync('.cache', { recursive: true });
    const python = process.env.VIS_AGN_PYTHON ?? '/usr/bin/python3';
    const result = spawnSync(python, [path.join('pipelines', 'train', 'paper_unet.py'), '--out', file], { stdio: ['ignore', 'inherit', 'ignore'] });
    if (result.status !== 0) return undefined;
  }
  return { file, flops: (JSON.parse(readFileSync(`${file}.json`, 'utf8')) as { flops_per_pass: number }).flops_per_pass };
}

/** FLOPs of the card's encoder (once per source) and denoiser (per row), counted by pipelines/train/flops.py. */
function cardFlops(): { encoder: number; denoiserPerRow: number } | undefined {
  const python = process.env.VIS_AGN_PYTHON ?? '/usr/bin/python3';
  const result = spawnSync(python, [path.join('pipelines', 'train', 'flops.py'), '--card', defaultCardPath()], { encoding: 'utf8' });
  if (result.status !== 0) return undefined;
  const counted = JSON.parse(result.stdout) as { encoder_flops: number; denoiser_flops_per_row: number };
  return { encoder: counted.encoder_flops, denoiserPerRow: counted.denoiser_flops_per_row };
}

/** Images per U-Net call: sources in a batch share each RePaint step, as a throughput-minded run would. */
const PAPER_BATCH = 8;

/** Seconds of one U-Net pass per image, timed over batched calls. */
async function timePaperPass(file: string, threads: number, calls: number): Promise<number> {
  const graph = await openGraph(file, { device: 'cpu', threads }, () => ({}));
  try {
    const feeds = { x: { data: new Float32Array(PAPER_BATCH * 64 * 64), dims: [PAPER_BATCH, 1, 64, 64] }, t: { data: new Float32Array(PAPER_BATCH).fill(10), dims: [PAPER_BATCH] } };
    await graph.run(feeds);
    const started = performance.now();
    for (let i = 0; i < calls; i++) await graph.run(feeds);
    return (performance.now() - started) / 1000 / (calls * PAPER_BATCH);
  } finally {
    await graph.release();
  }
}

async function main(): Promise<void> {
  const opts = options();
  const card = JSON.parse(readFileSync(defaultCardPath(), 'utf8')) as { sampler: { samples: number; steps: number } };
  const samples = card.sampler.samples;
  const solver: FlowSolverOptions = { steps: card.sampler.steps, method: 'heun' };
  const oursSeconds = await timeOurs(opts.sources, opts.threads, samples, solver);
  const paper = paperGraph();
  const passSeconds = paper ? await timePaperPass(paper.file, opts.threads, opts.quick ? 1 : 4) : undefined;
  const paperSeconds = passSeconds === undefined ? undefined : passSeconds * PAPER_PASSES;
  const flops = cardFlops();
  const evaluations = evaluationsPerSolve(solver);
  const oursFlops = flops === undefined ? undefined : flops.encoder + samples * evaluations * flops.denoiserPerRow;
  const paperFlops = paper === undefined ? undefined : paper.flops * PAPER_PASSES;
  const result = {
    date: new Date().toISOString(),
    cpu: `${cpus()[0]?.model ?? 'unknown'} x${cpus().length}`,
    node: process.version,
    threads: opts.threads,
    ours: { samples, steps: solver.steps, method: solver.method, evaluations, secondsPerSource: oursSeconds, sourcesPerSecond: 1 / oursSeconds, flopsPerSource: oursFlops ?? null, encoderFlops: flops?.encoder ?? null, denoiserFlopsPerRow: flops?.denoiserPerRow ?? null },
    paper: paperSeconds === undefined ? null : { passes: PAPER_PASSES, batch: PAPER_BATCH, secondsPerPass: passSeconds, secondsPerSource: paperSeconds, flopsPerPass: paper!.flops },
    timeRatio: paperSeconds === undefined ? null : paperSeconds / oursSeconds,
    flopsRatio: paperFlops === undefined || oursFlops === undefined ? null : paperFlops / oursFlops,
  };
  const gflop = (value: number | undefined) => (value === undefined ? 'n/a' : (value / 1e9).toPrecision(3));
  const lines = [
    `Model time per source, ${result.cpu}, Node ${process.version}, ${opts.threads} onnxruntime threads.`,
    '',
    '| | per source | sources/s | GFLOP per source |',
    '| --- | ---: | ---: | ---: |',
    `| vis-agn: encoder + ${samples} samples x ${evaluations} denoiser evaluations | ${(1000 * oursSeconds).toFixed(2)} ms | ${(1 / oursSeconds).toFixed(0)} | ${gflop(oursFlops)} |`,
    paperSeconds === undefined
      ? '| paper recipe: skipped (no torch to export the U-Net) | | | |'
      : `| paper recipe: ${PAPER_PASSES} U-Net passes (${(paper!.flops / 1e9).toFixed(2)} GFLOP each, batches of ${PAPER_BATCH}) | ${paperSeconds.toFixed(2)} s | ${(1 / paperSeconds).toFixed(3)} | ${gflop(paperFlops)} |`,
    '',
    paperSeconds === undefined ? '' : `Ratios paper / vis-agn: time ${Math.round(paperSeconds / oursSeconds)}x, FLOPs ${result.flopsRatio === null ? 'n/a' : `${Math.round(result.flopsRatio)}x`} (FLOPs: twice the multiply-adds of convolutions, linear layers and attention, counted by pipelines/train/flops.py).`,
  ];
  mkdirSync(path.dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(opts.out.replace(/\.json$/, '.md'), `${lines.join('\n')}\n`);
  console.log(lines.join('\n'));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
