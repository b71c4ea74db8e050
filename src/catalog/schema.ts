/**
 * The catalogue's one definition: every column (name, type, unit, UCD, description, nullability) and
 * every run-metadata key. The Arrow schema, the Parquet/FITS/CSV/ds9 exports, the reader and
 * docs/catalogue.md all derive from the two tables below, so adding a column is one entry in COLUMNS
 * (the row type follows) and a new kind of value fails to compile until every format handles it.
 */

import { Bool, Dictionary, Field, Float64, Int32, Int64, Int8, Schema, Uint32, Utf8, type DataType } from 'apache-arrow';

import { CANDIDATE_CLASSES } from '../detect/detect.js';
import { InvalidInputError, OutputError, type ErrorLocation } from '../errors.js';

/** Identifies the layout below; readers refuse catalogues of another layout. Bump on any incompatible change. */
export const CATALOG_SCHEMA = 'vis-agn/catalog/2';

/** How a column's values are typed; each format maps every kind (a missing one is a compile error). */
export interface KindValues {
  readonly int64: bigint;
  readonly int32: number;
  readonly uint32: number;
  readonly float64: number;
  readonly bool: boolean;
  readonly utf8: string;
  /** One of a closed list of strings (the column's `values`), stored as an Arrow dictionary. */
  readonly category: string;
}

export type ColumnKind = keyof KindValues;

export interface ColumnSpec {
  readonly name: string;
  readonly kind: ColumnKind;
  readonly nullable: boolean;
  /** astropy/VOUnit string; absent for dimensionless quantities and for the image's own pixel units. */
  readonly unit?: string;
  /** IVOA UCD1+. */
  readonly ucd: string;
  readonly description: string;
  /** The allowed values of a `category` column, in dictionary order. */
  readonly values?: readonly string[];
}

/**
 * The image's own pixel units. MER mosaics carry no BUNIT; their values are ADU whose flux follows
 * from MAGZERO (24.6 for VIS: 1 ADU = 0.5248 uJy), and `adu` lets astropy and TOPCAT parse the unit.
 */
const IMAGE_UNIT = 'adu';
const IMAGE_UNITS = "in the image's pixel units (ADU; MER VIS: MAGZERO 24.6, 1 ADU = 0.5248 uJy)";

