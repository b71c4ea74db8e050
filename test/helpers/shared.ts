import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The read-only shared material sits beside the clone; VIS_AGN_SHARED points elsewhere if needed. */
export const sharedDir = process.env.VIS_AGN_SHARED ?? path.resolve(repoRoot, '../shared');

export const conformanceDir = path.join(sharedDir, 'data', 'fits-conformance');
export const euclidQ1Dir = path.join(sharedDir, 'data', 'euclid-q1');

export const hasShared = existsSync(conformanceDir);

/** `describe` when the shared data exist, otherwise one skipped test whose title says why. */
export function describeWithShared(title: string, body: () => void): void {
  describeIf(hasShared, `${conformanceDir} not found; set VIS_AGN_SHARED`, title, body);
}

/** True when the command runs and exits 0. */
export function commandWorks(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Debian's python3 with astropy, the reference reader; tests that need it skip with a message when absent. */
export const astropyPython = '/usr/bin/python3';
export const hasAstropy = commandWorks(astropyPython, ['-c', 'import astropy.io.fits, astropy.wcs']);
export const hasFitsverify = commandWorks('sh', ['-c', 'command -v fitsverify']);

/** Debian's PyTorch with ONNX export (the trainer), and with gloo for `distributed` (torchrun on CPU). */
export function hasTorch(distributed = false): boolean {
  const imports = distributed ? 'import torch, onnx, torch.distributed as d; assert d.is_gloo_available()' : 'import torch, onnx';
  return commandWorks(astropyPython, ['-c', imports]);
}

/**
 * `describe` when the condition holds. Otherwise the body is never run (jest would run a skipped
 * block's body to collect its tests, and bodies may read the absent data); one skipped test says why.
 */
export function describeIf(condition: boolean, why: string, title: string, body: () => void): void {
  if (condition) describe(title, body);
  else describe(title, () => it.skip(`skipped: ${why}`, () => undefined));
}
