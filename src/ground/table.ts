/**
 * Tables of sky positions, read from whatever the user has: a FITS binary or ASCII table, Parquet, CSV
 * with a header row, or Arrow IPC: MER tile catalogues, and the known objects completeness is measured
 * against (spectroscopic QSO catalogues, X-ray AGN, simulation truth). The format is recognised from
 * the file's first bytes, not its name. Only the columns asked for are read, as plain cells, then
 * converted and checked per column so an error names the file, the column and the row.
 */

import { open, readFile } from 'node:fs/promises';

import { RecordBatchReader } from 'apache-arrow';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet';

import { InputNotFoundError, InvalidInputError, UsageError, type ErrorLocation } from '../errors.js';
import { openAsciiTable } from '../fits/ascii-table.js';
import { openFits, type FitsFile, type FitsHdu } from '../fits/file.js';
import { openBinaryTable } from '../fits/table.js';

export type TableFormat = 'fits' | 'parquet' | 'csv' | 'arrow';

/** A value as the file holds it; null where a value is missing. */
export type Cell = number | bigint | string | boolean | null;

/** What one format's reader gives: the cells of the columns asked for, by name. */
interface RawColumns {
  readonly location: ErrorLocation;
  readonly columns: ReadonlyMap<string, readonly Cell[]>;
}

/** Chooses the columns to read from those the table has; throws (listing them) when one is missing. */
type ColumnPicker = (available: readonly string[], location: ErrorLocation) => readonly string[];

export interface TableOptions {
  /** FITS only: the table HDU, by 0-based index or EXTNAME; default the first table HDU. */
  readonly hdu?: number | string;
}

