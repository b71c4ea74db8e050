import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ModelError } from '../../src/errors.js';
import { defaultCardPath, FPS_FEATURE_COUNT, FPS_FEATURES, readCard } from '../../src/model/card.js';
import { CoreGenerator, DENOISER_CHUNK, ENCODER_CHUNK } from '../../src/model/generator.js';
import { samplerNoise } from '../../src/model/noise.js';
import { checkParity } from '../../src/model/parity.js';
import { CUDA_INSTALL_HINT, cudaProviderInstalled } from '../../src/model/runtime.js';

const defaultDir = path.dirname(defaultCardPath());

/** A copy of the default model in a temporary folder, to tamper with. */
function copyModel(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'vis-agn-model-'));
  for (const name of readdirSync(defaultDir)) {
    if (name.endsWith('.onnx') || name === 'card.json') copyFileSync(path.join(defaultDir, name), path.join(dir, name));
  }
  return dir;
}

describe('the committed default model', () => {
  it('has a card whose graphs match their sha256 and reproduces PyTorch to 1e-4', async () => {
    const { card } = readCard(defaultCardPath());
    expect(card.geometry).toMatchObject({ crop: 64, mask: 5 });
    const parity = await checkParity(defaultCardPath());
    expect(parity.worst).toBeLessThanOrEqual(1e-4);
  });

  it('draws reproducible samples in image units, seeded per object', async () => {
    const generator = await CoreGenerator.load(defaultCardPath(), { device: 'cpu', threads: 1 });
    try {
      expect(generator.provider).toBe('cpu');
      const crop = generator.crop;
      const image = new Float32Array(2 * crop * crop);
      for (let i = 0; i < crop * crop; i++) {
        const x = (i % crop) - crop / 2;
        const y = Math.floor(i / crop) - crop / 2;
        image[i] = Math.exp(-Math.hypot(x, y) / 3);
        image[crop * crop + i] = 10 * image[i]!;
      }
      const encoded = await generator.encode(image, Float32Array.of(0.003, 0.003));
      const pixels = generator.corePixels;
      const noise = new Float32Array(2 * 8 * pixels);
      samplerNoise(1, 10n, 8, pixels, noise.subarray(0, 8 * pixels));
      samplerNoise(1, -10n, 8, pixels, noise.subarray(8 * pixels));
      const solver = { steps: 4, method: 'heun' as const };
      const a = await generator.sample(encoded, 8, noise, solver);
      const b = await generator.sample(encoded, 8, noise, solver);
      expect(Array.from(b)).toEqual(Array.from(a));
      const meanCentre = (source: number) => {
        let sum = 0;
        for (let s = 0; s < 8; s++) sum += a[(source * 8 + s) * pixels + (pixels - 1) / 2]!;
        return sum / 8;
      };
      // A ten times brighter galaxy regenerates a brighter core.
      expect(meanCentre(1)).toBeGreaterThan(3 * meanCentre(0));
    } finally {
      await generator.release();
    }
  });

  it('gives a source the same samples alone (padded chunks) as inside full chunks of a large batch', async () => {
    const generator = await CoreGenerator.load(defaultCardPath(), { device: 'cpu', threads: 1 });
    try {
      const crop = generator.crop;
      const pixels = generator.corePixels;
      const samples = 16;
      // 36 sources: two full encoder chunks and a partial one; 576 denoiser rows, two full chunks and a partial one.
      const count = 2 * ENCODER_CHUNK + 4;
      expect(count * samples).toBeGreaterThan(2 * DENOISER_CHUNK);
      const images = new Float32Array(count * crop * crop);
      for (let k = 0; k < count; k++) {
        for (let i = 0; i < crop * crop; i++) {
          const x = (i % crop) - crop / 2 - 0.3 * (k % 3);
          const y = Math.floor(i / crop) - crop / 2;
          images[k * crop * crop + i] = (1 + k) * Math.exp(-Math.hypot(x, y) / (2 + (k % 5)));
        }
      }
      const sigma = new Float32Array(count).fill(0.003);
      const noise = new Float32Array(count * samples * pixels);
      for (let k = 0; k < count; k++) samplerNoise(7, BigInt(k), samples, pixels, noise.subarray(k * samples * pixels, (k + 1) * samples * pixels));
      const solver = { steps: 4, method: 'heun' as const };
      const together = await generator.sample(await generator.encode(images, sigma), samples, noise, solver);
      for (const k of [1, ENCODER_CHUNK + 4, count - 1]) {
        const alone = await generator.sample(
          await generator.encode(images.slice(k * crop * crop, (k + 1) * crop * crop), sigma.slice(k, k + 1)),
          samples,
          noise.slice(k * samples * pixels, (k + 1) * samples * pixels),
          solver,
        );
        expect(Array.from(alone)).toEqual(Array.from(together.subarray(k * samples * pixels, (k + 1) * samples * pixels)));
      }
    } finally {
      await generator.release();
    }
  });
});

