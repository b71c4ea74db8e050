/**
 * Runs split into shards that survive being killed. A manifest assigns every input to exactly one
 * shard. A shard is scored in chunks, each written atomically as it finishes (DIR/part-K.chunks/), so
 * a rerun after a kill redoes at most one chunk; a finished shard is concatenated into part-K.arrow
 * (temp + rename) and marked done, and a rerun skips it. `merge` concatenates the parts in shard order
 * and checks that no input is missing or repeated. Every source's draws come from (seed, object id),
 * so the merged catalogue equals a single uninterrupted run's, row for row.
 */

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';

import { ensureOutputDir, writeAtomically } from '../atomic-file.js';
import { CatalogWriter } from '../catalog/arrow.js';
import { openCatalog } from '../catalog/read.js';
import type { CatalogRow, RunMetadata } from '../catalog/schema.js';
import { rowAt } from '../catalog/batch.js';
import { listInputFiles } from '../cutout/from-files.js';
import { InputNotFoundError, InvalidInputError, UsageError, type VisAgnError } from '../errors.js';
import { CoreGenerator } from '../model/generator.js';
import type { DeviceRequest } from '../model/runtime.js';
import { CORE_SEARCH } from '../score/prepare.js';
import { fileSources, groups, runMetadata, scoreGroup, significanceCalibration, type DetectionConfig } from './run.js';

export const MANIFEST_SCHEMA = 'vis-agn/manifest/1';

export interface Manifest {
  readonly schema: typeof MANIFEST_SCHEMA;
  /** The inputs as given to `plan`. */
  readonly inputs: readonly string[];
  /** shards[k]: the files of shard k, in input order. */
  readonly shards: readonly (readonly string[])[];
}

/** Contiguous, nearly equal blocks of the inputs (sorted within each folder), one per shard. */
export function planShards(inputs: readonly string[], shardCount: number): Manifest {
  if (!Number.isInteger(shardCount) || shardCount < 1) throw new UsageError(`the number of shards must be a positive integer, not ${shardCount}`);
  const files = listInputFiles(inputs);
  const shards = Array.from({ length: shardCount }, (_, k) => files.slice(Math.floor((k * files.length) / shardCount), Math.floor(((k + 1) * files.length) / shardCount)));
  return { schema: MANIFEST_SCHEMA, inputs: [...inputs], shards };
}

export async function writeManifest(target: string, manifest: Manifest): Promise<void> {
  await writeAtomically(target, (file) => file.write(Buffer.from(`${JSON.stringify(manifest, null, 1)}\n`)));
}

export function readManifest(file: string): Manifest {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new InputNotFoundError('manifest not found', { file }, { cause: error });
  }
  const manifest = JSON.parse(text) as Manifest;
  if (manifest.schema !== MANIFEST_SCHEMA || !Array.isArray(manifest.shards)) throw new InvalidInputError(`not a ${MANIFEST_SCHEMA} manifest (vis-agn plan writes them)`, { file });
  return manifest;
}

const partName = (shard: number): string => `part-${String(shard).padStart(5, '0')}`;
export const partPath = (dir: string, shard: number): string => path.join(dir, `${partName(shard)}.arrow`);
export const doneMarker = (dir: string, shard: number): string => path.join(dir, `${partName(shard)}.done`);
const chunkDir = (dir: string, shard: number): string => path.join(dir, `${partName(shard)}.chunks`);
const chunkPath = (dir: string, shard: number, chunk: number): string => path.join(chunkDir(dir, shard), `chunk-${String(chunk).padStart(6, '0')}.arrow`);

async function* catalogRows(file: string): AsyncGenerator<CatalogRow> {
  const catalog = await openCatalog(file);
  for await (const batch of catalog.batches) for (let i = 0; i < batch.length; i++) yield rowAt(batch, i);
}

