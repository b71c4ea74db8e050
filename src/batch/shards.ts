/**
 * Runs split into run shards that survive being killed (not the training shards of src/sim/shards.ts,
 * files of stamps for the trainer; README, "Two kinds of shard"). A run manifest assigns every input
 * to exactly one shard: cutout files, or catalogue objects on MER tiles, each object to the one tile
 * whose core area holds it (cutout/tile-assign.ts; tiles overlap at their margins, an object there is
 * still processed once). A shard is scored in chunks, each written atomically as it finishes
 * (DIR/part-K.chunks/), so a rerun after a kill redoes at most one chunk; a finished shard is concatenated into part-K.arrow
 * (temp + rename) and marked done, and a rerun skips it. `merge` concatenates the parts in shard order
 * and checks that no input is missing or repeated. Every source's draws come from (seed, object id),
 * so the merged catalogue equals a single uninterrupted run's, row for row.
 */

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';

import { ensureOutputDir, removeStaleTemporaries, writeAtomically } from '../atomic-file.js';
import { CatalogWriter } from '../catalog/arrow.js';
import { openCatalog } from '../catalog/read.js';
import type { CatalogRow, RunMetadata } from '../catalog/schema.js';
import { rowAt } from '../catalog/batch.js';
import { DEFAULT_HDU_NAMES, listInputFiles, type HduNames } from '../cutout/from-files.js';
import { readTileObjects, selectObjects } from '../cutout/from-tile.js';
import { placeOnTiles, type CatalogueSpec, type TileFiles } from '../cutout/tile-assign.js';
import { InputNotFoundError, InvalidInputError, UsageError } from '../errors.js';
import { readCard } from '../model/card.js';
import { detectTask, type DetectTask, type TaskInputs } from './detect-task.js';
import { providerList, runMetadata, settingsDifference } from './metadata.js';
import { detectionPool, errorLines, inGroupsOf, RunTally, type ScoringOptions, type SourceError } from './run.js';

export const MANIFEST_SCHEMA = 'vis-agn/manifest/1';

export interface FileManifest {
  readonly schema: typeof MANIFEST_SCHEMA;
  readonly kind?: 'files';
  /** The inputs as given to `plan`. */
  readonly inputs: readonly string[];
  /** shards[k]: the files of shard k, in input order. */
  readonly shards: readonly (readonly string[])[];
}

/** The catalogue rows (0-based) of one shard that lie in the core area of tile `tile`. */
export interface TileShardPart {
  readonly tile: number;
  readonly rows: readonly number[];
}

export interface TileManifest {
  readonly schema: typeof MANIFEST_SCHEMA;
  readonly kind: 'tiles';
  readonly inputs: readonly string[];
  readonly catalogue: CatalogueSpec;
  readonly tiles: readonly TileFiles[];
  readonly shards: readonly (readonly TileShardPart[])[];
  /** Catalogue rows on no tile: listed, never silently dropped. */
  readonly unassigned: readonly number[];
}

export type Manifest = FileManifest | TileManifest;

function checkShardCount(shardCount: number): void {
  if (!Number.isInteger(shardCount) || shardCount < 1) throw new UsageError(`the number of shards must be a positive integer, not ${shardCount}`);
}

/** `items` in `count` contiguous, nearly equal blocks. */
function blocks<T>(items: readonly T[], count: number): T[][] {
  return Array.from({ length: count }, (_, k) => items.slice(Math.floor((k * items.length) / count), Math.floor(((k + 1) * items.length) / count)));
}

/** Contiguous, nearly equal blocks of the inputs (sorted within each folder), one per shard. */
export function planShards(inputs: readonly string[], shardCount: number): FileManifest {
  checkShardCount(shardCount);
  return { schema: MANIFEST_SCHEMA, inputs: [...inputs], shards: blocks(listInputFiles(inputs), shardCount) };
}

/**
 * Catalogue objects on tiles: each assigned to one tile by core area, the (tile, row) list in tile
 * order cut into nearly equal contiguous shards, so a shard touches few tiles.
 */
export async function planTileShards(catalogue: CatalogueSpec, tiles: readonly TileFiles[], shardCount: number, names: HduNames = DEFAULT_HDU_NAMES): Promise<TileManifest> {
  checkShardCount(shardCount);
  const { entries, unassigned } = await placeOnTiles(catalogue, tiles, names);
  const shards = blocks(entries, shardCount).map((block) => {
    const parts: { tile: number; rows: number[] }[] = [];
    for (const { tile, row } of block) {
      if (parts.at(-1)?.tile !== tile) parts.push({ tile, rows: [] });
      parts.at(-1)!.rows.push(row);
    }
    return parts;
  });
  const inputs = [catalogue.catalog, ...tiles.flatMap((t) => [t.tile, ...(t.rms === undefined ? [] : [t.rms]), ...(t.psf === undefined ? [] : [t.psf])])];
  return { schema: MANIFEST_SCHEMA, kind: 'tiles', inputs, catalogue, tiles, shards, unassigned };
}