describe('model card checks', () => {
  let dir: string;
  beforeEach(() => {
    dir = copyModel();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a graph whose sha256 differs from the card', async () => {
    const encoder = path.join(dir, 'encoder.onnx');
    const bytes = readFileSync(encoder);
    bytes[bytes.length - 1] ^= 1;
    writeFileSync(encoder, bytes);
    expect(() => readCard(path.join(dir, 'card.json'))).toThrow(/encoder graph encoder.onnx has sha256 .*, the card says/);
  });

  it('refuses a card that declares other inputs than the graph has', async () => {
    const cardPath = path.join(dir, 'card.json');
    const card = JSON.parse(readFileSync(cardPath, 'utf8'));
    card.graphs.denoiser.inputs.features = ['batch', 7];
    writeFileSync(cardPath, JSON.stringify(card));
    await expect(CoreGenerator.load(cardPath, { device: 'cpu', threads: 1 })).rejects.toThrow(/denoiser input features has shape \[batch, \d+\], the card says \[batch, 7\]/);
  });

  it('refuses a generative faint limit that is not a magnitude', () => {
    const cardPath = path.join(dir, 'card.json');
    const card = JSON.parse(readFileSync(cardPath, 'utf8'));
    expect(card.significance.generative_faint_limit).toBe(24);
    writeFileSync(cardPath, JSON.stringify({ ...card, significance: { ...card.significance, generative_faint_limit: '24' } }));
    expect(() => readCard(cardPath)).toThrow(/significance.generative_faint_limit must be an I_E magnitude, got "24"/);
  });

  it('refuses a generative statistic this version does not compute', () => {
    const cardPath = path.join(dir, 'card.json');
    const card = JSON.parse(readFileSync(cardPath, 'utf8'));
    expect(card.significance.generative_statistic).toBe('studentised_matched_filter');
    writeFileSync(cardPath, JSON.stringify({ ...card, significance: { ...card.significance, generative_statistic: 'gls' } }));
    expect(() => readCard(cardPath)).toThrow(/significance.generative_statistic must be one of studentised_matched_filter, matched_filter, projection, got "gls"/);
  });

  it('refuses a nucleus allowance that is not a fraction below one half', () => {
    const cardPath = path.join(dir, 'card.json');
    const card = JSON.parse(readFileSync(cardPath, 'utf8'));
    const write = (allowance: unknown) => writeFileSync(cardPath, JSON.stringify({ ...card, significance: { ...card.significance, nucleus_allowance: allowance } }));
    write(0.03);
    expect(() => readCard(cardPath)).not.toThrow();
    for (const bad of [-0.01, 0.5, '0.03']) {
      write(bad);
      expect(() => readCard(cardPath)).toThrow(/significance.nucleus_allowance must be a fraction in \[0, 0.5\)/);
    }
    writeFileSync(cardPath, JSON.stringify(card));
  });

  it('refuses an f_PS regression fitted on other features or with missing coefficients', () => {
    const cardPath = path.join(dir, 'card.json');
    const card = JSON.parse(readFileSync(cardPath, 'utf8'));
    const row = Array.from({ length: FPS_FEATURE_COUNT }, () => 0.1);
    const f_ps = { features: FPS_FEATURES, magnitudes: [21, 23], mean: [row, row], variance: [row, row], morphology_radius: card.significance.morphology_radius };
    const write = (fit: unknown) => writeFileSync(cardPath, JSON.stringify({ ...card, significance: { ...card.significance, f_ps: fit } }));
    write(f_ps);
    expect(() => readCard(cardPath)).not.toThrow();
    write({ ...f_ps, features: 'quadratic(generative_fps)/1' });
    expect(() => readCard(cardPath)).toThrow(/significance.f_ps was fitted on features "quadratic\(generative_fps\)\/1"; this version computes/);
    write({ ...f_ps, mean: [row, row.slice(1)] });
    expect(() => readCard(cardPath)).toThrow(/needs 8 finite mean and variance coefficients for each of its 2 magnitudes/);
    write({ ...f_ps, magnitudes: [23, 21] });
    expect(() => readCard(cardPath)).toThrow(/increasing finite magnitudes/);
    write({ ...f_ps, ps_flux_err_scale: [1.2, 1.6] });
    expect(() => readCard(cardPath)).not.toThrow();
    write({ ...f_ps, ps_flux_err_scale: [1.2] });
    expect(() => readCard(cardPath)).toThrow(/ps_flux_err_scale needs a finite positive factor for each of its 2 magnitudes/);
    write({ ...f_ps, ps_flux_err_scale: [1.2, 0] });
    expect(() => readCard(cardPath)).toThrow(/ps_flux_err_scale needs a finite positive factor/);
    // Fitted on SPREAD_MODEL over another radius than the card computes it over.
    write({ ...f_ps, morphology_radius: 4 });
    expect(() => readCard(cardPath)).toThrow(/significance.f_ps was fitted on SPREAD_MODEL over 4 px, the card computes it over/);
  });

  it('refuses a SPREAD_MODEL radius that is not 1-10 pixels', () => {
    const cardPath = path.join(dir, 'card.json');
    const card = JSON.parse(readFileSync(cardPath, 'utf8'));
    const { f_ps: _fitted, ...maps } = card.significance;
    for (const radius of [0.5, '2', 12]) {
      writeFileSync(cardPath, JSON.stringify({ ...card, significance: { ...maps, morphology_radius: radius } }));
      expect(() => readCard(cardPath)).toThrow(/significance.morphology_radius must be a radius of 1-10 pixels/);
    }
  });

  it('refuses an unknown card schema', () => {
    const cardPath = path.join(dir, 'card.json');
    writeFileSync(cardPath, JSON.stringify({ ...JSON.parse(readFileSync(cardPath, 'utf8')), schema: 'other/1' }));
    expect(() => readCard(cardPath)).toThrow(ModelError);
  });
});

describe('--device cuda without the CUDA provider', () => {
  const run = cudaProviderInstalled() ? it.skip : it;
  run('fails with the install hint instead of falling back, and auto falls back to the CPU', async () => {
    await expect(CoreGenerator.load(defaultCardPath(), { device: 'cuda', threads: 1 })).rejects.toThrow(CUDA_INSTALL_HINT);
    const generator = await CoreGenerator.load(defaultCardPath(), { device: 'auto', threads: 1 });
    expect(generator.provider).toBe('cpu');
    await generator.release();
  });
});