async function concatenate(target: string, metadata: RunMetadata, sources: readonly string[]): Promise<number> {
  const writer = await CatalogWriter.create(target, metadata);
  try {
    for (const source of sources) for await (const row of catalogRows(source)) writer.append(row);
    return await writer.close();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

export interface ShardRunOptions {
  readonly manifest: string;
  readonly shard: number;
  readonly out: string;
  readonly cardPath: string;
  readonly device: DeviceRequest;
  readonly threads: number;
  /** Sources per chunk, the most a kill can cost; fixed by the first attempt at the shard. */
  readonly chunk: number;
  readonly config: DetectionConfig;
  readonly onProgress?: (done: number, total: number) => void;
  readonly onInputError?: (file: string, error: VisAgnError) => void;
}

export interface ShardRunResult {
  readonly part: string;
  readonly rows: number;
  /** True when the shard was already done and nothing ran. */
  readonly skipped: boolean;
  /** Chunks found from an interrupted attempt and kept. */
  readonly resumedChunks: number;
}

export async function runShard(options: ShardRunOptions): Promise<ShardRunResult> {
  const manifest = readManifest(options.manifest);
  const files = manifest.shards[options.shard];
  if (files === undefined) throw new UsageError(`--shard ${options.shard} is outside the manifest's ${manifest.shards.length} shards (0-based)`);
  const part = partPath(options.out, options.shard);
  if (existsSync(doneMarker(options.out, options.shard)) && existsSync(part)) return { part, rows: files.length, skipped: true, resumedChunks: 0 };
  const chunks = chunkDir(options.out, options.shard);
  await ensureOutputDir(chunks);
  const layoutFile = path.join(chunks, 'chunking.json');
  // The chunk size of the first attempt decides which files each chunk file holds.
  const chunk = existsSync(layoutFile) ? (JSON.parse(readFileSync(layoutFile, 'utf8')) as { chunk: number }).chunk : options.chunk;
  if (!existsSync(layoutFile)) await writeAtomically(layoutFile, (file) => file.write(Buffer.from(JSON.stringify({ chunk }))));
  const chunkCount = Math.ceil(files.length / chunk);
  const present = new Set(readdirSync(chunks).filter((name) => /^chunk-\d{6}\.arrow$/.test(name)));
  const generator = await CoreGenerator.load(options.cardPath, { device: options.device, threads: options.threads });
  const metadata = runMetadata(generator, options.config, [options.manifest], options.cardPath);
  let resumedChunks = 0;
  try {
    const calibration = significanceCalibration(generator);
    const side = generator.crop + CORE_SEARCH - 1;
    for (let c = 0; c < chunkCount; c++) {
      const target = chunkPath(options.out, options.shard, c);
      if (present.has(path.basename(target))) {
        resumedChunks++;
        continue;
      }
      const chunkFiles = files.slice(c * chunk, (c + 1) * chunk);
      const writer = await CatalogWriter.create(target, metadata);
      try {
        for await (const group of groups(fileSources(chunkFiles, options.config.hduNames, side, options.onInputError), chunk)) {
          for (const row of await scoreGroup(generator, group, options.config, calibration)) writer.append(row);
        }
        await writer.close();
      } catch (error) {
        await writer.abort();
        throw error;
      }
      options.onProgress?.(Math.min(files.length, (c + 1) * chunk), files.length);
    }
  } finally {
    await generator.release();
  }
  const rows = await concatenate(part, metadata, Array.from({ length: chunkCount }, (_, c) => chunkPath(options.out, options.shard, c)));
  await writeAtomically(doneMarker(options.out, options.shard), (file) => file.write(Buffer.from(`${JSON.stringify({ rows, files: files.length })}\n`)));
  await rm(chunks, { recursive: true, force: true });
  return { part, rows, skipped: false, resumedChunks };
}

/**
 * The parts of every shard as one catalogue, in shard order. Refuses when a shard is not done, when a
 * manifest input has no row, or when one has more than one.
 */
export async function mergeShards(manifestFile: string, partsDir: string, target: string): Promise<number> {
  const manifest = readManifest(manifestFile);
  const parts = manifest.shards.map((_, k) => partPath(partsDir, k));
  const unfinished = manifest.shards.flatMap((_, k) => (existsSync(doneMarker(partsDir, k)) && existsSync(parts[k]!) ? [] : [k]));
  if (unfinished.length > 0) throw new InvalidInputError(`shards not done: ${unfinished.join(', ')} (run them with vis-agn run --manifest ${manifestFile} --shard K)`, { file: partsDir });
  const expected = new Map<string, number>();
  for (const file of manifest.shards.flat()) expected.set(file, (expected.get(file) ?? 0) + 1);
  const seen = new Map<string, number>();
  let metadata: RunMetadata | undefined;
  for (const part of parts) {
    const catalog = await openCatalog(part);
    metadata ??= { ...catalog.metadata, inputs: [manifestFile], createdAt: new Date().toISOString() };
    for await (const batch of catalog.batches) {
      for (let i = 0; i < batch.length; i++) {
        const file = rowAt(batch, i).source_file;
        seen.set(file, (seen.get(file) ?? 0) + 1);
      }
    }
  }
  const missing = [...expected.keys()].filter((file) => !seen.has(file));
  const repeated = [...seen.entries()].filter(([file, n]) => n > (expected.get(file) ?? 0));
  if (missing.length > 0 || repeated.length > 0) {
    const say = (what: string, list: string[]) => (list.length === 0 ? [] : [`${list.length} ${what} (first: ${list[0]})`]);
    throw new InvalidInputError(`parts do not match the manifest: ${[...say('inputs missing', missing), ...say('inputs repeated or unknown', repeated.map(([f]) => f))].join('; ')}`, { file: partsDir });
  }
  return concatenate(target, metadata!, parts);
}
