/**
 * Truth tables as Arrow IPC files: one row per target (cutout, stamp or catalogued tile object) in
 * output order, and one per neighbour or field source. Units and descriptions are field metadata;
 * missing numbers (no host for a star, no point source for a galaxy) are NaN, missing strings null.
 */

import { Field, Float64, Int32, Int64, makeData, RecordBatch, Schema, Struct, Table, Utf8, tableToIPC, vectorFromArray, type Data, type DataType } from 'apache-arrow';

import { writeAtomically } from '../atomic-file.js';
import { MICROJANSKY_PER_UNIT, fluxToMag } from '../ground/vis.js';
import { type Source } from './population.js';
import type { PlacedSource } from './scene.js';

type Kind = 'float64' | 'int64' | 'int32' | 'utf8';
type Value = number | string | null;

interface ColumnDef {
  readonly name: string;
  readonly kind: Kind;
  readonly unit?: string;
  readonly description: string;
}

export type TruthRow = Readonly<Record<string, Value>>;

const SOURCE_COLUMNS: readonly ColumnDef[] = [
  { name: 'class', kind: 'utf8', description: "'galaxy' (f_PS = 0), 'agn' (0 < f_PS < 0.5), 'qso' (f_PS >= 0.5 with a host) or 'star' (f_PS = 1)" },
  { name: 'f_ps', kind: 'float64', description: 'point-source flux fraction F_point / (F_point + F_host)' },
  { name: 'mag_total', kind: 'float64', unit: 'mag', description: 'total I_E magnitude (AB), host plus point source' },
  { name: 'mag_host', kind: 'float64', unit: 'mag', description: 'host I_E magnitude (NaN for stars)' },
  { name: 'mag_point', kind: 'float64', unit: 'mag', description: 'point-source I_E magnitude (NaN for galaxies)' },
  { name: 'flux_total', kind: 'float64', unit: 'uJy', description: 'total flux' },
  { name: 'flux_point', kind: 'float64', unit: 'uJy', description: 'point-source flux' },
  { name: 'x', kind: 'float64', unit: 'pix', description: 'centre, 0-based column in the output image (pixel centres at integers)' },
  { name: 'y', kind: 'float64', unit: 'pix', description: 'centre, 0-based row in the output image' },
  { name: 'right_ascension', kind: 'float64', unit: 'deg', description: 'centre, ICRS' },
  { name: 'declination', kind: 'float64', unit: 'deg', description: 'centre, ICRS' },
  { name: 'host_kind', kind: 'utf8', description: "'disk', 'spiral', 'spheroid', 'compact' or 'irregular'; null for stars" },
  { name: 'host_re', kind: 'float64', unit: 'pix', description: 'half-light radius (major axis) of the dominant host component' },
  { name: 'host_n', kind: 'float64', description: 'Sersic index of the dominant host component' },
  { name: 'host_q', kind: 'float64', description: 'axis ratio of the dominant host component' },
  { name: 'host_pa', kind: 'float64', unit: 'deg', description: 'position angle of the major axis, from +x towards +y' },
  { name: 'bulge_to_total', kind: 'float64', description: 'bulge flux over host flux' },
  { name: 'nucleus_fraction', kind: 'float64', description: 'fraction of host flux in a nuclear star cluster (compact, resolved)' },
  { name: 'knot_fraction', kind: 'float64', description: 'fraction of host flux in star-forming knots' },
  { name: 'spiral_arms', kind: 'int32', description: 'number of spiral arms (0 for none)' },
  { name: 'n_components', kind: 'int32', description: 'Sersic components of the host' },
];

export const TARGET_COLUMNS: readonly ColumnDef[] = [
  { name: 'index', kind: 'int32', description: 'position of the stamp or cutout in the output (row of the image arrays)' },
  { name: 'object_id', kind: 'int64', description: 'object id; every random draw of the object is seeded from (seed, object_id)' },
  ...SOURCE_COLUMNS,
  { name: 'psf', kind: 'utf8', description: "PSF used: 'q1:<cutout file>' or 'moffat:<fwhm arcsec>:<beta>'" },
  { name: 'rms_level', kind: 'float64', unit: 'image', description: 'sky level of the RMS map (MAGZERO 24.6 units)' },
  { name: 'noise_sigma', kind: 'float64', unit: 'image', description: 'per-pixel sky noise sigma of the image (correlated noise)' },
  { name: 'background', kind: 'float64', unit: 'image', description: 'background pedestal added to the image' },
  { name: 'n_neighbours', kind: 'int32', description: 'neighbours and field sources centred inside the output' },
];

