/**
 * `npm run bench:fits`: our FITS reader against cfitsio on a MER-sized float32 tile.
 *
 *   (a) 100x100 section reads at random positions: openFits + readImage(section) against
 *       `imcopy 'tile.fits[x1:x2,y1:y2]'`. cfitsio can only be timed one process per section, so its
 *       figure includes process start, and the report gives the bare cost of starting imcopy alongside;
 *   (b) decompressing a RICE tile (`fpack -r -q 4`) with readImage against `funpack`.
 *
 * Options: --size N (image side, default 19200), --rice-size N (side of the RICE tile, default
 * min(size, 4800)), --sections N, --imcopy-calls N, --rice-repeats N, --quick (2000 px, few repeats,
 * for CI), --dir D (work there and keep the files; default a temporary directory, removed),
 * --out F (JSON, default bench/results/fits.json; the markdown table goes beside it as .md), --seed N.
 */

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openFits } from '../fits/file.js';
import type { PixelArray, Section } from '../fits/types.js';
import { FitsWriter } from '../fits/writer.js';

const SECTION = 100;

interface Options {
  size: number;
  riceSize: number;
  sections: number;
  imcopyCalls: number;
  riceRepeats: number;
  dir: string | undefined;
  out: string;
  seed: number;
  quick: boolean;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      size: { type: 'string' },
      'rice-size': { type: 'string' },
      sections: { type: 'string' },
      'imcopy-calls': { type: 'string' },
      'rice-repeats': { type: 'string' },
      quick: { type: 'boolean', default: false },
      dir: { type: 'string' },
      out: { type: 'string', default: path.join('bench', 'results', 'fits.json') },
      seed: { type: 'string', default: '1' },
    },
  });
  const count = (text: string | undefined, fallback: number, min: number): number => {
    const n = text === undefined ? fallback : Number(text);
    if (!Number.isSafeInteger(n) || n < min) throw new Error(`expected an integer >= ${min}, got '${text}'`);
    return n;
  };
  const quick = values.quick!;
  const size = count(values.size, quick ? 2000 : 19200, SECTION);
  return {
    size,
    riceSize: count(values['rice-size'], Math.min(size, quick ? 2000 : 4800), 16),
    sections: count(values.sections, quick ? 50 : 500, 1),
    imcopyCalls: count(values['imcopy-calls'], quick ? 10 : 50, 1),
    riceRepeats: count(values['rice-repeats'], 3, 1),
    dir: values.dir,
    out: values.out!,
    seed: count(values.seed, 1, 0),
    quick,
  };
}

/** xorshift32: fast, seedable and good enough for noise and positions. */
function xorshift(seed: number): () => number {
  let state = seed * 2654435761 + 1 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
}

interface Source {
  x: number;
  y: number;
  /** Exponential scale length in pixels. */
  scale: number;
  peak: number;
  radius: number;
}

/**
 * Rows of a background-subtracted VIS-like mosaic: unit Gaussian noise, exponential-profile galaxies
 * of log-uniform brightness (about one per 100x100 px) and zero-filled margins where a MER tile has
 * no coverage, so RICE sees the mix of noise, structure and zeros of real tiles.
 */
function* skyRows(size: number, seed: number, rowsPerChunk: number): Generator<Float32Array> {
  const next = xorshift(seed);
  const gaussian = Float32Array.from({ length: 1 << 16 }, () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next()));
  const sources: Source[] = Array.from({ length: Math.ceil((size * size) / 10000) }, () => {
    const scale = 1 + 5 * next();
    return { x: next() * size, y: next() * size, scale, peak: 10 ** (3 * next()), radius: Math.ceil(6 * scale) };
  }).sort((a, b) => a.y - b.y);
  const reach = sources.reduce((max, s) => Math.max(max, s.radius), 0);
  const margin = Math.floor(size / 200);
  let firstSource = 0;
  for (let y0 = 0; y0 < size; y0 += rowsPerChunk) {
    const rows = Math.min(rowsPerChunk, size - y0);
    const chunk = new Float32Array(rows * size);
    for (let i = 0; i < chunk.length; i++) chunk[i] = gaussian[(next() * 65536) | 0]!;
    while (firstSource < sources.length && sources[firstSource]!.y + reach < y0) firstSource++;
    for (let s = firstSource; s < sources.length && sources[s]!.y - reach < y0 + rows; s++) {
      const { x, y, scale, peak, radius } = sources[s]!;
      for (let py = Math.max(y0, Math.floor(y - radius)); py < Math.min(y0 + rows, Math.ceil(y + radius)); py++) {
        for (let px = Math.max(0, Math.floor(x - radius)); px < Math.min(size, Math.ceil(x + radius)); px++) {
          chunk[(py - y0) * size + px]! += peak * Math.exp(-Math.hypot(px - x, py - y) / scale);
        }
      }
    }
    for (let r = 0; r < rows; r++) {
      chunk.fill(0, r * size, r * size + margin);
      chunk.fill(0, (r + 1) * size - margin, (r + 1) * size);
    }
    yield chunk;
  }
}

