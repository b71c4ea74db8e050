import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { coreIndices, coreOffsets } from '../../src/model/geometry.js';
import { astropyPython, describeIf, hasTorch, repoRoot } from '../helpers/shared.js';


describe('core masks', () => {
  it('square masks cover size^2 pixels row-major from the top left', () => {
    const offsets = coreOffsets({ size: 5, shape: 'square' });
    expect(offsets).toHaveLength(25);
    expect(offsets[0]).toEqual([-2, -2]);
    expect(offsets[24]).toEqual([2, 2]);
  });

  it('circular masks keep the pixels within size / 2 of the centre', () => {
    const offsets = coreOffsets({ size: 5, shape: 'circle' });
    expect(offsets).toHaveLength(21);
    expect(offsets).not.toContainEqual([2, 2]);
    expect(offsets).toContainEqual([2, 1]);
    expect(coreOffsets({ size: 1, shape: 'circle' })).toEqual([[0, 0]]);
    expect(() => coreOffsets({ size: 4, shape: 'square' })).toThrow(RangeError);
  });

  it('indexes the core of a crop centred at side / 2', () => {
    const indices = coreIndices(64, { size: 3, shape: 'square' });
    expect(Array.from(indices)).toEqual([31 * 64 + 31, 31 * 64 + 32, 31 * 64 + 33, 32 * 64 + 31, 32 * 64 + 32, 32 * 64 + 33, 33 * 64 + 31, 33 * 64 + 32, 33 * 64 + 33]);
  });
});

describeIf(hasTorch(), `${astropyPython} has no torch`, 'core masks match the trainer', () => {
  it('gives the same pixels as CoreGeometry for every size and shape', () => {
    const script = `
import json, sys
sys.path.insert(0, ${JSON.stringify(path.join(repoRoot, 'pipelines', 'train'))})
from model import CoreGeometry
print(json.dumps({f"{s}:{m}": CoreGeometry(64, m, s).core_index.tolist() for s in ("square", "circle") for m in (1, 3, 5, 7, 9)}))`;
    const expected = JSON.parse(execFileSync(astropyPython, ['-c', script]).toString()) as Record<string, number[]>;
    for (const [key, indices] of Object.entries(expected)) {
      const [shape, size] = key.split(':') as ['square' | 'circle', string];
      expect([key, Array.from(coreIndices(64, { size: Number(size), shape }))]).toEqual([key, indices]);
    }
  });
});