async function sniffFormat(path: string): Promise<TableFormat> {
  let head: Buffer;
  try {
    const handle = await open(path, 'r');
    try {
      head = Buffer.alloc(9);
      const { bytesRead } = await handle.read(head, 0, head.length, 0);
      head = head.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw new InputNotFoundError(`cannot open: ${(error as Error).message}`, { file: path }, { cause: error });
  }
  const text = head.toString('latin1');
  // openFits gunzips whole-file gzip itself, the way FITS tables are often distributed.
  if (text.startsWith('SIMPLE  =') || (head[0] === 0x1f && head[1] === 0x8b)) return 'fits';
  if (text.startsWith('PAR1')) return 'parquet';
  // The IPC file magic, or the continuation marker that starts an IPC stream.
  if (text.startsWith('ARROW1') || (head.length >= 4 && head.readUInt32LE(0) === 0xffffffff)) return 'arrow';
  return 'csv';
}

function tableHdu(file: FitsFile, hdu: number | string | undefined): FitsHdu {
  const isTable = (h: FitsHdu) => h.kind === 'bintable' || h.kind === 'ascii-table';
  if (hdu === undefined) {
    const first = file.hdus.find(isTable);
    if (first === undefined) throw new InvalidInputError(`no table HDU (the file has ${file.hdus.map((h) => h.kind).join(', ')})`, { file: file.path });
    return first;
  }
  const chosen = file.hdu(hdu);
  if (!isTable(chosen)) throw new InvalidInputError(`HDU is a ${chosen.kind}, not a table`, { file: file.path, hdu: chosen.index });
  return chosen;
}

function readFitsTable(path: string, pick: ColumnPicker, options: TableOptions): RawColumns {
  const file = openFits(path);
  try {
    const hdu = tableHdu(file, options.hdu);
    const location = { file: path, hdu: hdu.index };
    const table = hdu.kind === 'ascii-table' ? openAsciiTable(file.source, hdu) : openBinaryTable(file.source, hdu);
    const columns = new Map<string, Cell[]>();
    for (const name of pick(table.columns.map((c) => c.name), location)) {
      const data = table.readColumn(name);
      if (data.varying || data.stride !== 1) throw new InvalidInputError(`column ${name} holds arrays (TFORM ${table.column(name).format}), not one value per row`, location);
      const values = data.values as ArrayLike<Cell>;
      columns.set(name, Array.from({ length: data.rows }, (_, i) => (data.nullMask?.[i] ? null : values[i]!)));
    }
    return { location, columns };
  } finally {
    file.close();
  }
}

async function readParquetTable(path: string, pick: ColumnPicker): Promise<RawColumns> {
  const location = { file: path };
  let file: Awaited<ReturnType<typeof asyncBufferFromFile>>;
  let metadata: Awaited<ReturnType<typeof parquetMetadataAsync>>;
  try {
    file = await asyncBufferFromFile(path);
    metadata = await parquetMetadataAsync(file);
  } catch (error) {
    throw new InvalidInputError(`not a readable Parquet file: ${(error as Error).message}`, location, { cause: error });
  }
  // Nested columns (lists, structs) cannot hold a position or a magnitude, so only leaves at the top count.
  const available = parquetSchema(metadata)
    .children.filter((child) => child.children.length === 0)
    .map((child) => child.element.name);
  const names = pick(available, location);
  let objects: Record<string, unknown>[];
  try {
    objects = await parquetReadObjects({ file, metadata, columns: [...names] });
  } catch (error) {
    throw new InvalidInputError(`unreadable Parquet data: ${(error as Error).message}`, location, { cause: error });
  }
  const columns = new Map(names.map((name) => [name, objects.map((row) => (row[name] ?? null) as Cell)]));
  return { location, columns };
}

async function readArrowTable(path: string, pick: ColumnPicker): Promise<RawColumns> {
  const location = { file: path };
  const handle = await open(path, 'r');
  try {
    let reader: RecordBatchReader;
    try {
      reader = await (await RecordBatchReader.from(handle)).open();
    } catch (error) {
      throw new InvalidInputError(`not an Arrow IPC file: ${(error as Error).message}`, location, { cause: error });
    }
    const names = pick(reader.schema.fields.map((field) => field.name), location);
    const indices = names.map((name) => reader.schema.fields.findIndex((field) => field.name === name));
    const columns = new Map(names.map((name) => [name, [] as Cell[]]));
    try {
      for await (const batch of reader) {
        names.forEach((name, c) => {
          const vector = batch.getChildAt(indices[c]!)!;
          const cells = columns.get(name)!;
          for (let i = 0; i < batch.numRows; i++) cells.push((vector.get(i) ?? null) as Cell);
        });
      }
    } catch (error) {
      throw new InvalidInputError(`unreadable record batch: ${(error as Error).message}`, location, { cause: error });
    }
    return { location, columns };
  } finally {
    await handle.close();
  }
}

/**
 * RFC 4180 records: fields separated by commas, quoted fields may hold commas, doubled quotes and line
 * breaks; CRLF or LF line ends. Empty lines are skipped, and so are lines starting with '#' before the
 * header, which is how ECSV files and many survey dumps begin. Gives each record with its line number.
 */
export function parseCsv(text: string, location: ErrorLocation): { line: number; fields: string[] }[] {
  const records: { line: number; fields: string[] }[] = [];
  let fields: string[] = [];
  let field = '';
  /** 0: unquoted so far, 1: inside quotes, 2: after the closing quote. */
  let quote = 0;
  let line = 1;
  let recordLine = 1;
  let recordStart = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const endRecord = () => {
    fields.push(field);
    const empty = fields.length === 1 && field === '' && quote === 0;
    const comment = records.length === 0 && text[recordStart] === '#';
    if (!empty && !comment) records.push({ line: recordLine, fields });
    fields = [];
    field = '';
    quote = 0;
  };
  for (let i = recordStart; i < text.length; i++) {
    const char = text[i]!;
    if (quote === 1) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') {
        quote = 2;
      } else {
        if (char === '\n') line++;
        field += char;
      }
    } else if (char === ',') {
      fields.push(field);
      field = '';
      quote = 0;
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      recordLine = ++line;
      recordStart = i + 1;
    } else if (quote === 2) {
      if (char !== ' ' && char !== '\t') throw new InvalidInputError(`line ${line}: text after the closing quote of a field`, location);
    } else if (char === '"') {
      // Blanks before an opening quote are padding, as after the comma in: a, "b"
      if (field.trim() !== '') throw new InvalidInputError(`line ${line}: a quote inside an unquoted field`, location);
      field = '';
      quote = 1;
    } else {
      field += char;
    }
  }
  if (quote === 1) throw new InvalidInputError(`line ${recordLine}: a quoted field is not closed`, location);
  if (field !== '' || fields.length > 0 || quote === 2) endRecord();
  return records;
}