export const COLUMNS = [
  { name: 'object_id', kind: 'int64', nullable: false, ucd: 'meta.id;meta.main', description: 'Object identifier: the Euclid MER object_id (signed 64-bit) or the id given in the input list' },
  { name: 'source_file', kind: 'utf8', nullable: false, ucd: 'meta.ref;meta.file', description: 'FITS file the cutout was read from, as named in the run inputs' },
  { name: 'hdu', kind: 'utf8', nullable: false, ucd: 'meta.id.part;meta.fits', description: 'HDU of source_file holding the image: its EXTNAME, or its 0-based index as text when unnamed' },
  { name: 'ra', kind: 'float64', nullable: true, unit: 'deg', ucd: 'pos.eq.ra;meta.main', description: 'Right ascension (ICRS) of the cutout centre; null without a WCS or input position' },
  { name: 'dec', kind: 'float64', nullable: true, unit: 'deg', ucd: 'pos.eq.dec;meta.main', description: 'Declination (ICRS) of the cutout centre; null without a WCS or input position' },
  { name: 'x_center', kind: 'float64', nullable: true, unit: 'pixel', ucd: 'pos.cartesian.x;instr.det', description: 'Cutout centre along NAXIS1, 0-based pixel coordinates of the HDU (FITS pixel = value + 1)' },
  { name: 'y_center', kind: 'float64', nullable: true, unit: 'pixel', ucd: 'pos.cartesian.y;instr.det', description: 'Cutout centre along NAXIS2, 0-based pixel coordinates of the HDU (FITS pixel = value + 1)' },
  { name: 'mag_vis', kind: 'float64', nullable: true, unit: 'mag', ucd: 'phot.mag;em.opt', description: "AB magnitude of the source from its image flux and the HDU's MAGZERO; null when the flux is not positive" },
  { name: 'flags', kind: 'uint32', nullable: false, ucd: 'meta.code.qual', description: 'Quality flags, a bit field (0 = clean); the bits are listed in docs/catalogue.md' },
  { name: 'is_candidate', kind: 'bool', nullable: false, ucd: 'meta.code;src.class', description: "True when the source passes this run's AGN/QSO candidate selection" },
  { name: 'candidate_class', kind: 'category', values: CANDIDATE_CLASSES, nullable: false, ucd: 'src.class', description: `Class from the scoring: ${CANDIDATE_CLASSES.join(', ')}` },
  { name: 'recon_error', kind: 'float64', nullable: true, ucd: 'stat.fit.residual', description: 'Paper-style (Stevens et al. 2025) normalised reconstruction error of the masked core pixels' },
  { name: 'chi2_core', kind: 'float64', nullable: true, ucd: 'stat.fit.chi2', description: 'Chi-square of the observed masked core against the distribution of regenerated cores' },
  { name: 'chi2_dof', kind: 'float64', nullable: true, ucd: 'stat.fit.dof', description: 'Degrees of freedom of chi2_core (effective, so possibly non-integer, for correlated noise)' },
  { name: 'agn_z', kind: 'float64', nullable: true, ucd: 'stat.snr', description: 'Significance of the core excess over the regenerated cores, as a one-sided Gaussian z-score' },
  { name: 'agn_pvalue', kind: 'float64', nullable: true, ucd: 'stat.probability', description: 'One-sided p-value of the core excess: chance of an excess this large from a galaxy without a point source' },
  { name: 'ps_flux', kind: 'float64', nullable: true, unit: IMAGE_UNIT, ucd: 'phot.flux.density;em.opt', description: `Flux of the PSF fitted to the core residual (observed minus regenerated), ${IMAGE_UNITS}` },
  { name: 'ps_flux_err', kind: 'float64', nullable: true, unit: IMAGE_UNIT, ucd: 'stat.error;phot.flux.density;em.opt', description: `Uncertainty of ps_flux, ${IMAGE_UNITS}: the spread of the regenerations' PSF amplitudes, widened where the residual off the PSF says the generator judged the source too narrowly, times the model card's factor at the source's magnitude (fitted by vis-agn calibrate-fps so that simulated sources' pulls have unit width; without one, the spread alone). Statistical only: for point-dominated faint sources ps_flux is biased low (the regeneration takes part of the point source for host), which f_ps's regression corrects and ps_flux does not` },
  { name: 'ps_flux_ujy', kind: 'float64', nullable: true, unit: 'uJy', ucd: 'phot.flux.density;em.opt', description: "ps_flux in microjansky, through the HDU's MAGZERO" },
  { name: 'ps_flux_ujy_err', kind: 'float64', nullable: true, unit: 'uJy', ucd: 'stat.error;phot.flux.density;em.opt', description: 'Uncertainty of ps_flux_ujy' },
  { name: 'f_ps', kind: 'float64', nullable: true, ucd: 'phot.flux;arith.ratio;em.opt', description: "Point-source fraction f_PS, 0-1: the model card's regression on f_ps_generative and spread_model at the source's magnitude, fitted on simulated sources of known f_PS (f_ps_generative itself where the card has none); null when the total flux is not positive or below ps_flux_err" },
  { name: 'f_ps_err', kind: 'float64', nullable: true, ucd: 'stat.error;phot.flux;arith.ratio;em.opt', description: "Uncertainty of f_ps (the regression's RMS residual for such a source)" },
  { name: 'f_ps_generative', kind: 'float64', nullable: true, ucd: 'phot.flux;arith.ratio;em.opt', description: 'ps_flux over the total flux (ps_flux plus the Kron flux of the host with the point source removed): the generative measurement f_ps is estimated from, biased low where the regeneration takes part of the point source for host; null as f_ps' },
  { name: 'spread_model', kind: 'float64', nullable: true, ucd: 'src.morph.param', description: "SPREAD_MODEL (as Source Extractor defines it) over the pixels within the model card's morphology_radius of the core (2 px for the default model; 5 px where the card records none), with the PSF at the sub-pixel peak: about 0 for a point source, positive for extended light; a morphology statistic beside the generative agn_z" },
  { name: 'morph_z', kind: 'float64', nullable: true, ucd: 'stat.snr', description: 'Significance of -spread_model against normal galaxies of the same magnitude, as a one-sided Gaussian z-score: how point-like the core is; null where the model card has no morphology calibration' },
  { name: 'combined_z', kind: 'float64', nullable: true, ucd: 'stat.snr;meta.main', description: 'Significance of the larger of agn_z and morph_z (of morph_z alone from the model card\'s generative_faint_limit, I_E 24 for the default model) against normal galaxies of the same magnitude, as a one-sided Gaussian z-score: what candidates are selected on; null where the model card has no combined calibration (candidates then selected on agn_z)' },
  { name: 'noise_sigma', kind: 'float64', nullable: true, unit: IMAGE_UNIT, ucd: 'stat.stdev;instr.det.noise', description: `Per-pixel noise standard deviation used for the source (from the image itself when flag no_rms_map is set), ${IMAGE_UNITS}` },
  { name: 'n_samples', kind: 'int32', nullable: true, ucd: 'meta.number', description: 'Number of regenerated cores drawn for the source; null when inference did not run' },
  { name: 'core_x', kind: 'float64', nullable: true, unit: 'pixel', ucd: 'pos.cartesian.x;instr.det', description: 'Centre of the masked core (brightest pixel of the central 9x9 box) along NAXIS1, 0-based HDU pixel coordinates' },
  { name: 'core_y', kind: 'float64', nullable: true, unit: 'pixel', ucd: 'pos.cartesian.y;instr.det', description: 'Centre of the masked core (brightest pixel of the central 9x9 box) along NAXIS2, 0-based HDU pixel coordinates' },
] as const satisfies readonly ColumnSpec[];

