/**
 * Training stamps from a survey (`vis-agn stamps`): MER tiles at catalogue positions, or folders of
 * cutouts, cut to the trainer's stamp, selected (./select.ts) and written as training shards
 * (docs/sim-shards.md, "Observed stamps") without any truth. The candidates are numbered once, in
 * tile-then-catalogue or natural file order, and shard k holds the kept ones among candidates
 * [k S, (k+1) S): a shard's content never depends on when a run was interrupted. Each shard's arrays
 * appear atomically, then its record; a rerun skips shards with a record, so kill -9 and rerun give
 * the same files, each source once. manifest.json is written last.
 */

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

import { AtomicFile, ensureOutputDir, removeStaleTemporaries, writeAtomically } from '../atomic-file.js';
import { readTableColumns, resolveColumn, numberColumn } from '../ground/table.js';
import { DEFAULT_HDU_NAMES, listInputFiles, readCutout, type CutoutSource } from '../cutout/from-files.js';
import { readTileObjects, selectObjects, TileReader } from '../cutout/from-tile.js';
import { placeOnTiles, type CatalogueSpec, type TileFiles } from '../cutout/tile-assign.js';
import { InvalidInputError, OutputError, UsageError } from '../errors.js';
import type { CoreMask } from '../model/geometry.js';
import { prepareSource } from '../detect/prepare.js';
import { MER_RMS_TO_SIGMA, MICROJANSKY_PER_UNIT, PIXEL_SCALE_ARCSEC } from '../ground/vis.js';
import { defaultVisPsf } from '../ground/psf.js';
import { generatorVersion } from '../ground/version.js';
import { magnitudeOf, NO_CATALOGUE_VALUES, rejection, REJECTIONS, uJyToMag, type CatalogueValues, type ColumnCut, type Rejection, type Selection } from './select.js';

export const STAMPS_SCHEMA = 'vis-agn/stamps/1';
const RECORD_SCHEMA = 'vis-agn/stamps-shard/1';

/** The trainer's crop (64) plus the 9x9 core search on both sides, as `simulate shards` writes for training. */
export const DEFAULT_STAMP = 72;
const CROP = 64;
const MASK: CoreMask = { size: 5, shape: 'square' };

export type StampSource =
  | { readonly kind: 'tiles'; readonly catalogue: CatalogueSpec; readonly tiles: readonly TileFiles[] }
  | { readonly kind: 'cutouts'; readonly inputs: readonly string[] };

export interface SelectionOptions {
  readonly magnitude: readonly [number, number];
  /** Catalogue magnitude column; else a uJy flux column (`fluxColumn`, default flux_detection_total if present); else Kron. */
  readonly magColumn?: string;
  readonly fluxColumn?: string;
  readonly blendColumn?: string;
  readonly blendBits?: number;
  readonly skip: readonly Rejection[];
  readonly exclude: readonly ColumnCut[];
}