/** Writes a synthetic tile; returns the milliseconds spent in the writer, pixel synthesis excluded. */
async function writeTile(file: string, size: number, seed: number): Promise<number> {
  let start = performance.now();
  const writer = await FitsWriter.create(file);
  await writer.beginImage({
    axes: [size, size],
    dtype: 'float32',
    cards: [
      { key: 'BUNIT', value: 'adu' },
      { key: 'COMMENT', comment: 'synthetic VIS-like tile written by src/bench/fits.ts' },
    ],
  });
  let writerMs = performance.now() - start;
  for (const chunk of skyRows(size, seed, Math.max(1, Math.floor((4 << 20) / (4 * size))))) {
    start = performance.now();
    await writer.writePixels(chunk);
    writerMs += performance.now() - start;
  }
  start = performance.now();
  await writer.close();
  return writerMs + performance.now() - start;
}

interface Timing {
  calls: number;
  medianMs: number;
  meanMs: number;
  minMs: number;
}

function summarise(times: number[]): Timing {
  const sorted = [...times].sort((a, b) => a - b);
  return {
    calls: times.length,
    medianMs: sorted[Math.floor(sorted.length / 2)]!,
    meanMs: times.reduce((a, b) => a + b, 0) / times.length,
    minMs: sorted[0]!,
  };
}

function timeEach(count: number, run: (i: number) => unknown): Timing {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    run(i);
    times.push(performance.now() - start);
  }
  return summarise(times);
}

function tool(command: string, args: string[]): void {
  const result = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (result.error !== undefined) throw result.error;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr.trim()}`);
}

function hasTool(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** Reads one whole image HDU, or a section of it, with the public reader. */
function readPixels(file: string, hduIndex: number, section?: Section): PixelArray {
  const fits = openFits(file);
  try {
    return fits.readImage(hduIndex, section).data;
  } finally {
    fits.close();
  }
}

function sameBits(a: PixelArray, b: PixelArray): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function sectionAt(next: () => number, size: number): Section {
  const x0 = Math.floor(next() * (size - SECTION + 1));
  const y0 = Math.floor(next() * (size - SECTION + 1));
  return { x0, x1: x0 + SECTION, y0, y1: y0 + SECTION };
}

/** cfitsio's image-section syntax: 1-based, inclusive. */
function cfitsioSection(file: string, s: Section): string {
  return `${file}[${s.x0 + 1}:${s.x1},${s.y0 + 1}:${s.y1}]`;
}

async function benchSections(opts: Options, dir: string, tile: string) {
  const next = xorshift(opts.seed + 1);
  const sections = Array.from({ length: opts.sections }, () => sectionAt(next, opts.size));

  const fits = openFits(tile);
  const oursOpenOnce = timeEach(sections.length, (i) => fits.readImage(0, sections[i]));
  fits.close();
  const oursOpenEach = timeEach(sections.length, (i) => readPixels(tile, 0, sections[i]));

  const out = path.join(dir, 'section.fits');
  const tiny = path.join(dir, 'tiny.fits');
  const tinyWriter = await FitsWriter.create(tiny);
  await tinyWriter.writeHdu({ type: 'image', axes: [1, 1], dtype: 'float32', data: new Float32Array(1) });
  await tinyWriter.close();
  // Same call shape on a 1-pixel file: what every imcopy call pays before touching the tile.
  const imcopyStart = timeEach(opts.imcopyCalls, () => tool('imcopy', [`${tiny}[1:1,1:1]`, `!${out}`]));
  const cfitsio = timeEach(opts.imcopyCalls, (i) => tool('imcopy', [cfitsioSection(tile, sections[i]!), `!${out}`]));

  // The last imcopy output is cfitsio's reading of that section: ours must match it bit for bit.
  const last = sections[opts.imcopyCalls - 1]!;
  const identical = sameBits(readPixels(tile, 0, last), readPixels(out, 0));
  return { oursOpenOnce, oursOpenEach, cfitsio, imcopyStart, identical };
}

async function benchRice(opts: Options, dir: string) {
  const plain = path.join(dir, 'rice-source.fits');
  const packed = path.join(dir, 'rice.fits.fz');
  const unpacked = path.join(dir, 'rice-unpacked.fits');
  await writeTile(plain, opts.riceSize, opts.seed + 2);
  const fpackStart = performance.now();
  tool('fpack', ['-r', '-q', '4', '-O', packed, plain]);
  const fpackMs = performance.now() - fpackStart;
  const ratio = statSync(plain).size / statSync(packed).size;

  const funpack = timeEach(opts.riceRepeats, () => tool('funpack', ['-C', '-S', packed]));
  tool('funpack', ['-O', unpacked, packed]);
  const reference = readPixels(unpacked, 0);
  try {
    const ours = timeEach(opts.riceRepeats, () => readPixels(packed, 1));
    const identical = sameBits(readPixels(packed, 1), reference);
    return { status: 'ok' as const, compressionRatio: ratio, fpackMs, ours, funpack, identical };
  } catch (error) {
    return { status: 'unavailable' as const, reason: (error as Error).message, compressionRatio: ratio, fpackMs, funpack };
  }
}

function fixed(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(3);
}

type SectionResult = Awaited<ReturnType<typeof benchSections>>;
type RiceResult = Awaited<ReturnType<typeof benchRice>>;

/** A markdown row comparing median times; `theirs` undefined leaves the ratio empty. */
function row(label: string, ours: number | undefined, theirs: number | undefined): string {
  const cells = [
    label,
    ours === undefined ? 'n/a' : fixed(ours),
    theirs === undefined ? '' : theirs > 0 ? fixed(theirs) : '~0',
    ours === undefined || theirs === undefined ? 'n/a' : theirs > 0 ? (ours / theirs).toFixed(3) : 'n/a (below timing noise)',
  ];
  return `| ${cells.join(' | ')} |`;
}

function report(
  opts: Options,
  write: { bytes: number; ms: number; mbPerS: number },
  sections: SectionResult,
  rice: RiceResult,
  platform: string,
): string {
  const box = `${SECTION}x${SECTION} section`;
  const imcopy = sections.cfitsio.medianMs;
  const start = sections.imcopyStart.medianMs;
  const riceLabel = `RICE ${opts.riceSize}x${opts.riceSize} float32 q=4, full decompress`;
  const rows = [
    '| measurement | ours (ms) | cfitsio (ms) | ours/cfitsio |',
    '| --- | ---: | ---: | ---: |',
    row(`${box}, file open once (median of ${sections.oursOpenOnce.calls})`, sections.oursOpenOnce.medianMs, imcopy),
    row(`${box}, open + read + close per section`, sections.oursOpenEach.medianMs, imcopy),
    `| imcopy on a 1-pixel file (process start, open, write) | | ${fixed(start)} | |`,
    // Minimum times: the least noisy way to take one process's start-up off another's.
    row(
      `${box}, cfitsio estimated without process start (fastest imcopy minus fastest 1-pixel imcopy)`,
      sections.oursOpenEach.minMs,
      sections.cfitsio.minMs - sections.imcopyStart.minMs,
    ),
    rice.status === 'ok'
      ? row(`${riceLabel} (median of ${rice.ours.calls})`, rice.ours.medianMs, rice.funpack.medianMs)
      : row(`${riceLabel}: ours unavailable (${rice.reason.replaceAll('|', '/')})`, undefined, rice.funpack.medianMs),
  ];
  const identical =
    `Section pixels identical to imcopy's: ${sections.identical}.` +
    (rice.status === 'ok' ? ` RICE pixels identical to funpack's: ${rice.identical}.` : '') +
    ` RICE compression ratio ${rice.compressionRatio.toFixed(2)}.`;
  const notes = [
    `Tile ${opts.size}x${opts.size} float32 (${(write.bytes / 1e9).toFixed(2)} GB), streamed by FitsWriter in ${fixed(write.ms)} ms ` +
      `(${write.mbPerS.toFixed(0)} MB/s, pixel synthesis excluded, fsync included).`,
    'cfitsio can only be driven one imcopy/funpack process per call, so its figures include process start (see the 1-pixel row); ' +
      'ours run in this process. funpack writes the image to stdout (discarded), without checksums (-C).',
    identical,
    `${platform}.`,
  ];
  return `${rows.join('\n')}\n\n${notes.map((n) => `- ${n}`).join('\n')}\n`;
}