export type Column = (typeof COLUMNS)[number];
export type ColumnName = Column['name'];

/**
 * Column names on export: vis-agn's own, or the Euclid MER catalogue's where the meaning is the same
 * (the MER final catalogue spells the position right_ascension, declination), so an export joins MER
 * tables without renaming.
 */
export const COLUMN_NAMINGS = ['vis-agn', 'mer'] as const;
export type ColumnNaming = (typeof COLUMN_NAMINGS)[number];

export const MER_COLUMN_NAMES: Readonly<Partial<Record<ColumnName, string>>> = { ra: 'right_ascension', dec: 'declination' };

export function exportedName(name: string, naming: ColumnNaming): string {
  return naming === 'mer' ? (MER_COLUMN_NAMES[name as ColumnName] ?? name) : name;
}

type ValueOf<C extends Column> = C extends { readonly values: readonly (infer V)[] } ? V : KindValues[C['kind']];

/** One catalogue row; nullable columns hold `null` where a value is missing (never NaN). */
export type CatalogRow = {
  readonly [C in Column as C['name']]: C['nullable'] extends true ? ValueOf<C> | null : ValueOf<C>;
};

export type CatalogValue = CatalogRow[ColumnName];

/**
 * The score a row's candidate selection was made on (detect.ts selectionZ), named: combined_z where the
 * run's model card calibrated it, else agn_z. Reports, inspection and completeness rank by it.
 */
export function selectionScore(row: Pick<CatalogRow, 'agn_z' | 'combined_z'>): { readonly name: 'combined_z' | 'agn_z'; readonly z: number | null } {
  return row.combined_z !== null ? { name: 'combined_z', z: row.combined_z } : { name: 'agn_z', z: row.agn_z };
}

/** The allowed range of each integer kind, checked before a value reaches a typed array. */
const INTEGER_RANGES: Partial<Record<ColumnKind, readonly [bigint, bigint]>> = {
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
};

/** The JavaScript type of each kind's values (`typeof`). */
const JS_TYPES: Record<ColumnKind, string> = {
  int64: 'bigint',
  int32: 'number',
  uint32: 'number',
  float64: 'number',
  bool: 'boolean',
  utf8: 'string',
  category: 'string',
};

function valueProblem(column: ColumnSpec, value: unknown): string | undefined {
  if (value === null) return column.nullable ? undefined : 'is null, but the column is not nullable';
  const expected = JS_TYPES[column.kind];
  if (typeof value !== expected) return `is a ${typeof value}, not a ${expected}`;
  if (column.kind === 'float64' && !Number.isFinite(value)) return `is ${String(value)}; a missing value is null`;
  const range = INTEGER_RANGES[column.kind];
  if (range !== undefined) {
    if (typeof value === 'number' && !Number.isInteger(value)) return `is ${value}, not an integer`;
    const n = BigInt(value as number | bigint);
    if (n < range[0] || n > range[1]) return `is ${n}, outside the ${column.kind} range`;
  }
  if (column.values !== undefined && !column.values.includes(value as string)) {
    return `is ${JSON.stringify(value)}, not one of ${column.values.join(', ')}`;
  }
  return undefined;
}

