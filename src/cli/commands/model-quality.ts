/** `vis-agn model-quality`: calibration and accuracy of the regenerations on held-out normal galaxies. */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { writeAtomically } from '../../atomic-file.js';
import { defaultCardPath, type ModelCard } from '../../model/card.js';
import { deviceOption } from '../options.js';
import { stderrProgress } from '../progress.js';
import { overwriteOption, refuseToOverwrite } from '../overwrite.js';
import { fitTemperature, measureQuality, type QualityOptions, type QualityReport } from '../../model/quality.js';

function table(report: QualityReport): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const lines = [
    `galaxies ${report.galaxies}, ${report.samples} samples on ${report.provider}, ${report.steps} ${report.method} steps, temperature ${report.temperature.toFixed(3)}`,
    `observed PSF-weighted core flux inside the central 68% of samples: ${pct(report.coverage68)} (target 68 ± 5%)`,
    `observed PSF-weighted core flux inside the central 95% of samples: ${pct(report.coverage95)} (target 95 ± 3%)`,
    `mean rank of the observed flux among the samples: ${report.meanRank.toFixed(3)} (0.5 when unbiased)`,
    '',
    '| I_E | galaxies | median rel. error, model | median rel. error, rescaling |',
    '|---|---:|---:|---:|',
    ...report.bins.map((b) => `| ${b.mag[0]}–${b.mag[1]} | ${b.count} | ${pct(b.medianRelErrorModel)} | ${pct(b.medianRelErrorRescaling)} |`),
    `| all | ${report.bins.reduce((n, b) => n + b.count, 0)} | ${pct(report.overall.medianRelErrorModel)} | ${pct(report.overall.medianRelErrorRescaling)} |`,
  ];
  return lines.join('\n');
}

/** The card is rewritten atomically; its graphs (and their sha256) are untouched. */
async function writeCardTemperature(cardPath: string, temperature: number, shards: string, galaxies: number): Promise<void> {
  const card = JSON.parse(readFileSync(cardPath, 'utf8')) as ModelCard;
  const manifest = JSON.parse(readFileSync(path.join(shards, 'manifest.json'), 'utf8')) as { seed: number; recipeDigest: string };
  const calibration = { target: '68% central intervals of the PSF-weighted core flux', galaxies, shards_seed: manifest.seed, shards_recipe_digest: manifest.recipeDigest };
  const updated = { ...card, sampler: { ...card.sampler, temperature }, calibration };
  await writeAtomically(cardPath, (file) => file.write(Buffer.from(`${JSON.stringify(updated, null, 1)}\n`)));
}

export function register(program: Command): void {
  overwriteOption(program.command('model-quality'))
    .description('calibration and accuracy of the core regenerations on held-out simulated normal galaxies')
    .requiredOption('--shards <dir>', 'a folder of held-out training shards (vis-agn simulate shards, a seed not used in training)')
    .option('--model <card>', 'model card', defaultCardPath())
    .option('--limit <n>', 'normal galaxies to use', '2000')
    .option('--samples <n>', 'samples per galaxy', '64')
    .option('--seed <n>', 'sampler seed', '1')
    .option('--steps <n>', 'solver steps (default: the card\'s)')
    .option('--method <method>', 'euler or heun (default: the card\'s)')
    .option('--temperature <t>', 'starting-noise spread (default: the card\'s)')
    .option('--fit-temperature', 'find the temperature that calibrates the 68% intervals on these shards, and print it')
    .option('--write-card', 'with --fit-temperature: store it in the model card as the sampler default')
    .option('--device <device>', 'cpu, cuda or auto (auto falls back to the CPU; cuda never does)', 'cpu')
    .option('--threads <n>', 'onnxruntime threads', String(availableParallelism()))
    .option('--out <file>', 'write the report as JSON')
    .action(async (options: { shards: string; model: string; limit: string; samples: string; seed: string; steps?: string; method?: string; temperature?: string; fitTemperature?: boolean; writeCard?: boolean; device: string; threads: string; out?: string; overwrite?: boolean }) => {
      if (options.method !== undefined && options.method !== 'euler' && options.method !== 'heun') throw new UsageError(`--method must be euler or heun, not ${options.method}`);
      const device = deviceOption(options.device);
      if (options.out !== undefined) refuseToOverwrite([options.out], options.overwrite);
      const quality = {
        cardPath: options.model,
        shards: options.shards,
        limit: Number(options.limit),
        samples: Number(options.samples),
        seed: Number(options.seed),
        device,
        ...(options.steps === undefined ? {} : { steps: Number(options.steps) }),
        ...(options.method === undefined ? {} : { method: options.method }),
        ...(options.temperature === undefined ? {} : { temperature: Number(options.temperature) }),
        threads: Number(options.threads),
      } satisfies QualityOptions;
      if (options.fitTemperature) {
        const temperature = Number((await fitTemperature(quality)).toFixed(4));
        process.stdout.write(`temperature ${temperature}\n`);
        if (options.writeCard) await writeCardTemperature(options.model, temperature, options.shards, quality.limit);
        return;
      }
      const report = await measureQuality({ ...quality, onProgress: stderrProgress('model-quality', false, 'stamps') });
      process.stderr.write('\n');
      process.stdout.write(`${table(report)}\n`);
      if (options.out) writeFileSync(options.out, `${JSON.stringify(report, null, 1)}\n`);
    });
}
