import { spawnSync } from 'node:child_process';
import path from 'node:path';

import { expect, test } from '@jest/globals';

import { describeIf, hasTorch, repoRoot } from '../helpers/shared.js';


/** Minor page faults per training step of the real architecture (batch 128) after three warm-up steps. */
function faultsPerStep(keep: boolean): number {
  const script = `
import resource, sys
sys.path.insert(0, ${JSON.stringify(path.join(repoRoot, 'pipelines', 'train'))})
import torch, train
from model import CoreGenerator, CoreGeometry
if ${keep ? 'not train.keep_freed_memory()' : 'False'}:
    sys.exit("keep_freed_memory did not apply")
torch.set_num_threads(2)
torch.manual_seed(0)
model = CoreGenerator(CoreGeometry(64, 5, "square", None))
image, sigma = torch.rand(128, 1, 64, 64), torch.full((128, 1), 0.01)
def steps(n):
    for _ in range(n):
        flow, nll = model.losses(image, sigma, draws=4)
        (flow + nll).backward()
steps(3)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
steps(6)
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 6)
`;
  const result = spawnSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) throw new Error(result.stderr);
  return Number(result.stdout.trim());
}

describeIf(hasTorch() && process.platform === 'linux', 'Debian python3-torch is not installed (or not Linux/glibc)', 'train.py keep_freed_memory', () => {
  test('training steps reuse freed memory instead of faulting it back in from the kernel', () => {
    // glibc's defaults hand the activations' memory back every step (the 3x slowdown it fixes): ~85,000
    // faults per step here. Kept memory leaves at most the heap's occasional growth (0-1,000 per step).
    const byDefault = faultsPerStep(false);
    expect(byDefault).toBeGreaterThan(10_000);
    expect(faultsPerStep(true)).toBeLessThan(byDefault / 20);
  }, 240_000);
});