async function readCsvTable(path: string, pick: ColumnPicker): Promise<RawColumns> {
  const location = { file: path };
  const records = parseCsv(await readFile(path, 'utf8'), location);
  const header = records[0];
  if (header === undefined) throw new InvalidInputError('the CSV file is empty: it needs a header row', location);
  const names = header.fields.map((name) => name.trim());
  const chosen = pick(names, location);
  const data = records.slice(1);
  for (const { line, fields } of data) {
    if (fields.length !== names.length) throw new InvalidInputError(`line ${line} has ${fields.length} fields, the header ${names.length}`, location);
  }
  const columns = new Map(
    chosen.map((name) => {
      const c = names.indexOf(name);
      return [name, data.map(({ fields }): Cell => (fields[c]!.trim() === '' ? null : fields[c]!))];
    }),
  );
  return { location, columns };
}

function readRawColumns(path: string, format: TableFormat, pick: ColumnPicker, options: TableOptions): RawColumns | Promise<RawColumns> {
  switch (format) {
    case 'fits':
      return readFitsTable(path, pick, options);
    case 'parquet':
      return readParquetTable(path, pick);
    case 'arrow':
      return readArrowTable(path, pick);
    case 'csv':
      return readCsvTable(path, pick);
  }
}

/** Columns read for the roles `K` (position, magnitude, ...), each under the role and the name it has in the file. */
export interface TableColumns<K extends string> {
  readonly format: TableFormat;
  readonly location: ErrorLocation;
  readonly names: { readonly [R in K]?: string };
  readonly columns: { readonly [R in K]?: readonly Cell[] };
}

/**
 * Reads the table at `path`, whatever its format: `pick` sees the column names the table has and
 * gives the one to read for each role (undefined: the role has none), throwing when one it needs is
 * missing. Only those columns are read.
 */
export async function readTableColumns<K extends string>(
  path: string,
  pick: (available: readonly string[], location: ErrorLocation) => { readonly [R in K]?: string | undefined },
  options: TableOptions = {},
): Promise<TableColumns<K>> {
  const format = await sniffFormat(path);
  if (options.hdu !== undefined && format !== 'fits') throw new UsageError(`an HDU was given, but ${path} is a ${format} file, not FITS`);
  let chosen: [K, string][] = [];
  const raw = await readRawColumns(
    path,
    format,
    (available, location) => {
      chosen = (Object.entries(pick(available, location)) as [K, string | undefined][]).filter((entry): entry is [K, string] => entry[1] !== undefined);
      return [...new Set(chosen.map(([, name]) => name))];
    },
    options,
  );
  const names: { [R in K]?: string } = {};
  const columns: { [R in K]?: readonly Cell[] } = {};
  for (const [role, name] of chosen) {
    names[role] = name;
    columns[role] = raw.columns.get(name)!;
  }
  return { format, location: raw.location, names, columns };
}

/** What a column is for, and the names it commonly has (tried in order, case-blind) when not named. */
export interface ColumnRole {
  readonly what: string;
  /** The command-line option that names the column, for the error message. */
  readonly option?: string;
  readonly names: readonly string[];
}

const ROLES = {
  ra: { what: 'right ascension', option: '--ra-col', names: ['ra', 'right_ascension', 'raj2000', 'ra_icrs', 'alpha_j2000'] },
  dec: { what: 'declination', option: '--dec-col', names: ['dec', 'declination', 'dej2000', 'decj2000', 'de_icrs', 'delta_j2000'] },
  mag: { what: 'magnitude', option: '--mag-col', names: ['mag', 'mag_vis', 'mag_total', 'mag_auto'] },
  id: { what: 'identifier', option: '--id-col', names: ['object_id', 'objectid', 'id'] },
} as const satisfies Record<string, ColumnRole>;

/** The column called `name`: an exact match first, then one that differs only in case (FITS names are case-blind). */
function columnNamed(available: readonly string[], name: string): string | undefined {
  return available.find((column) => column === name) ?? available.find((column) => column.toLowerCase() === name.toLowerCase());
}

function columnList(available: readonly string[]): string {
  const shown = available.slice(0, 40).map((name) => (name === '' ? "''" : name));
  return `${shown.join(', ')}${available.length > shown.length ? `, ... (${available.length} in all)` : ''}`;
}

/**
 * The column for `role`: the one named `given`, else the first of the role's common names present;
 * undefined when absent and not `required`. A named column that is missing is always an error.
 */