async function main(): Promise<void> {
  const opts = options();
  for (const command of ['imcopy', 'fpack', 'funpack']) {
    if (!hasTool(command)) throw new Error(`${command} (cfitsio) is not on PATH; it is the reference this benchmark compares with`);
  }
  const dir = opts.dir ?? mkdtempSync(path.join(os.tmpdir(), 'vis-agn-bench-fits-'));
  mkdirSync(dir, { recursive: true });
  try {
    const tile = path.join(dir, 'tile.fits');
    console.error(`writing ${opts.size}x${opts.size} float32 tile to ${tile} ...`);
    const writeMs = await writeTile(tile, opts.size, opts.seed);
    const bytes = statSync(tile).size;
    console.error('section reads ...');
    const sections = await benchSections(opts, dir, tile);
    console.error('RICE decompression ...');
    const rice = await benchRice(opts, dir);

    const cfitsioVersion = spawnSync('fpack', ['-V'], { encoding: 'utf8' }).stdout.trim();
    const result = {
      date: new Date().toISOString(),
      node: process.version,
      cpu: `${os.cpus()[0]?.model ?? 'unknown'} x${os.cpus().length}`,
      cfitsio: cfitsioVersion,
      options: { ...opts, dir: opts.dir ?? '(temporary)' },
      write: { size: opts.size, bytes, ms: writeMs, mbPerS: bytes / 1e6 / (writeMs / 1000) },
      sections,
      rice,
    };

    const markdown = report(opts, result.write, sections, rice, `${result.cpu}, Node ${process.version}, ${cfitsioVersion || 'cfitsio'}`);
    mkdirSync(path.dirname(opts.out), { recursive: true });
    writeFileSync(opts.out, `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(opts.out.replace(/\.json$/, '') + '.md', markdown);
    console.log(markdown);
  } finally {
    if (opts.dir === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
