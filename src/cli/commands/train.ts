/**
 * `vis-agn train`: simulate training stamps or take observed ones (`--stamps`), train the core
 * generator with PyTorch, export ONNX and check it (stamps/train.ts). `--quick` is the CI smoke run.
 */
import type { Command } from 'commander';

import { trainModel, type TrainOptions } from '../../stamps/train.js';
import { stderrProgress } from '../progress.js';

export function register(program: Command): void {
  program
    .command('train')
    .description('simulate training stamps, train the core generator (PyTorch), export ONNX and check it')
    .option('--quick', 'tiny model and data: a smoke run of the whole chain')
    .option('--out <dir>', 'model folder (card.json, encoder.onnx, denoiser.onnx, log)', 'models/quick')
    .option('--data <dir>', 'where the simulated training shards go (outside git)', '.cache/train-data')
    .option('--n <count>', 'training stamps', '100000')
    .option('--val-n <count>', 'held-out validation stamps', '5000')
    .option('--seed <seed>', 'simulation seed; validation uses seed + 1', '1')
    .option('--stamps <dir>', 'train label-free on observed stamps from vis-agn stamps (target observed) instead of simulating')
    .option('--val-stamps <dir>', 'with --stamps: held-out stamps (default: every 50th stamp of --stamps)')
    .option('--procs <n>', 'with --stamps: DistributedDataParallel ranks on this machine (torchrun)', '1')
    .option('--clean-rounds <n>', 'with --stamps: self-cleaning rounds (score the stamps, leave out the most significant, train again)', '0')
    .option('--clean-fraction <f>', 'with --clean-rounds: fraction of the stamps each round leaves out', '0.05')
    .argument('[extra...]', 'further options passed to train.py after --')
    .action(async (extra: string[], options: Omit<TrainOptions, 'extra' | 'onCleaningProgress'>) => {
      await trainModel({ ...options, extra, onCleaningProgress: (label) => stderrProgress(label, false, 'stamps') });
    });
}