export function resolveColumn(available: readonly string[], role: ColumnRole, given: string | undefined, required: boolean, location: ErrorLocation): string | undefined {
  if (given !== undefined) {
    const found = columnNamed(available, given);
    if (found === undefined) throw new InvalidInputError(`no ${role.what} column '${given}'; the columns are: ${columnList(available)}`, location);
    return found;
  }
  for (const name of role.names) {
    const found = columnNamed(available, name);
    if (found !== undefined) return found;
  }
  if (!required) return undefined;
  throw new InvalidInputError(
    `no ${role.what} column (looked for ${role.names.join(', ')}${role.option === undefined ? '' : `; name it with ${role.option}`}); the columns are: ${columnList(available)}`,
    location,
  );
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eEdD][+-]?\d+)?$/;
/** Spellings of a missing number in CSV files written by pandas, astropy and TOPCAT. */
const MISSING = /^(?:nan|null|none|--)$/i;

/** The column as numbers, NaN where a value is missing; anything else that is not a number is an error. */
export function numberColumn(cells: readonly Cell[], name: string, location: ErrorLocation): Float64Array {
  return Float64Array.from(cells, (cell, row) => {
    if (cell === null) return Number.NaN;
    if (typeof cell === 'number') return cell;
    if (typeof cell === 'bigint') return Number(cell);
    if (typeof cell === 'string') {
      const text = cell.trim();
      if (NUMBER.test(text)) return Number(text.replace(/[dD]/, 'e'));
      if (MISSING.test(text)) return Number.NaN;
    }
    throw new InvalidInputError(`column ${name} row ${row + 1}: ${JSON.stringify(String(cell))} is not a number`, location);
  });
}

/** The column as 64-bit integers, every row present (identifiers join tables, so none may be missing). */
export function bigintColumn(cells: readonly Cell[], name: string, location: ErrorLocation): bigint[] {
  return cells.map((cell, row) => {
    if (typeof cell === 'bigint') return cell;
    if (typeof cell === 'number' && Number.isSafeInteger(cell)) return BigInt(cell);
    if (typeof cell === 'string' && /^[+-]?\d+$/.test(cell.trim())) return BigInt(cell.trim());
    const what = cell === null ? 'is missing' : `${JSON.stringify(String(cell))} is not an integer an identifier can be`;
    throw new InvalidInputError(`column ${name} row ${row + 1}: ${what}`, location);
  });
}

export interface PositionTableOptions extends TableOptions {
  readonly raColumn?: string;
  readonly decColumn?: string;
  /** Optional: without one (named or found) the report has no magnitude bins. */
  readonly magColumn?: string;
  /** Optional: identifiers are only carried into the per-source report. */
  readonly idColumn?: string;
}

/** Positions in degrees (ICRS assumed), with magnitudes and identifiers where the table has them. */
export interface PositionTable {
  readonly path: string;
  readonly format: TableFormat;
  readonly location: ErrorLocation;
  /** The columns used, as the file names them. */
  readonly columns: { readonly ra: string; readonly dec: string; readonly mag: string | null; readonly id: string | null };
  readonly ra: Float64Array;
  readonly dec: Float64Array;
  /** NaN where a magnitude is missing. */
  readonly mag: Float64Array | null;
  /** As text, since identifiers may be names as well as numbers; null where missing. */
  readonly id: readonly (string | null)[] | null;
}

/** Reads a table of positions; InvalidInputError names the file and lists the columns when one is missing. */
export async function readPositionTable(path: string, options: PositionTableOptions = {}): Promise<PositionTable> {
  const table = await readTableColumns(
    path,
    (available, location) => ({
      ra: resolveColumn(available, ROLES.ra, options.raColumn, true, location),
      dec: resolveColumn(available, ROLES.dec, options.decColumn, true, location),
      mag: resolveColumn(available, ROLES.mag, options.magColumn, false, location),
      id: resolveColumn(available, ROLES.id, options.idColumn, false, location),
    }),
    options,
  );
  const { location, names, columns } = table;
  const ra = numberColumn(columns.ra!, names.ra!, location);
  const dec = numberColumn(columns.dec!, names.dec!, location);
  for (let row = 0; row < ra.length; row++) {
    if (!Number.isFinite(ra[row]!) || !(Math.abs(dec[row]!) <= 90)) {
      throw new InvalidInputError(`row ${row + 1}: (${names.ra}, ${names.dec}) = (${ra[row]}, ${dec[row]}) is not a sky position in degrees`, location);
    }
  }
  return {
    path,
    format: table.format,
    location,
    columns: { ra: names.ra!, dec: names.dec!, mag: names.mag ?? null, id: names.id ?? null },
    ra,
    dec,
    mag: columns.mag === undefined ? null : numberColumn(columns.mag, names.mag!, location),
    id: columns.id?.map((cell) => (cell === null ? null : String(cell).trim())) ?? null,
  };
}
