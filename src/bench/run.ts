/**
 * `npm run bench:run`: `vis-agn run` end to end on 10^3, 10^4 and 10^5 simulated cutouts, each run a
 * child process whose peak resident memory (worker threads included) is read from /usr/bin/time:
 * sources per second and whether memory stays flat as the run grows. The largest set is simulated
 * once; the smaller ones are links to its first files. Options: --quick (200 and 1,000), --sizes
 * a,b,c, --workers W (default the cores), --dir D (keep and reuse the cutouts), --out F (default
 * bench/results/run.json; the markdown table goes beside it).
 */

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { simulateCutouts } from '../sim/cutouts.js';
import { writeBenchResults } from './report.js';

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'index.js');

interface RunMeasure {
  readonly sources: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly peakRssMb: number;
}

function measure(inputs: string, out: string, workers: number): RunMeasure {
  const timing = path.join(out, 'time.txt');
  mkdirSync(out, { recursive: true });
  execFileSync('/usr/bin/time', ['-f', '%e %M', '-o', timing, process.execPath, cli, 'run', inputs, '--out', out, '--workers', String(workers), '--quiet', '--overwrite'], { stdio: 'ignore' });
  const [seconds, kb] = readFileSync(timing, 'utf8').trim().split(/\s+/).map(Number) as [number, number];
  const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8')) as { sources: number };
  return { sources: summary.sources, seconds, perSecond: summary.sources / seconds, peakRssMb: kb / 1024 };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      sizes: { type: 'string' },
      workers: { type: 'string' },
      dir: { type: 'string' },
      out: { type: 'string', default: path.join('bench', 'results', 'run.json') },
    },
  });
  const sizes = (values.sizes ?? (values.quick ? '200,1000' : '1000,10000,100000')).split(',').map(Number);
  if (sizes.some((n) => !Number.isSafeInteger(n) || n < 1)) throw new Error(`--sizes must be positive integers, got ${values.sizes}`);
  const workers = values.workers === undefined ? os.availableParallelism() : Number(values.workers);
  const dir = values.dir ?? mkdtempSync(path.join(os.tmpdir(), 'vis-agn-bench-run-'));
  const largest = Math.max(...sizes);
  const all = path.join(dir, `sims-${largest}`);
  if (!existsSync(path.join(all, 'manifest.json'))) await simulateCutouts({ count: largest, seed: 31, out: all });
  const files = readdirSync(path.join(all, 'cutouts')).sort();
  const loadBefore = os.loadavg();
  const runs: RunMeasure[] = [];
  for (const n of sizes) {
    const inputs = path.join(dir, `first-${n}`);
    if (!existsSync(inputs)) {
      mkdirSync(inputs);
      for (const file of files.slice(0, n)) symlinkSync(path.join(all, 'cutouts', file), path.join(inputs, file));
    }
    runs.push(measure(inputs, path.join(dir, `run-${n}`), workers));
    process.stdout.write(`${n} sources: ${runs.at(-1)!.perSecond.toFixed(0)}/s, peak RSS ${runs.at(-1)!.peakRssMb.toFixed(0)} MB\n`);
  }
  const result = { date: new Date().toISOString(), node: process.version, cpu: `${os.cpus()[0]?.model ?? 'unknown'} x${os.cpus().length}`, loadAverageBefore: loadBefore, workers, runs };
  const markdown = [
    `\`vis-agn run\` on simulated 100x100 Q1-layout cutouts, ${result.cpu}, Node ${result.node}, ${workers} workers, load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}.`,
    '',
    '| sources | seconds | sources/s | peak RSS (MB) |',
    '| ---: | ---: | ---: | ---: |',
    ...runs.map((r) => `| ${r.sources} | ${r.seconds.toFixed(1)} | ${r.perSecond.toFixed(0)} | ${r.peakRssMb.toFixed(0)} |`),
    '',
  ].join('\n');
  writeBenchResults(values.out!, result, markdown);
  if (values.dir === undefined) rmSync(dir, { recursive: true, force: true });
}

await main();