/** How many sources shard k holds. */
export function shardSize(manifest: Manifest, shard: number): number {
  const entries = manifest.shards[shard] ?? [];
  return manifest.kind === 'tiles' ? (entries as readonly TileShardPart[]).reduce((n, part) => n + part.rows.length, 0) : entries.length;
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
  let manifest: Manifest;
  try {
    manifest = JSON.parse(text) as Manifest;
  } catch (error) {
    throw new InvalidInputError(`manifest is not JSON: ${(error as Error).message}`, { file }, { cause: error });
  }
  if (manifest.schema !== MANIFEST_SCHEMA || !Array.isArray(manifest.shards) || (manifest.kind !== undefined && manifest.kind !== 'files' && manifest.kind !== 'tiles')) throw new InvalidInputError(`not a ${MANIFEST_SCHEMA} manifest (vis-agn plan writes them)`, { file });
  return manifest;
}

const partName = (shard: number): string => `part-${String(shard).padStart(5, '0')}`;
export const partPath = (dir: string, shard: number): string => path.join(dir, `${partName(shard)}.arrow`);
export const doneMarker = (dir: string, shard: number): string => path.join(dir, `${partName(shard)}.done`);
const chunkDir = (dir: string, shard: number): string => path.join(dir, `${partName(shard)}.chunks`);
const chunkPath = (dir: string, shard: number, chunk: number): string => path.join(chunkDir(dir, shard), `chunk-${String(chunk).padStart(6, '0')}.arrow`);
/** The failed sources of a part (or chunk): errors.jsonl lines, beside it. */
export const errorsPath = (arrow: string): string => `${arrow.replace(/\.arrow$/, '')}.errors.jsonl`;

async function storedMetadata(file: string): Promise<RunMetadata> {
  const catalog = await openCatalog(file);
  await catalog.close();
  return catalog.metadata;
}

/** Refuses to build on `file` when it was made with other settings than `metadata`'s. */
async function checkSameSettings(file: string, metadata: Omit<RunMetadata, 'executionProvider'>, rerun: string): Promise<void> {
  const difference = settingsDifference(await storedMetadata(file), metadata);
  if (difference !== undefined) throw new UsageError(`${file} was made with other settings than this run (${difference}); ${rerun}`);
}

async function readErrors(file: string): Promise<string> {
  return existsSync(file) ? readFile(file, 'utf8') : '';
}

async function* catalogRows(file: string): AsyncGenerator<CatalogRow> {
  const catalog = await openCatalog(file);
  for await (const batch of catalog.batches) for (let i = 0; i < batch.length; i++) yield rowAt(batch, i);
}

