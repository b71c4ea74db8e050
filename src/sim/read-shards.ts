/**
 * Training shards (docs/sim-shards.md) read back whole, for the held-out checks that run on them
 * (model quality, significance calibration, the detection benchmark): the arrays and the truth rows.
 */

import { readFileSync } from 'node:fs';
import path from 'node:path';

import { tableFromIPC } from 'apache-arrow';

import { InvalidInputError } from '../errors.js';
import type { ShardManifest } from './shards.js';

export interface ShardTruth {
  readonly objectId: bigint;
  readonly cls: string;
  readonly fps: number;
  readonly mag: number;
  readonly psf: string;
}

export interface Shards {
  readonly dir: string;
  readonly manifest: ShardManifest;
  readonly side: number;
  readonly images: Float32Array;
  readonly rms: Float32Array;
  readonly sigma: Float32Array;
  readonly truth: readonly ShardTruth[];
}

function readFloat32(file: string): Float32Array {
  const bytes = readFileSync(file);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** The stamps without their truth: image, sigma and (where written) rms, as observed stamps (`vis-agn stamps`) have them. */
export interface ShardArrays {
  readonly dir: string;
  readonly side: number;
  readonly count: number;
  readonly images: Float32Array;
  readonly rms: Float32Array | undefined;
  readonly sigma: Float32Array;
}

interface ArrayManifest {
  readonly count: number;
  readonly stamp: { readonly width: number };
  readonly files: readonly { readonly path: string; readonly kind: string }[];
}

function readArrays(dir: string, manifest: ArrayManifest): ShardArrays {
  const join = (kind: string): Float32Array | undefined => {
    const parts = manifest.files.filter((f) => f.kind === kind).map((f) => readFloat32(path.join(dir, f.path)));
    if (parts.length === 0) return undefined;
    const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  };
  const images = join('image');
  const sigma = join('sigma');
  if (images === undefined || sigma === undefined) throw new InvalidInputError('shards hold no image or sigma arrays', { file: path.join(dir, 'manifest.json') });
  return { dir, side: manifest.stamp.width, count: manifest.count, images, rms: join('rms'), sigma };
}

export function readShardArrays(dir: string): ShardArrays {
  return readArrays(dir, JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as ArrayManifest);
}

export function readShards(dir: string): Shards {
  const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as ShardManifest;
  const { images, rms, sigma } = readArrays(dir, manifest);
  if (rms === undefined) throw new InvalidInputError('simulated shards hold no rms arrays', { file: path.join(dir, 'manifest.json') });
  const table = tableFromIPC(readFileSync(path.join(dir, manifest.truth.path)));
  const column = (name: string) => {
    const c = table.getChild(name);
    if (c === null) throw new InvalidInputError(`truth table has no column ${name}`, { file: path.join(dir, manifest.truth.path) });
    return c;
  };
  const ids = column('object_id');
  const classes = column('class');
  const fps = column('f_ps');
  const mags = column('mag_total');
  const psfs = column('psf');
  const truth = Array.from({ length: table.numRows }, (_, i) => ({
    objectId: BigInt(ids.get(i) as bigint | number),
    cls: String(classes.get(i)),
    fps: Number(fps.get(i)),
    mag: Number(mags.get(i)),
    psf: String(psfs.get(i)),
  }));
  return { dir, manifest, side: manifest.stamp.width, images, rms, sigma, truth };
}
