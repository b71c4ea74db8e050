/**
 * The core generator at inference: the encoder once per source, then S samples x K solver steps of
 * the core-only denoiser, batched over sources x samples. Returns samples in image units.
 */
import { cardMask, checkGraphAgainstCard, readCard, type LoadedCard } from './card.js';
import { coreOffsets, type CoreMask } from './geometry.js';
import { openGraph, type DeviceRequest, type ExecutionProvider, type Float32Feed, type GraphSession } from './runtime.js';
import { solveFlow, type FlowSolverOptions } from './sampler.js';

export interface GeneratorOptions {
  readonly device: DeviceRequest;
  readonly threads: number;
}

export interface EncodedSources {
  readonly count: number;
  readonly features: Float32Array;
  readonly coreOffset: Float32Array;
  readonly coreScale: Float32Array;
}

/**
 * onnxruntime's CPU kernels choose their algorithm by batch size, so one source's outputs can differ in
 * the last bits between batches of different sizes. Every graph therefore runs in chunks of one fixed
 * size (the last one padded with zeros), which makes a source's scores independent of how sources were
 * batched, and so of workers and run shards. Chunks: 16 sources for the encoder, 16 x 16 rows for the denoiser.
 */
export const ENCODER_CHUNK = 16;
export const DENOISER_CHUNK = 256;

async function runInFixedChunks(session: GraphSession, feeds: Record<string, Float32Feed>, rows: number, chunk: number): Promise<Record<string, Float32Array>> {
  const parts: Record<string, Float32Array>[] = [];
  for (let start = 0; start < rows; start += chunk) {
    const n = Math.min(chunk, rows - start);
    const sliced: Record<string, Float32Feed> = {};
    for (const [name, feed] of Object.entries(feeds)) {
      const width = feed.data.length / rows;
      const rowsHere = feed.data.subarray(start * width, (start + n) * width);
      // A full chunk is handed over as a view: copying every feed of every denoiser evaluation took a
      // fifth of the model's time. Only the last chunk is padded.
      const data = n === chunk ? rowsHere : new Float32Array(chunk * width);
      if (n < chunk) data.set(rowsHere);
      sliced[name] = { data, dims: [chunk, ...feed.dims.slice(1)] };
    }
    const out = await session.run(sliced);
    parts.push(Object.fromEntries(Object.entries(out).map(([name, values]) => [name, values.subarray(0, (values.length / chunk) * n)])));
  }
  const joined: Record<string, Float32Array> = {};
  for (const name of Object.keys(parts[0] ?? {})) {
    const total = parts.reduce((sum, part) => sum + part[name]!.length, 0);
    const values = new Float32Array(total);
    let at = 0;
    for (const part of parts) {
      values.set(part[name]!, at);
      at += part[name]!.length;
    }
    joined[name] = values;
  }
  return joined;
}

export class CoreGenerator {
  private constructor(
    readonly loaded: LoadedCard,
    private readonly encoder: GraphSession,
    private readonly denoiser: GraphSession,
  ) {}

  static async load(cardPath: string, { device, threads }: GeneratorOptions): Promise<CoreGenerator> {
    const loaded = readCard(cardPath);
    const { crop } = loaded.card.geometry;
    const hidden = Number(loaded.card.graphs.denoiser.inputs.features?.[1]);
    const pixels = coreOffsets(cardMask(loaded.card)).length;
    const encoder = await openGraph(loaded.encoderPath, { device, threads }, () => ({
      image: { data: new Float32Array(crop * crop), dims: [1, 1, crop, crop] },
      sigma: { data: Float32Array.of(1), dims: [1, 1] },
    }));
    const denoiser = await openGraph(loaded.denoiserPath, { device, threads }, () => ({
      z_t: { data: new Float32Array(pixels), dims: [1, pixels] },
      t: { data: new Float32Array(1), dims: [1, 1] },
      features: { data: new Float32Array(hidden), dims: [1, hidden] },
    }));
    checkGraphAgainstCard('encoder', loaded.card.graphs.encoder, encoder.inputs, encoder.outputs, loaded.encoderPath);
    checkGraphAgainstCard('denoiser', loaded.card.graphs.denoiser, denoiser.inputs, denoiser.outputs, loaded.denoiserPath);
    return new CoreGenerator(loaded, encoder, denoiser);
  }