export interface StampsOptions {
  readonly source: StampSource;
  readonly out: string;
  readonly selection: SelectionOptions;
  readonly stamp?: number;
  /** Candidates (not kept stamps) per shard. */
  readonly shardCandidates?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface StampFile {
  readonly path: string;
  readonly kind: 'image' | 'rms' | 'sigma';
  readonly dtype: 'float32';
  readonly shape: readonly number[];
  readonly first: number;
  readonly sha256: string;
}

interface ShardRecord {
  readonly schema: typeof RECORD_SCHEMA;
  readonly settings: string;
  readonly shard: number;
  readonly candidates: readonly [number, number];
  readonly files: readonly Omit<StampFile, 'first'>[];
  /** Kept stamps in order: object id, where it came from, position, magnitude and noise. */
  readonly stamps: readonly { readonly object_id: string; readonly source: string; readonly x: number; readonly y: number; readonly ra: number | null; readonly dec: number | null; readonly mag: number; readonly sigma: number; readonly magzero: number }[];
  readonly rejected: readonly { readonly object_id: string; readonly source: string; readonly reason: Rejection }[];
}

export interface StampsManifest {
  readonly schema: typeof STAMPS_SCHEMA;
  readonly generator: { readonly name: 'vis-agn'; readonly version: string };
  /** Observed stamps: no truth, no `point` arrays; the trainer refuses targets that need them. */
  readonly labels: 'none';
  readonly truth: null;
  readonly count: number;
  readonly stamp: { readonly width: number; readonly height: number };
  readonly byteOrder: 'little';
  readonly units: { readonly magzero: number | null; readonly microjanskyPerUnit: number; readonly pixelScaleArcsec: number };
  readonly sigma: string;
  readonly source: StampSource & { readonly files: readonly { readonly path: string; readonly bytes: number }[] };
  readonly selection: Selection & { readonly rejectionOrder: readonly Rejection[] };
  readonly settingsDigest: string;
  readonly shardCandidates: number;
  readonly counts: { readonly candidates: number; readonly offTiles: number; readonly kept: number; readonly rejected: Readonly<Record<Rejection, number>> };
  readonly files: readonly StampFile[];
  /** Per shard: its candidate range, record file and the object ids kept, in stamp order. */
  readonly shards: readonly { readonly index: number; readonly candidates: readonly [number, number]; readonly record: string; readonly objectIds: readonly string[] }[];
}

const shardName = (k: number): string => `shard-${String(k).padStart(5, '0')}`;

function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** One candidate: a tile's catalogue row or a cutout file. */
type Candidate = { readonly tile: number; readonly row: number } | { readonly file: string };

interface Plan {
  readonly candidates: readonly Candidate[];
  readonly offTiles: number;
  /** Catalogue values per catalogue row (tiles only). */
  readonly values: (row: number) => CatalogueValues;
  readonly selection: Selection;
  readonly objects?: Awaited<ReturnType<typeof readTileObjects>>;
}

const BLEND_NAMES = ['blended', 'blend_flag', 'blended_flag', 'is_blended'];

async function planTiles(source: Extract<StampSource, { kind: 'tiles' }>, options: SelectionOptions): Promise<Plan> {
  const { objects, entries: candidates, unassigned } = await placeOnTiles(source.catalogue, source.tiles);
  const table = await readTableColumns(source.catalogue.catalog, (available, location) => {
    const mag = resolveColumn(available, { what: 'magnitude', option: '--mag-col', names: ['mag', 'mag_vis', 'mag_total', 'mag_auto'] }, options.magColumn, false, location);
    const flux = mag === undefined ? resolveColumn(available, { what: 'flux (uJy)', option: '--flux-col', names: ['flux_detection_total', 'flux_vis_psf'] }, options.fluxColumn, false, location) : undefined;
    const blend = resolveColumn(available, { what: 'blend flag', option: '--blend-col', names: BLEND_NAMES }, options.blendColumn, false, location);
    const picked: Record<string, string | undefined> = { mag, flux, blend };
    options.exclude.forEach((cut, i) => (picked[`cut${i}`] = resolveColumn(available, { what: `--exclude ${cut.column}`, names: [] }, cut.column, true, location)));
    return picked;
  });
  const column = (role: string): Float64Array | undefined => (table.columns[role] === undefined ? undefined : numberColumn(table.columns[role]!, table.names[role]!, table.location));
  const mag = column('mag') ?? column('flux')?.map(uJyToMag);
  const blend = column('blend');
  const cuts = options.exclude.map((_, i) => column(`cut${i}`)!);
  const magnitudeFrom: Selection['magnitudeFrom'] = table.names.mag !== undefined ? { kind: 'magnitude', column: table.names.mag } : table.names.flux !== undefined ? { kind: 'flux', column: table.names.flux } : { kind: 'kron' };
  const selection: Selection = {
    magnitude: options.magnitude,
    magnitudeFrom,
    skip: options.skip,
    blend: table.names.blend === undefined ? null : { column: table.names.blend, bits: options.blendBits ?? null },
    exclude: options.exclude.map((cut) => ({ ...cut, column: table.names[`cut${options.exclude.indexOf(cut)}`]! })),
  };
  return {
    candidates,
    offTiles: unassigned.length,
    values: (row) => ({ magnitude: mag?.[row] ?? Number.NaN, blend: blend?.[row] ?? Number.NaN, cuts: cuts.map((c) => c[row]!) }),
    selection,
    objects,
  };
}

function planCutouts(source: Extract<StampSource, { kind: 'cutouts' }>, options: SelectionOptions): Plan {
  if (options.exclude.length > 0 || options.magColumn !== undefined || options.fluxColumn !== undefined || options.blendColumn !== undefined) {
    throw new UsageError('--exclude, --mag-col, --flux-col and --blend-col read the catalogue of tile mode (--tile ... --catalog); cutouts are selected by their pixels and Kron magnitude');
  }
  return {
    candidates: listInputFiles(source.inputs).map((file) => ({ file })),
    offTiles: 0,
    values: () => NO_CATALOGUE_VALUES(0),
    selection: { magnitude: options.magnitude, magnitudeFrom: { kind: 'kron' }, skip: options.skip, blend: null, exclude: [] },
  };
}

/** The sources of candidates [from, to), in order, each with its catalogue values. */
function* readCandidates(source: StampSource, plan: Plan, from: number, to: number, side: number): Generator<{ source: CutoutSource; values: CatalogueValues; origin: string }> {
  const slice = plan.candidates.slice(from, to);
  if (source.kind === 'cutouts') {
    for (const c of slice as { file: string }[]) yield { source: readCutout(c.file, { side }), values: plan.values(0), origin: c.file };
    return;
  }
  for (let i = 0; i < slice.length; ) {
    const tile = (slice[i] as { tile: number }).tile;
    const rows: number[] = [];
    for (; i < slice.length && (slice[i] as { tile: number }).tile === tile; i++) rows.push((slice[i] as { row: number }).row);
    const reader = TileReader.open({ ...source.tiles[tile]!, ...source.catalogue }, DEFAULT_HDU_NAMES);
    try {
      let k = 0;
      for (const cut of reader.cut(selectObjects(plan.objects!, rows), side)) yield { source: cut, values: plan.values(rows[k++]!), origin: source.tiles[tile]!.tile };
    } finally {
      reader.close();
    }
  }
}

function bytesOf(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

async function writeShard(options: StampsOptions, plan: Plan, settings: string, shard: number, side: number, size: number, hasRms: boolean, progress: () => void): Promise<ShardRecord> {
  const from = shard * size;
  const to = Math.min(plan.candidates.length, from + size);
  const images: Float32Array[] = [];
  const rms: Float32Array[] = [];
  const stamps: ShardRecord['stamps'][number][] = [];
  const rejected: ShardRecord['rejected'][number][] = [];
  for (const { source, values, origin } of readCandidates(options.source, plan, from, to, side)) {
    const prepared = prepareSource(
      { pixels: source.pixels.slice(), width: side, height: side, ...(source.rms === undefined ? {} : { rms: source.rms }), rmsToSigma: MER_RMS_TO_SIGMA, psf: source.psf ?? defaultVisPsf() },
      CROP,
      MASK,
    );
    const reason = rejection(plan.selection, source, prepared, values);
    const id = String(source.objectId);
    if (reason !== undefined) {
      rejected.push({ object_id: id, source: origin, reason });
    } else {
      images.push(source.pixels);
      if (hasRms) rms.push(source.rms ?? new Float32Array(side * side).fill(Number.NaN));
      stamps.push({ object_id: id, source: origin, x: source.xCenter, y: source.yCenter, ra: source.ra, dec: source.dec, mag: magnitudeOf(plan.selection, values, prepared, source.magzero), sigma: prepared.sigma, magzero: source.magzero });
    }
    progress();
  }
  const files: Omit<StampFile, 'first'>[] = [];
  // An empty array cannot be memory-mapped; a shard that kept nothing has only its record.
  if (stamps.length > 0) {
    const arrays: [StampFile['kind'], Float32Array[]][] = [['image', images], ...(hasRms ? [['rms', rms] as [StampFile['kind'], Float32Array[]]] : []), ['sigma', [Float32Array.from(stamps, (s) => s.sigma)]]];
    for (const [kind, parts] of arrays) {
      const name = `${shardName(shard)}.${kind}.f32`;
      const file = await AtomicFile.create(path.join(options.out, name));
      const hash = createHash('sha256');
      try {
        for (const part of parts) {
          await file.write(bytesOf(part));
          hash.update(bytesOf(part));
        }
        await file.commit();
      } catch (error) {
        await file.abort();
        throw error;
      }
      files.push({ path: name, kind, dtype: 'float32', shape: kind === 'sigma' ? [stamps.length] : [stamps.length, side, side], sha256: hash.digest('hex') });
    }
  }
  const record: ShardRecord = { schema: RECORD_SCHEMA, settings, shard, candidates: [from, to], files, stamps, rejected };
  await writeAtomically(path.join(options.out, `${shardName(shard)}.json`), (file) => file.write(Buffer.from(`${JSON.stringify(record)}\n`)));
  return record;
}

function readRecord(out: string, shard: number, settings: string): ShardRecord | undefined {
  const file = path.join(out, `${shardName(shard)}.json`);
  if (!existsSync(file)) return undefined;
  const record = JSON.parse(readFileSync(file, 'utf8')) as ShardRecord;
  if (record.schema !== RECORD_SCHEMA || record.settings !== settings) {
    throw new UsageError(`${out} holds stamps written with other inputs or selection (${path.basename(file)}); give another --out or remove it`);
  }
  // Arrays lost after their record was written are written again.
  return record.files.every((f) => existsSync(path.join(out, f.path))) ? record : undefined;
}

/** Writes (or completes) the stamps folder and returns its manifest. */
export async function writeStamps(options: StampsOptions): Promise<StampsManifest> {
  const side = options.stamp ?? DEFAULT_STAMP;
  const size = options.shardCandidates ?? 10000;
  if (!Number.isInteger(side) || side < CROP + 8) throw new UsageError(`--stamp must be an integer >= ${CROP + 8} (the ${CROP}-pixel crop around a 9x9 core search), got ${side}`);
  if (!Number.isInteger(size) || size < 1) throw new UsageError(`--shard-size must be a positive integer, got ${size}`);
  const [lo, hi] = options.selection.magnitude;
  if (!(lo < hi)) throw new UsageError(`--mag takes min,max with min < max, got ${lo},${hi}`);
  const plan = options.source.kind === 'tiles' ? await planTiles(options.source, options.selection) : planCutouts(options.source, options.selection);
  if (plan.candidates.length === 0) throw new InvalidInputError('no candidate sources (no catalogue object lies on the tiles)');
  const inputFiles = options.source.kind === 'tiles' ? [options.source.catalogue.catalog, ...options.source.tiles.flatMap((t) => [t.tile, ...(t.rms === undefined ? [] : [t.rms]), ...(t.psf === undefined ? [] : [t.psf])])] : plan.candidates.map((c) => (c as { file: string }).file);
  const hasRms = options.source.kind === 'tiles' ? options.source.tiles.every((t) => t.rms !== undefined) : true;
  const settings = sha256(JSON.stringify({ source: options.source, selection: plan.selection, side, size, candidates: plan.candidates.length }));

  await ensureOutputDir(options.out);
  const shardCount = Math.ceil(plan.candidates.length / size);
  await removeStaleTemporaries(options.out, (target) => /^shard-\d{5}\.|^manifest\.json$/.test(target));
  let done = 0;
  const tick = (): void => options.onProgress?.(++done, plan.candidates.length);
  const records: ShardRecord[] = [];
  for (let k = 0; k < shardCount; k++) {
    const existing = readRecord(options.out, k, settings);
    if (existing !== undefined) {
      done += existing.candidates[1] - existing.candidates[0];
      options.onProgress?.(done, plan.candidates.length);
      records.push(existing);
    } else {
      records.push(await writeShard(options, plan, settings, k, side, size, hasRms, tick));
    }
  }

  const files: StampFile[] = [];
  const rejected = Object.fromEntries(REJECTIONS.map((r) => [r, 0])) as Record<Rejection, number>;
  let kept = 0;
  for (const record of records) {
    for (const f of record.files) files.push({ ...f, first: kept });
    kept += record.stamps.length;
    for (const r of record.rejected) rejected[r.reason]++;
  }
  const ids = new Set(records.flatMap((r) => r.stamps.map((s) => `${s.source}\u0000${s.object_id}`)));
  if (ids.size !== kept) throw new OutputError(`${kept - ids.size} source(s) appear twice in the shards; the folder is inconsistent, write it again`, { file: options.out });
  const magzeros = new Set(records.flatMap((r) => r.stamps.map((s) => s.magzero)));
  const manifest: StampsManifest = {
    schema: STAMPS_SCHEMA,
    generator: { name: 'vis-agn', version: generatorVersion() },
    labels: 'none',
    truth: null,
    count: kept,
    stamp: { width: side, height: side },
    byteOrder: 'little',
    units: { magzero: magzeros.size === 1 ? [...magzeros][0]! : null, microjanskyPerUnit: MICROJANSKY_PER_UNIT, pixelScaleArcsec: PIXEL_SCALE_ARCSEC },
    sigma: `median of the RMS map over the core-centred ${CROP}x${CROP} crop times ${MER_RMS_TO_SIGMA} (MER resampling); without an RMS map a clipped MAD of the crop`,
    source: { ...options.source, files: inputFiles.map((f) => ({ path: f, bytes: statSync(f).size })) },
    selection: { ...plan.selection, rejectionOrder: [...REJECTIONS] },
    settingsDigest: settings,
    shardCandidates: size,
    counts: { candidates: plan.candidates.length, offTiles: plan.offTiles, kept, rejected },
    files,
    shards: records.map((r) => ({ index: r.shard, candidates: r.candidates, record: `${shardName(r.shard)}.json`, objectIds: r.stamps.map((s) => s.object_id) })),
  };
  await writeAtomically(path.join(options.out, 'manifest.json'), (file) => file.write(Buffer.from(`${JSON.stringify(manifest, null, 1)}\n`)));
  return manifest;
}
