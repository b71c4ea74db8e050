/**
 * The one seam to onnxruntime: session creation, execution-provider selection and verification,
 * tensor plumbing. Nothing else in vis-agn imports onnxruntime-node, so a runtime upgrade or a
 * different backend touches only this file.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { ModelError } from '../errors.js';

export type DeviceRequest = 'cpu' | 'cuda' | 'auto';
export type ExecutionProvider = 'cpu' | 'cuda';

export interface GraphOptions {
  readonly device: DeviceRequest;
  /** Intra-op threads; worker pools pass 1 so that workers x threads never exceeds the cores. */
  readonly threads: number;
}

export interface TensorSpec {
  readonly name: string;
  /** Symbolic axes ('batch') as strings, fixed axes as numbers. */
  readonly shape: readonly (string | number)[];
}

export interface Float32Feed {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

export interface GraphSession {
  readonly path: string;
  readonly provider: ExecutionProvider;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  run(feeds: Record<string, Float32Feed>): Promise<Record<string, Float32Array>>;
  release(): Promise<void>;
}

export const CUDA_INSTALL_HINT =
  'the onnxruntime CUDA provider is not installed; reinstall with `ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci` on a machine with CUDA 12';

/** The CUDA provider ships as a separate download next to the binding; its library must be there. */
export function cudaProviderInstalled(): boolean {
  const require = createRequire(import.meta.url);
  const bindingDir = path.join(path.dirname(require.resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch);
  return existsSync(path.join(bindingDir, 'libonnxruntime_providers_cuda.so'));
}

function specsOf(metadata: readonly ort.InferenceSession.ValueMetadata[]): TensorSpec[] {
  return metadata.map((m) => ({ name: m.name, shape: 'shape' in m ? [...m.shape] : [] }));
}

async function createSession(file: string, provider: ExecutionProvider, threads: number, profileDir?: string) {
  return ort.InferenceSession.create(file, {
    executionProviders: [provider],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    ...(profileDir === undefined ? {} : { enableProfiling: true, profileFilePrefix: path.join(profileDir, 'ort') }),
  });
}

/**
 * onnxruntime can place nodes on the CPU even in a CUDA session. The session that will do the work is
 * created with profiling on, runs one probe, and is kept only if its profile shows the nodes ran on
 * the CUDA provider, so "cuda" in a catalogue's metadata is a fact about that very session.
 */
async function createVerifiedCudaSession(file: string, threads: number, feeds: Record<string, Float32Feed>): Promise<ort.InferenceSession> {
  const dir = mkdtempSync(path.join(tmpdir(), 'vis-agn-ort-'));
  const session = await createSession(file, 'cuda', threads, dir);
  try {
    await session.run(toTensors(feeds));
    session.endProfiling();
    const profile = readdirSync(dir).find((name) => name.endsWith('.json'));
    if (profile === undefined) throw new ModelError('no onnxruntime profile was written', { file });
    const events = JSON.parse(readFileSync(path.join(dir, profile), 'utf8')) as { args?: { provider?: string } }[];
    const providers = new Set(events.map((e) => e.args?.provider).filter((p): p is string => p !== undefined));
    if (!providers.has('CUDAExecutionProvider')) {
      throw new ModelError(`CUDA session ran its nodes on ${[...providers].join(', ') || 'no provider'}`, { file });
    }
    return session;
  } catch (error) {
    await session.release();
    throw error;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function toTensors(feeds: Record<string, Float32Feed>): Record<string, ort.Tensor> {
  const tensors: Record<string, ort.Tensor> = {};
  for (const [name, feed] of Object.entries(feeds)) tensors[name] = new ort.Tensor('float32', feed.data, feed.dims);
  return tensors;
}

/**
 * Opens an ONNX graph on the requested device. `cuda` fails loudly when the provider is missing or not
 * used; only `auto` may fall back to the CPU. `probeFeeds` is a small valid input used to verify
 * placement on CUDA.
 */
export async function openGraph(
  file: string,
  { device, threads }: GraphOptions,
  probeFeeds: () => Record<string, Float32Feed>,
): Promise<GraphSession> {
  if (!existsSync(file)) throw new ModelError('ONNX graph not found', { file });
  let provider: ExecutionProvider = 'cpu';
  let session: ort.InferenceSession | undefined;
  if (device !== 'cpu') {
    const installed = cudaProviderInstalled();
    if (!installed && device === 'cuda') throw new ModelError(CUDA_INSTALL_HINT, { file });
    if (installed) {
      try {
        session = await createVerifiedCudaSession(file, threads, probeFeeds());
        provider = 'cuda';
      } catch (error) {
        if (device === 'cuda') throw error instanceof ModelError ? error : new ModelError(`CUDA session failed: ${String(error)}`, { file }, { cause: error });
      }
    }
  }
  try {
    session ??= await createSession(file, 'cpu', threads);
  } catch (error) {
    throw new ModelError(`onnxruntime could not load the graph: ${String(error)}`, { file }, { cause: error });
  }
  const ready = session;
  return {
    path: file,
    provider,
    inputs: specsOf(ready.inputMetadata),
    outputs: specsOf(ready.outputMetadata),
    async run(feeds) {
      const results = await ready.run(toTensors(feeds));
      const out: Record<string, Float32Array> = {};
      for (const [name, tensor] of Object.entries(results)) out[name] = tensor.data as Float32Array;
      return out;
    },
    release: () => ready.release(),
  };
}

/** The onnxruntime-node version, as catalogues record it. */
export function runtimeVersion(): string {
  return ort.env.versions.node ?? ort.env.versions.common;
}