/** Why `row` is not a valid catalogue row (naming the column), or undefined when it is. */
export function rowProblem(row: Readonly<Record<string, unknown>>): string | undefined {
  for (const column of COLUMNS) {
    if (!(column.name in row)) return `column ${column.name} is missing`;
    const problem = valueProblem(column, row[column.name]);
    if (problem !== undefined) return `column ${column.name} ${problem}`;
  }
  return undefined;
}

/** Arrow types of the kinds; a category's dictionary id is its column index, so every batch shares it. */
const ARROW_TYPES: { readonly [K in ColumnKind]: (index: number) => DataType } = {
  int64: () => new Int64(),
  int32: () => new Int32(),
  uint32: () => new Uint32(),
  float64: () => new Float64(),
  bool: () => new Bool(),
  utf8: () => new Utf8(),
  category: (index) => new Dictionary(new Utf8(), new Int8(), index, false),
};

/** Field metadata keys, the names Arrow-reading tools (pyarrow, polars) show. */
function columnMetadata(column: ColumnSpec): Map<string, string> {
  const entries: [string, string][] = [];
  if (column.unit !== undefined) entries.push(['unit', column.unit]);
  entries.push(['ucd', column.ucd], ['description', column.description]);
  return new Map(entries);
}

export const CATALOG_FIELDS: readonly Field[] = COLUMNS.map(
  (column, index) => new Field(column.name, ARROW_TYPES[column.kind](index), column.nullable, columnMetadata(column)),
);

/** What produced a catalogue. Every field is stored under its key in RUN_METADATA. */
export interface RunMetadata {
  readonly modelName: string;
  /** sha256 of the model card file, the model's identity (LoadedCard.cardSha256). */
  readonly modelCardSha256: string;
  /** The execution provider the sessions really ran on ('cpu', 'cuda'), not the one asked for. */
  readonly executionProvider: string;
  /** The run configuration, as JSON. */
  readonly config: Readonly<Record<string, unknown>>;
  readonly seed: number;
  readonly visAgnVersion: string;
  readonly nodeVersion: string;
  readonly onnxruntimeVersion: string;
  /** The input files (or manifests) of the run. */
  readonly inputs: readonly string[];
  /** ISO 8601 UTC with milliseconds, as `Date.prototype.toISOString` gives. */
  readonly createdAt: string;
}