/** The catalogues `sources` as one at `target`, their errors.jsonl files as one beside it, and the providers of all of them. */
async function concatenate(target: string, metadata: Omit<RunMetadata, 'executionProvider'>, sources: readonly string[]): Promise<RunTally> {
  const providers: string[] = [];
  for (const source of sources) providers.push((await storedMetadata(source)).executionProvider);
  const writer = await CatalogWriter.create(target, { ...metadata, executionProvider: providerList(providers) });
  const tally = new RunTally();
  try {
    for (const source of sources) {
      for await (const row of catalogRows(source)) {
        writer.append(row);
        tally.add(row);
      }
    }
    const errors = (await Promise.all(sources.map((source) => readErrors(errorsPath(source))))).join('');
    await writeAtomically(errorsPath(target), (file) => file.write(Buffer.from(errors)));
    await writer.close();
    return tally;
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

export interface ShardRunOptions extends ScoringOptions {
  readonly manifest: string;
  readonly shard: number;
  readonly out: string;
  /** Sources per chunk, the most a kill can cost; fixed by the first attempt at the shard. */
  readonly chunk: number;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface ShardRunResult {
  readonly part: string;
  readonly rows: number;
  /** True when the shard was already done and nothing ran. */
  readonly skipped: boolean;
  /** Chunks found from an interrupted attempt and kept. */
  readonly resumedChunks: number;
  /** Rows of sources that were not scored because something failed (flagged with one of FAILURE_FLAGS). */
  readonly failed: number;
}

/** A shard's sources, addressable by position so each chunk can be cut on its own. */
interface ShardInputs {
  readonly count: number;
  /** Sources from..to as the inputs of tasks of at most `batch` sources, none spanning two tiles. */
  groups(from: number, to: number, batch: number): TaskInputs[];
}

async function shardInputs(manifest: Manifest, shard: number): Promise<ShardInputs> {
  if (manifest.kind !== 'tiles') {
    const files = manifest.shards[shard] as readonly string[];
    return { count: files.length, groups: (from, to, batch) => inGroupsOf(files.slice(from, to), batch).map((group) => ({ files: group })) };
  }
  const { catalogue, tiles } = manifest;
  const entries = (manifest.shards[shard] as readonly TileShardPart[]).flatMap((part) => part.rows.map((row) => ({ tile: part.tile, row })));
  const objects = await readTileObjects(catalogue);
  return {
    count: entries.length,
    groups(from, to, batch) {
      const slice = entries.slice(from, to);
      const out: TaskInputs[] = [];
      for (let start = 0; start < slice.length; ) {
        const tile = slice[start]!.tile;
        let end = start;
        while (end < slice.length && slice[end]!.tile === tile) end++;
        for (const group of inGroupsOf(slice.slice(start, end), batch)) out.push({ tile: { ...tiles[tile]!, ...catalogue }, objects: selectObjects(objects, group.map((e) => e.row)) });
        start = end;
      }
      return out;
    },
  };
}

export async function runShard(options: ShardRunOptions): Promise<ShardRunResult> {
  const manifest = readManifest(options.manifest);
  if (manifest.shards[options.shard] === undefined) throw new UsageError(`--shard ${options.shard} is outside the manifest's ${manifest.shards.length} shards (0-based)`);
  const part = partPath(options.out, options.shard);
  const tiles = manifest.kind === 'tiles' ? manifest.tiles.map((files) => ({ ...files, ...manifest.catalogue })) : undefined;
  const metadata = runMetadata(readCard(options.cardPath), options.settings, [options.manifest], tiles);
  const rerun = `rerun with the settings it was made with, or remove it to start the shard again`;
  if (existsSync(doneMarker(options.out, options.shard)) && existsSync(part)) {
    await checkSameSettings(part, metadata, rerun);
    // A kill between the done marker and the removal of the chunks leaves them behind.
    await rm(chunkDir(options.out, options.shard), { recursive: true, force: true });
    const done = await tallyOf(part);
    return { part, rows: done.sources, skipped: true, resumedChunks: 0, failed: done.failed };
  }
  const inputs = await shardInputs(manifest, options.shard);
  const chunks = chunkDir(options.out, options.shard);
  await ensureOutputDir(chunks);
  // What a kill -9 left: temporary files of this shard's outputs (no other process writes them).
  await removeStaleTemporaries(options.out, (target) => target.startsWith(`${partName(options.shard)}.`));
  await removeStaleTemporaries(chunks, () => true);
  const layoutFile = path.join(chunks, 'chunking.json');
  // The chunk size of the first attempt decides which files each chunk file holds.
  const chunk = existsSync(layoutFile) ? (JSON.parse(readFileSync(layoutFile, 'utf8')) as { chunk: number }).chunk : options.chunk;
  if (!existsSync(layoutFile)) await writeAtomically(layoutFile, (file) => file.write(Buffer.from(JSON.stringify({ chunk }))));
  const chunkCount = Math.ceil(inputs.count / chunk);
  const present = new Set(readdirSync(chunks).filter((name) => /^chunk-\d{6}\.arrow$/.test(name)));
  const missing = Array.from({ length: chunkCount }, (_, c) => c).filter((c) => !present.has(path.basename(chunkPath(options.out, options.shard, c))));
  const kept = [...present].sort()[0];
  if (kept !== undefined) await checkSameSettings(path.join(chunks, kept), metadata, `resume with the settings it was made with, or remove ${chunks} to start the shard again`);

  // Every missing chunk's tasks go through one pool, in order; a chunk's file is written when its last
  // task's rows are in.
  const queued: { chunk: number; tasks: number }[] = [];
  const tasks = function* (): Generator<DetectTask> {
    for (const c of missing) {
      const groups = inputs.groups(c * chunk, (c + 1) * chunk, options.batch);
      queued.push({ chunk: c, tasks: groups.length });
      for (const group of groups) yield detectTask(options, group);
    }
  };
  let writer: CatalogWriter | undefined;
  let errors: SourceError[] = [];
  try {
    for await (const { result, providers } of detectionPool(tasks(), options)) {
      const current = queued[0]!;
      const target = chunkPath(options.out, options.shard, current.chunk);
      writer ??= await CatalogWriter.create(target, { ...metadata, executionProvider: providers });
      for (const error of result.errors) options.onSourceError?.(error);
      errors.push(...result.errors);
      for (const row of result.rows) writer.append(row);
      if (--current.tasks > 0) continue;
      // The errors first: a chunk's catalogue marks it done, so its errors must already be there.
      await writeAtomically(errorsPath(target), (file) => file.write(Buffer.from(errorLines(errors))));
      await writer.close();
      writer = undefined;
      errors = [];
      queued.shift();
      options.onProgress?.(Math.min(inputs.count, (current.chunk + 1) * chunk), inputs.count);
    }
  } catch (error) {
    await writer?.abort();
    throw error;
  }
  const rows = await concatenate(part, metadata, Array.from({ length: chunkCount }, (_, c) => chunkPath(options.out, options.shard, c)));
  await writeAtomically(doneMarker(options.out, options.shard), (file) => file.write(Buffer.from(`${JSON.stringify({ rows: rows.sources })}\n`)));
  await rm(chunks, { recursive: true, force: true });
  return { part, rows: rows.sources, skipped: false, resumedChunks: chunkCount - missing.length, failed: rows.failed };
}

/** The counts of a finished catalogue. */
async function tallyOf(file: string): Promise<RunTally> {
  const tally = new RunTally();
  for await (const row of catalogRows(file)) tally.add(row);
  return tally;
}

/** What identifies an input in the rows: the file for cutouts, the object id for tile objects. */
async function expectedKeys(manifest: Manifest): Promise<{ keys: Map<string, number>; keyOf: (row: CatalogRow) => string }> {
  const keys = new Map<string, number>();
  const count = (key: string) => keys.set(key, (keys.get(key) ?? 0) + 1);
  if (manifest.kind !== 'tiles') {
    for (const file of (manifest.shards as readonly (readonly string[])[]).flat()) count(file);
    return { keys, keyOf: (row) => row.source_file };
  }
  const objects = await readTileObjects(manifest.catalogue);
  for (const shard of manifest.shards as readonly (readonly TileShardPart[])[]) for (const part of shard) for (const row of part.rows) count(String(objects.ids[row]));
  return { keys, keyOf: (row) => String(row.object_id) };
}

/**
 * The parts of every shard as one catalogue, in shard order, and its counts. Refuses when a shard is
 * not done, when a manifest input has no row, or when one has more than one. Scores need no global
 * pass: the significance calibration and the thresholds are fixed before any shard runs.
 */
export async function mergeShards(manifestFile: string, partsDir: string, target: string): Promise<RunTally> {
  const manifest = readManifest(manifestFile);
  const parts = manifest.shards.map((_, k) => partPath(partsDir, k));
  const unfinished = manifest.shards.flatMap((_, k) => (existsSync(doneMarker(partsDir, k)) && existsSync(parts[k]!) ? [] : [k]));
  if (unfinished.length > 0) throw new InvalidInputError(`shards not done: ${unfinished.join(', ')} (run them with vis-agn run --manifest ${manifestFile} --shard K)`, { file: partsDir });
  const { keys: expected, keyOf } = await expectedKeys(manifest);
  const seen = new Map<string, number>();
  let metadata: RunMetadata | undefined;
  for (const part of parts) {
    const catalog = await openCatalog(part);
    const difference = metadata === undefined ? undefined : settingsDifference(metadata, catalog.metadata);
    if (difference !== undefined) {
      await catalog.close();
      throw new InvalidInputError(`${part} was made with other settings than ${parts[0]} (${difference}); rerun its shard with the same settings`, { file: partsDir });
    }
    metadata ??= { ...catalog.metadata, inputs: [manifestFile], createdAt: new Date().toISOString() };
    for await (const batch of catalog.batches) {
      for (let i = 0; i < batch.length; i++) {
        const key = keyOf(rowAt(batch, i));
        seen.set(key, (seen.get(key) ?? 0) + 1);
      }
    }
  }
  const missing = [...expected.keys()].filter((key) => !seen.has(key));
  const repeated = [...seen.entries()].filter(([key, n]) => n > (expected.get(key) ?? 0));
  if (missing.length > 0 || repeated.length > 0) {
    const say = (what: string, list: string[]) => (list.length === 0 ? [] : [`${list.length} ${what} (first: ${list[0]})`]);
    throw new InvalidInputError(`parts do not match the manifest: ${[...say('inputs missing', missing), ...say('inputs repeated or unknown', repeated.map(([key]) => key))].join('; ')}`, { file: partsDir });
  }
  return concatenate(target, metadata!, parts);
}
