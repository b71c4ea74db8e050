/**
 * A file that appears at its target only when complete: written to a temporary file in the target's
 * directory (so the rename cannot cross file systems), synced, then renamed over the target. Any
 * failure removes the temporary file and becomes an OutputError naming the target, so a killed or
 * failed export never leaves a truncated catalogue that looks finished.
 */

import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

import { OutputError, VisAgnError } from './errors.js';

export function asOutputError(error: unknown, target: string): OutputError {
  if (error instanceof OutputError && error.location.file === target) return error;
  const reason = error instanceof VisAgnError ? error.reason : `cannot write: ${(error as Error)?.message ?? String(error)}`;
  return new OutputError(reason, { file: target }, { cause: error });
}

export class AtomicFile {
  private position = 0;
  private done = false;

  private constructor(
    readonly target: string,
    private readonly tempPath: string,
    private readonly handle: FileHandle,
  ) {}

  static async create(target: string): Promise<AtomicFile> {
    const tempPath = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      return new AtomicFile(target, tempPath, await open(tempPath, 'wx'));
    } catch (error) {
      throw asOutputError(error, target);
    }
  }

  /** Appends `bytes`; on failure the file is abandoned. */
  async write(bytes: Uint8Array): Promise<void> {
    await this.guard(async () => {
      for (let done = 0; done < bytes.length; ) {
        const { bytesWritten } = await this.handle.write(bytes, done, bytes.length - done, this.position);
        done += bytesWritten;
        this.position += bytesWritten;
      }
    });
  }

  /** Writes `bytes` at `position` without moving the append point: for headers patched after their data. */
  async writeAt(bytes: Uint8Array, position: number): Promise<void> {
    await this.guard(async () => {
      for (let done = 0; done < bytes.length; ) {
        const { bytesWritten } = await this.handle.write(bytes, done, bytes.length - done, position + done);
        done += bytesWritten;
      }
    });
  }

  /** Syncs and moves the file into place, replacing any file of that name. */
  async commit(): Promise<void> {
    await this.guard(async () => {
      await this.handle.datasync();
      await this.handle.close();
      this.done = true;
      await rename(this.tempPath, this.target);
    });
  }

  /** Removes the temporary file; safe to call more than once. */
  async abort(): Promise<void> {
    if (!this.done) await this.handle.close().catch(() => undefined);
    this.done = true;
    await unlink(this.tempPath).catch(() => undefined);
  }

  private async guard(step: () => Promise<void>): Promise<void> {
    if (this.done) throw new OutputError('the file is already complete or abandoned', { file: this.target });
    try {
      await step();
    } catch (error) {
      await this.abort();
      throw asOutputError(error, this.target);
    }
  }
}

/** Runs `fill` on a new AtomicFile at `target` and commits it; a throw from `fill` abandons the file and passes on. */
export async function writeAtomically<T>(target: string, fill: (file: AtomicFile) => Promise<T>): Promise<T> {
  const file = await AtomicFile.create(target);
  try {
    const result = await fill(file);
    await file.commit();
    return result;
  } catch (error) {
    await file.abort();
    throw error;
  }
}

/**
 * Creates `dir` and its missing parents one level at a time. Node's `mkdir(..., { recursive: true })`
 * loops forever where a folder cannot be made under an existing one that refuses it with ENOENT (any
 * path under /proc), so a bad --out hung instead of failing.
 */
async function makeFolders(dir: string): Promise<void> {
  try {
    await mkdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      if (!(await stat(dir)).isDirectory()) throw new OutputError('exists and is not a folder', { file: dir });
      return;
    }
    const parent = path.dirname(dir);
    if (code !== 'ENOENT' || parent === dir) throw error;
    await makeFolders(parent);
    await mkdir(dir).catch((again: NodeJS.ErrnoException) => {
      if (again.code !== 'EEXIST') throw again;
    });
  }
}

/** Creates an output folder (and its parents); a failure is an OutputError naming it, before any work. */
export async function ensureOutputDir(dir: string): Promise<void> {
  try {
    await makeFolders(path.resolve(dir));
  } catch (error) {
    throw asOutputError(error, dir);
  }
}

/**
 * Removes the temporary files AtomicFile left in `dir` for targets whose names `owns` accepts: what a
 * kill -9 leaves behind. Only the caller's own targets, so a concurrent writer's files are kept.
 */
export async function removeStaleTemporaries(dir: string, owns: (target: string) => boolean): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const stale = names.filter((name) => {
    const match = /^\.(.+)\.\d+\.[0-9a-f]{8}\.tmp$/.exec(name);
    return match !== null && owns(match[1]!);
  });
  await Promise.all(stale.map((name) => unlink(path.join(dir, name)).catch(() => undefined)));
  return stale;
}