/** How one metadata value is held as text (Arrow and Parquet metadata are strings); undefined when invalid. */
export interface MetadataCodec<T> {
  /** The FITS card value: a string, an integer, or a FITS date string (ISO 8601 without the 'Z'). */
  readonly fits: 'string' | 'integer' | 'date';
  encode(value: T): string | undefined;
  decode(text: string): T | undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** JSON text, or undefined for what JSON cannot hold (bigint, cycles). */
function toJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isStringList = (value: unknown): value is string[] => Array.isArray(value) && value.every((item) => typeof item === 'string');
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const checked =
  <T>(accept: (value: T) => boolean, encode: (value: T) => string | undefined) =>
  (value: T) =>
    accept(value) ? encode(value) : undefined;

const TEXT: MetadataCodec<string> = {
  fits: 'string',
  encode: checked((value: string) => typeof value === 'string' && value !== '', String),
  decode: (text) => text,
};
const SHA256: MetadataCodec<string> = {
  fits: 'string',
  encode: checked((value: string) => /^[0-9a-f]{64}$/.test(value), String),
  decode: (text) => (/^[0-9a-f]{64}$/.test(text) ? text : undefined),
};
const INTEGER: MetadataCodec<number> = {
  fits: 'integer',
  encode: checked((value: number) => Number.isSafeInteger(value), String),
  decode: (text) => (/^-?\d+$/.test(text) && Number.isSafeInteger(Number(text)) ? Number(text) : undefined),
};
const JSON_OBJECT: MetadataCodec<Readonly<Record<string, unknown>>> = {
  fits: 'string',
  encode: checked((value) => isObject(value), toJson),
  decode: (text) => {
    const value = parseJson(text);
    return isObject(value) ? value : undefined;
  },
};
const STRING_LIST: MetadataCodec<readonly string[]> = {
  fits: 'string',
  encode: checked((value) => isStringList(value), toJson),
  decode: (text) => {
    const value = parseJson(text);
    return isStringList(value) ? value : undefined;
  },
};
const TIMESTAMP: MetadataCodec<string> = {
  fits: 'date',
  encode: checked((value: string) => ISO_UTC.test(value) && !Number.isNaN(Date.parse(value)), String),
  decode: (text) => (ISO_UTC.test(text) && !Number.isNaN(Date.parse(text)) ? text : undefined),
};

export interface MetadataKey<T> {
  /** Key in Arrow schema metadata and Parquet key-value metadata. */
  readonly key: string;
  /** FITS header keyword of the table HDU. */
  readonly fits: string;
  readonly description: string;
  readonly codec: MetadataCodec<T>;
}

export const RUN_METADATA: { readonly [F in keyof RunMetadata]-?: MetadataKey<RunMetadata[F]> } = {
  modelName: { key: 'vis_agn.model_name', fits: 'MODEL', description: 'name of the generative model (model card)', codec: TEXT },
  modelCardSha256: { key: 'vis_agn.model_card_sha256', fits: 'MODELSHA', description: 'sha256 of the model card file', codec: SHA256 },
  executionProvider: { key: 'vis_agn.execution_provider', fits: 'EXECPROV', description: 'onnxruntime execution provider actually used', codec: TEXT },
  config: { key: 'vis_agn.config', fits: 'CONFIG', description: 'run configuration (JSON object)', codec: JSON_OBJECT },
  seed: { key: 'vis_agn.seed', fits: 'SEED', description: 'random seed of the run', codec: INTEGER },
  visAgnVersion: { key: 'vis_agn.version', fits: 'VAGNVER', description: 'vis-agn version', codec: TEXT },
  nodeVersion: { key: 'vis_agn.node_version', fits: 'NODEVER', description: 'Node.js version', codec: TEXT },
  onnxruntimeVersion: { key: 'vis_agn.onnxruntime_version', fits: 'ORTVER', description: 'onnxruntime-node version', codec: TEXT },
  inputs: { key: 'vis_agn.inputs', fits: 'INPUTS', description: 'input files of the run (JSON array)', codec: STRING_LIST },
  createdAt: { key: 'vis_agn.created', fits: 'DATE', description: 'catalogue creation time (UTC)', codec: TIMESTAMP },
};

/** Stored beside RUN_METADATA under this key (FITS keyword CATSCHEM). */
export const SCHEMA_KEY = { key: 'vis_agn.catalog_schema', fits: 'CATSCHEM', description: `catalogue layout identifier (${CATALOG_SCHEMA})` } as const;

type MetadataEntry = readonly [keyof RunMetadata, MetadataKey<unknown>];

export function metadataEntries(): readonly MetadataEntry[] {
  return Object.entries(RUN_METADATA) as unknown as MetadataEntry[];
}

/** The metadata as text under its keys, schema key first. Invalid metadata cannot be written: OutputError at `target`. */
export function encodeRunMetadata(metadata: RunMetadata, target: string): Map<string, string> {
  const encoded = new Map<string, string>([[SCHEMA_KEY.key, CATALOG_SCHEMA]]);
  for (const [field, { key, codec }] of metadataEntries()) {
    const text = codec.encode(metadata[field]);
    if (text === undefined) throw new OutputError(`run metadata ${field} = ${JSON.stringify(metadata[field])} is not valid`, { file: target });
    encoded.set(key, text);
  }
  return encoded;
}

/** Reads the metadata back; InvalidInputError when a key is missing or malformed, or the layout is another. */
export function decodeRunMetadata(stored: ReadonlyMap<string, string>, location: ErrorLocation): RunMetadata {
  const layout = stored.get(SCHEMA_KEY.key);
  if (layout !== CATALOG_SCHEMA) {
    throw new InvalidInputError(`not a vis-agn catalogue of layout ${CATALOG_SCHEMA} (${SCHEMA_KEY.key} is ${JSON.stringify(layout ?? null)})`, location);
  }
  const decoded: Record<string, unknown> = {};
  for (const [field, { key, codec }] of metadataEntries()) {
    const text = stored.get(key);
    const value = text === undefined ? undefined : codec.decode(text);
    if (value === undefined) {
      throw new InvalidInputError(`metadata key ${key} is ${text === undefined ? 'missing' : `malformed: ${JSON.stringify(text)}`}`, location);
    }
    decoded[field] = value;
  }
  return decoded as unknown as RunMetadata;
}

/** The Arrow schema of a catalogue with its run metadata; `target` names the file in errors. */
export function catalogArrowSchema(metadata: RunMetadata, target: string): Schema {
  return new Schema([...CATALOG_FIELDS], encodeRunMetadata(metadata, target));
}
