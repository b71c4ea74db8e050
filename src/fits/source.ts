/**
 * Byte sources for FITS readers: a file read on demand at offsets (so a 1.5 GB mosaic is never held in
 * memory) or an in-memory buffer (whole-file gzip, tests).
 */

import { constants as bufferConstants } from 'node:buffer';
import fs from 'node:fs';
import zlib from 'node:zlib';

import { InputNotFoundError, InvalidInputError, LimitExceededError } from '../errors.js';
import type { ByteSource } from './types.js';

function checkRange(source: ByteSource, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new RangeError(`invalid byte range ${offset}+${length}`);
  }
  if (offset + length > source.size) {
    throw new InvalidInputError(`file is truncated: needs bytes up to ${offset + length}, has ${source.size}`, { file: source.path });
  }
}

export class FileByteSource implements ByteSource {
  readonly size: number;
  private fd: number | undefined;

  constructor(readonly path: string) {
    try {
      this.fd = fs.openSync(path, 'r');
      this.size = fs.fstatSync(this.fd).size;
    } catch (error) {
      if (this.fd !== undefined) fs.closeSync(this.fd);
      throw new InputNotFoundError(`cannot open: ${(error as Error).message}`, { file: path }, { cause: error });
    }
  }

  read(offset: number, length: number): Uint8Array {
    const bytes = Buffer.allocUnsafe(length);
    this.readInto(offset, bytes);
    return bytes;
  }

  readInto(offset: number, target: Uint8Array): void {
    const length = target.length;
    checkRange(this, offset, length);
    if (this.fd === undefined) throw new Error(`${this.path} is closed`);
    for (let done = 0; done < length; ) {
      const n = fs.readSync(this.fd, target, done, length - done, offset + done);
      if (n === 0) throw new InvalidInputError(`file shrank while reading at byte ${offset + done}`, { file: this.path });
      done += n;
    }
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

export class MemoryByteSource implements ByteSource {
  readonly size: number;

  constructor(
    private readonly bytes: Uint8Array,
    readonly path = '<memory>',
  ) {
    this.size = bytes.length;
  }

  /** A view, not a copy: callers must not modify it. */
  read(offset: number, length: number): Uint8Array {
    checkRange(this, offset, length);
    return this.bytes.subarray(offset, offset + length);
  }

  readInto(offset: number, target: Uint8Array): void {
    checkRange(this, offset, target.length);
    target.set(this.bytes.subarray(offset, offset + target.length));
  }

  close(): void {}
}

export interface OpenByteSourceOptions {
  /** Largest gunzipped size accepted for `.gz` input, which has to be held in memory; default 4 GiB. */
  readonly maxGunzipBytes?: number;
}

const DEFAULT_MAX_GUNZIP_BYTES = 4 * 1024 ** 3;

/** Files up to this size are read whole when opened: one read instead of a dozen small ones for a cutout. */
const WHOLE_FILE_BYTES = 512 * 1024;

const isGzip = (head: Uint8Array): boolean => head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;

/**
 * Opens a file for random access. A gzip file (magic 1f 8b, whatever its name) cannot be read at
 * offsets, so it is gunzipped into memory once; tile-compressed FITS (`.fz`) stays on disk. A small
 * file (a cutout) is read whole at once; a large one (a mosaic) is read at offsets as needed.
 */
export function openByteSource(path: string, options: OpenByteSourceOptions = {}): ByteSource {
  const file = new FileByteSource(path);
  if (file.size > WHOLE_FILE_BYTES && !isGzip(file.read(0, 2))) return file;
  let bytes: Uint8Array;
  try {
    bytes = file.read(0, file.size);
  } finally {
    file.close();
  }
  if (!isGzip(bytes)) return new MemoryByteSource(bytes, path);
  const maxOutputLength = Math.min(options.maxGunzipBytes ?? DEFAULT_MAX_GUNZIP_BYTES, bufferConstants.MAX_LENGTH);
  try {
    return new MemoryByteSource(zlib.gunzipSync(bytes, { maxOutputLength }), path);
  } catch (error) {
    if (error instanceof RangeError || (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new LimitExceededError(`gunzipped size exceeds the limit of ${maxOutputLength} bytes`, { file: path }, { cause: error });
    }
    throw new InvalidInputError(`corrupt gzip stream: ${(error as Error).message}`, { file: path }, { cause: error });
  }
}
