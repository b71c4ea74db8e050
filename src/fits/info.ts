/**
 * What `vis-agn fitsinfo` says about a file: every HDU's kind, shape, type, compression, pixel
 * statistics or table columns, and checksum status, as data (the JSON form is the contract in
 * docs/fitsinfo-json.md) and as an aligned text table.
 */

import { VisAgnError } from '../errors.js';
import { openAsciiTable } from './ascii-table.js';
import { verifyChecksums, type ChecksumReport } from './checksum.js';
import { openFits, type FitsFile, type FitsHdu } from './file.js';
import { imageLayout, PixelStats } from './image.js';
import { openBinaryTable } from './table.js';
import type { FitsHeader } from './header.js';
import type { PixelDtype } from './types.js';

export const FITSINFO_SCHEMA = 'vis-agn/fitsinfo/1';

export interface PixelSummary {
  readonly count: number;
  readonly nanCount: number;
  /** Over the non-NaN pixels; null when there are none (or the sum is not finite). */
  readonly sum: number | null;
  readonly min: number | null;
  readonly max: number | null;
}

export interface TableSummary {
  readonly rows: number;
  readonly columns: readonly { readonly name: string; readonly format: string; readonly unit: string | null }[];
}

export interface HduSummary {
  readonly index: number;
  readonly name: string;
  readonly kind: FitsHdu['kind'];
  /** NAXIS1..n in FITS order; for a compressed image its ZNAXISn. */
  readonly shape: readonly number[];
  /** BITPIX; for a compressed image ZBITPIX. */
  readonly bitpix: number;
  /** Pixel type after BSCALE/BZERO; null for tables and HDUs without an image. */
  readonly dtype: PixelDtype | null;
  /** ZCMPTYPE of a compressed image, else null. */
  readonly compression: string | null;
  readonly pixels: PixelSummary | null;
  readonly table: TableSummary | null;
  /** Null when the HDU has neither CHECKSUM nor DATASUM. */
  readonly checksum: ChecksumReport | null;
  /** Why the statistics or columns of this HDU could not be read; the other fields still hold. */
  readonly error: { readonly type: string; readonly message: string; readonly exitCode: number } | null;
}

export interface FitsInfo {
  readonly schema: typeof FITSINFO_SCHEMA;
  readonly file: string;
  readonly sizeBytes: number;
  readonly hdus: readonly HduSummary[];
}

function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

function pixelSummary(file: FitsFile, hdu: FitsHdu): PixelSummary {
  const stats = new PixelStats();
  for (const chunk of file.imageChunks(hdu)) stats.add(chunk);
  const valid = stats.validCount > 0;
  return {
    count: stats.count,
    nanCount: stats.nanCount,
    sum: valid ? finiteOrNull(stats.sum) : null,
    min: valid ? stats.min : null,
    max: valid ? stats.max : null,
  };
}

function tableSummary(file: FitsFile, hdu: FitsHdu): TableSummary {
  const table = hdu.kind === 'ascii-table' ? openAsciiTable(file.source, hdu) : openBinaryTable(file.source, hdu);
  return {
    rows: table.nrows,
    columns: table.columns.map((c) => ({ name: c.name, format: c.format, unit: c.unit ?? null })),
  };
}

function axesOf(header: FitsHeader): number[] {
  return Array.from({ length: header.getInt('NAXIS') }, (_, i) => header.getInt(`NAXIS${i + 1}`));
}

function summarize(file: FitsFile, hdu: FitsHdu): HduSummary {
  const common = {
    index: hdu.index,
    name: hdu.name,
    kind: hdu.kind,
    compression: hdu.kind === 'compressed-image' ? hdu.header.getString('ZCMPTYPE', '') : null,
    checksum: hdu.header.has('CHECKSUM') || hdu.header.has('DATASUM') ? verifyChecksums(file.source, hdu) : null,
  };
  const isImage = hdu.kind === 'image' || hdu.kind === 'compressed-image';
  try {
    const header = isImage ? file.imageHeader(hdu) : hdu.header;
    const shape = axesOf(header);
    const hasPixels = isImage && shape.length > 0;
    return {
      ...common,
      shape,
      bitpix: header.getInt('BITPIX'),
      dtype: hasPixels ? imageLayout(header).dtype : null,
      pixels: hasPixels ? pixelSummary(file, hdu) : null,
      table: hdu.kind === 'bintable' || hdu.kind === 'ascii-table' ? tableSummary(file, hdu) : null,
      error: null,
    };
  } catch (error) {
    if (!(error instanceof VisAgnError)) throw error;
    // The stored header was checked when the file was scanned, so these cannot fail.
    return {
      ...common,
      shape: axesOf(hdu.header),
      bitpix: hdu.header.getInt('BITPIX'),
      dtype: null,
      pixels: null,
      table: null,
      error: { type: error.name, message: error.message, exitCode: error.exitCode },
    };
  }
}

/** Summarizes every HDU; statistics stream over the data in chunks, so any image size works. */
export function fitsInfo(path: string): FitsInfo {
  const file = openFits(path);
  try {
    return { schema: FITSINFO_SCHEMA, file: path, sizeBytes: file.source.size, hdus: file.hdus.map((hdu) => summarize(file, hdu)) };
  } finally {
    file.close();
  }
}

/** Seven significant digits; exponent form for magnitudes a fixed column cannot show (RMS maps hold 1e16 flags). */
function formatNumber(value: number | null): string {
  if (value === null) return '-';
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude >= 1e7 || magnitude < 1e-3)) return value.toExponential(6);
  return String(Number(value.toPrecision(7)));
}

function describeData(hdu: HduSummary): string {
  if (hdu.error) return `error: ${hdu.error.message}`;
  if (hdu.pixels) {
    const p = hdu.pixels;
    return `n=${p.count} nan=${p.nanCount} sum=${formatNumber(p.sum)} min=${formatNumber(p.min)} max=${formatNumber(p.max)}`;
  }
  if (hdu.table) return `${hdu.table.rows} rows, ${hdu.table.columns.length} columns`;
  return '';
}

function describeChecksum(report: ChecksumReport | null): string {
  return report ? `datasum ${report.datasum}, checksum ${report.checksum}` : '-';
}

/** An aligned table, one line per HDU, then the columns of each table HDU. */
export function formatFitsInfo(info: FitsInfo): string {
  const head = ['#', 'name', 'kind', 'shape', 'bitpix', 'dtype', 'compression', 'checksum', 'data'];
  const rows = info.hdus.map((h) => [
    String(h.index),
    h.name || '-',
    h.kind,
    h.shape.length > 0 ? h.shape.join('x') : '-',
    String(h.bitpix),
    h.dtype ?? '-',
    h.compression ?? '-',
    describeChecksum(h.checksum),
    describeData(h),
  ]);
  const widths = head.map((title, i) => Math.max(title.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const out = [`${info.file} (${info.sizeBytes} bytes, ${info.hdus.length} HDUs)`, line(head), ...rows.map(line)];
  for (const h of info.hdus) {
    if (!h.table || h.table.columns.length === 0) continue;
    out.push('', `HDU ${h.index} ${h.name} columns:`);
    for (const c of h.table.columns) out.push(`  ${c.name || '-'}  ${c.format}${c.unit ? `  [${c.unit}]` : ''}`);
  }
  return `${out.join('\n')}\n`;
}
