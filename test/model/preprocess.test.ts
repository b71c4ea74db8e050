import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { centreOnCore } from '../../src/model/preprocess.js';
import { astropyPython, describeIf, hasAstropy, repoRoot } from '../helpers/shared.js';

function stamp(width: number, height: number, peakX: number, peakY: number): Float32Array {
  const pixels = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) pixels[y * width + x] = Math.exp(-Math.hypot(x - peakX, y - peakY) / 3);
  return pixels;
}

describe('centreOnCore', () => {
  it('puts the brightest central pixel at crop / 2', () => {
    const image = stamp(100, 100, 47, 53);
    const crop = centreOnCore(image, 100, 100, { crop: 64 })!;
    expect([crop.coreX, crop.coreY]).toEqual([47, 53]);
    expect([crop.left, crop.top]).toEqual([15, 21]);
    expect(crop.pixels[32 * 64 + 32]).toBe(1);
  });

  it('only searches the central box and refuses windows that leave the image', () => {
    const image = stamp(100, 100, 50, 50);
    image[10 * 100 + 10] = 99; // far from the centre: ignored
    expect(centreOnCore(image, 100, 100, { crop: 64 })!.coreX).toBe(50);
    expect(centreOnCore(stamp(70, 70, 31, 35), 70, 70, { crop: 64 })).toBeUndefined();
  });
});

describeIf(hasAstropy, `${astropyPython} with numpy not available`, 'centreOnCore matches the trainer', () => {
  it('gives the same crops as pipelines/train/data.py on random stamps', () => {
    const script = `
import json, sys, numpy as np
sys.path.insert(0, ${JSON.stringify(path.join(repoRoot, 'pipelines', 'train'))})
from data import centre_on_core
rng = np.random.default_rng(7)
stamps = rng.normal(0, 1, (5, 80, 80)).astype(np.float32)
stamps[:, 36:45, 36:45] += rng.normal(3, 1, (5, 9, 9)).astype(np.float32)
crops, cores = centre_on_core(stamps, 64)
print(json.dumps({"stamps": stamps.ravel().tolist(), "crops": crops.ravel().tolist(), "cores": cores.tolist()}))`;
    const out = JSON.parse(execFileSync(astropyPython, ['-c', script], { maxBuffer: 64 << 20 }).toString()) as {
      stamps: number[]; crops: number[]; cores: number[][];
    };
    const stamps = Float32Array.from(out.stamps);
    for (let i = 0; i < 5; i++) {
      const ours = centreOnCore(stamps.subarray(i * 6400, (i + 1) * 6400), 80, 80, { crop: 64 })!;
      expect([ours.coreX, ours.coreY]).toEqual(out.cores[i]);
      expect(Array.from(ours.pixels)).toEqual(out.crops.slice(i * 4096, (i + 1) * 4096).map(Math.fround));
    }
  });
});
