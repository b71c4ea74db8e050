import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { trainModel } from '../../src/stamps/train.js';
import { readCard } from '../../src/model/card.js';
import { describeIf, hasTorch } from '../helpers/shared.js';


describeIf(hasTorch(), 'Debian python3-torch and python3-onnx are not installed', '`vis-agn train --quick`', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vis-agn-train-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // The circular mask is the path the committed (square-mask) default model does not exercise.
  it('simulates, trains, exports ONNX with a consistent card, and matches PyTorch through onnxruntime', async () => {
    const out = path.join(dir, 'model');
    const parity = await trainModel({ quick: true, out, data: path.join(dir, 'data'), n: '0', valN: '0', seed: '5', extra: ['--mask-shape', 'circle'] });
    expect(parity.ok).toBe(true);
    expect(parity.worst).toBeLessThanOrEqual(1e-4);
    expect(Object.keys(parity.maxAbsDiff).sort()).toEqual(['core_offset', 'core_scale', 'features', 'velocity']);
    const { card } = readCard(path.join(out, 'card.json'));
    expect(card.training.quick).toBe(true);
    expect(card.geometry).toMatchObject({ crop: 64, mask: 5, mask_shape: 'circle' });
    expect(card.graphs.denoiser.inputs.z_t).toEqual(['batch', 21]);
    expect(Object.keys(card.validation)).toEqual(expect.arrayContaining(['flow', 'nll']));
    expect(existsSync(path.join(out, 'train-log.jsonl'))).toBe(true);
    const lines = readFileSync(path.join(out, 'train-log.jsonl'), 'utf8').trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
  }, 600_000);

  it('conditions every denoiser layer with --conditioning every: one block of features per layer, and still matches PyTorch', async () => {
    const out = path.join(dir, 'every');
    const parity = await trainModel({ quick: true, out, data: path.join(dir, 'data'), n: '0', valN: '0', seed: '5', extra: ['--conditioning', 'every'] });
    expect(parity.ok).toBe(true);
    expect(parity.worst).toBeLessThanOrEqual(1e-4);
    const { card } = readCard(path.join(out, 'card.json'));
    const architecture = (card.training as { architecture: { hidden: number; denoiser_layers: number; conditioning: string } }).architecture;
    expect(architecture.conditioning).toBe('every');
    expect(card.graphs.encoder.outputs.features).toEqual(['batch', architecture.hidden * architecture.denoiser_layers]);
    expect(card.graphs.denoiser.inputs.features).toEqual(['batch', architecture.hidden * architecture.denoiser_layers]);
  }, 600_000);
});