export const NEIGHBOUR_COLUMNS: readonly ColumnDef[] = [
  { name: 'parent_index', kind: 'int32', description: "index of the stamp or cutout the source appears in (-1 in a tile)" },
  { name: 'parent_id', kind: 'int64', description: 'object_id of that stamp or cutout (0 in a tile)' },
  { name: 'role', kind: 'utf8', description: "'neighbour' (catalogue-bright, I_E 19-25) or 'field' (fainter, uncatalogued)" },
  ...SOURCE_COLUMNS,
];

/** The truth values of a source at output pixel (x, y) and sky position. */
export function sourceValues(source: Source, x: number, y: number, sky: { ra: number; dec: number }): Record<string, Value> {
  const host = source.host;
  return {
    class: source.cls,
    f_ps: source.fps,
    mag_total: source.mag,
    mag_host: source.fluxHost > 0 ? fluxToMag(source.fluxHost) : Number.NaN,
    mag_point: source.fluxPoint > 0 ? fluxToMag(source.fluxPoint) : Number.NaN,
    flux_total: (source.fluxHost + source.fluxPoint) * MICROJANSKY_PER_UNIT,
    flux_point: source.fluxPoint * MICROJANSKY_PER_UNIT,
    x,
    y,
    right_ascension: sky.ra,
    declination: sky.dec,
    host_kind: host?.kind ?? null,
    host_re: host?.re ?? Number.NaN,
    host_n: host?.n ?? Number.NaN,
    host_q: host?.q ?? Number.NaN,
    host_pa: host === undefined ? Number.NaN : (((host.pa * 180) / Math.PI) % 180 + 180) % 180,
    bulge_to_total: host?.bulgeToTotal ?? Number.NaN,
    nucleus_fraction: host?.nucleusFraction ?? Number.NaN,
    knot_fraction: host?.knotFraction ?? Number.NaN,
    spiral_arms: host?.spiralArms ?? 0,
    n_components: source.components.length,
  };
}

/** Neighbour rows for the sources of a stamp or cutout centred inside it. */
export function neighbourRows(
  parentIndex: number,
  parentId: number,
  sources: readonly PlacedSource[],
  toOutput: (s: PlacedSource) => { x: number; y: number; ra: number; dec: number },
): TruthRow[] {
  return sources.map((s) => {
    const at = toOutput(s);
    return { parent_index: parentIndex, parent_id: parentId, role: s.role, ...sourceValues(s, at.x, at.y, at) };
  });
}

const ARROW_TYPES: Readonly<Record<Kind, () => DataType>> = {
  float64: () => new Float64(),
  int64: () => new Int64(),
  int32: () => new Int32(),
  utf8: () => new Utf8(),
};

function columnData(def: ColumnDef, type: DataType, rows: readonly TruthRow[]): Data {
  const values = rows.map((r) => r[def.name] ?? null);
  const number = (v: Value): number => (typeof v === 'number' ? v : Number.NaN);
  switch (def.kind) {
    case 'float64':
      return makeData({ type: type as Float64, length: rows.length, data: Float64Array.from(values, number) });
    case 'int32':
      return makeData({ type: type as Int32, length: rows.length, data: Int32Array.from(values, number) });
    case 'int64':
      return makeData({ type: type as Int64, length: rows.length, data: BigInt64Array.from(values, (v) => BigInt(number(v))) });
    case 'utf8':
      return vectorFromArray(
        values.map((v) => (v === null ? null : String(v))),
        new Utf8(),
      ).data[0]!;
  }
}

/** The rows as an Arrow IPC file (one record batch), with units and descriptions as field metadata. */
export function truthTable(columns: readonly ColumnDef[], rows: readonly TruthRow[], metadata: Readonly<Record<string, string>>): Uint8Array {
  const fields = columns.map((c) => {
    const meta = new Map([['description', c.description]]);
    if (c.unit !== undefined) meta.set('unit', c.unit);
    return new Field(c.name, ARROW_TYPES[c.kind](), c.kind === 'utf8', meta);
  });
  const schema = new Schema(fields, new Map(Object.entries(metadata)));
  const children = columns.map((c, i) => columnData(c, fields[i]!.type, rows));
  const batch = new RecordBatch(schema, makeData({ type: new Struct(fields), length: rows.length, nullCount: 0, children }));
  return tableToIPC(new Table(batch), 'file');
}

export async function writeTruth(target: string, columns: readonly ColumnDef[], rows: readonly TruthRow[], metadata: Readonly<Record<string, string>>): Promise<void> {
  const bytes = truthTable(columns, rows, metadata);
  await writeAtomically(target, (file) => file.write(bytes));
}