  get provider(): ExecutionProvider {
    return this.encoder.provider;
  }

  get temperature(): number {
    return this.loaded.card.sampler.temperature ?? 1;
  }

  /** Whether the card's scores fit the point source jointly with the host. */
  get jointFit(): boolean {
    return this.loaded.card.sampler.joint_fit ?? false;
  }

  get mask(): CoreMask {
    return cardMask(this.loaded.card);
  }

  get corePixels(): number {
    return coreOffsets(this.mask).length;
  }

  get crop(): number {
    return this.loaded.card.geometry.crop;
  }

  /** `crops`: count x crop x crop core-centred pixels (see preprocess.ts); `sigma`: per-source noise. */
  async encode(crops: Float32Array, sigma: Float32Array): Promise<EncodedSources> {
    const count = sigma.length;
    const out = await runInFixedChunks(
      this.encoder,
      { image: { data: crops, dims: [count, 1, this.crop, this.crop] }, sigma: { data: sigma, dims: [count, 1] } },
      count,
      ENCODER_CHUNK,
    );
    return { count, features: out.features!, coreOffset: out.core_offset!, coreScale: out.core_scale! };
  }

  /**
   * Draws `samples` cores per source. `noise` holds count x samples x corePixels standard normal
   * draws, made by the caller from (run seed, object id) so results do not depend on batching; they
   * are scaled by `temperature` (default: the card's). Result layout: [source][sample][pixel], in
   * image units.
   */
  async sample(encoded: EncodedSources, samples: number, noise: Float32Array, solver: FlowSolverOptions, temperature = this.temperature): Promise<Float32Array> {
    const pixels = this.corePixels;
    const hidden = encoded.features.length / encoded.count;
    const rows = encoded.count * samples;
    if (noise.length !== rows * pixels) throw new RangeError(`noise has ${noise.length} values, expected ${rows * pixels}`);
    const features = new Float32Array(rows * hidden);
    for (let source = 0; source < encoded.count; source++) {
      const row = encoded.features.subarray(source * hidden, (source + 1) * hidden);
      for (let s = 0; s < samples; s++) features.set(row, (source * samples + s) * hidden);
    }
    const start = temperature === 1 ? noise : noise.map((v) => v * temperature);
    const z = await solveFlow(start, pixels, (zt, t) => this.velocity(zt, t, features, rows), solver);
    for (let source = 0; source < encoded.count; source++) {
      const offset = encoded.coreOffset.subarray(source * pixels, (source + 1) * pixels);
      const scale = encoded.coreScale.subarray(source * pixels, (source + 1) * pixels);
      for (let s = 0; s < samples; s++) {
        const base = (source * samples + s) * pixels;
        for (let p = 0; p < pixels; p++) z[base + p] = offset[p]! + scale[p]! * z[base + p]!;
      }
    }
    return z;
  }

  /** One denoiser evaluation over `rows` rows (normalised frame). */
  async velocity(zt: Float32Array, t: Float32Array, features: Float32Array, rows: number): Promise<Float32Array> {
    const hidden = features.length / rows;
    const out = await runInFixedChunks(
      this.denoiser,
      { z_t: { data: zt, dims: [rows, this.corePixels] }, t: { data: t, dims: [rows, 1] }, features: { data: features, dims: [rows, hidden] } },
      rows,
      DENOISER_CHUNK,
    );
    return out.velocity!;
  }

  async release(): Promise<void> {
    await Promise.all([this.encoder.release(), this.denoiser.release()]);
  }
}
