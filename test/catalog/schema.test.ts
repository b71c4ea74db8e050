import { execFileSync } from 'node:child_process';

import { InvalidInputError, OutputError } from '../../src/errors.js';
import {
  CATALOG_FIELDS,
  CATALOG_SCHEMA,
  COLUMNS,
  decodeRunMetadata,
  encodeRunMetadata,
  RUN_METADATA,
  rowProblem,
  SCHEMA_KEY,
  type ColumnSpec,
} from '../../src/catalog/index.js';
import { astropyPython, describeIf, hasAstropy } from '../helpers/shared.js';
import { makeRows, METADATA } from './fixtures.js';

const SPECS: readonly ColumnSpec[] = COLUMNS;

/** UCD1+ words that may only follow the primary word (IVOA UCD list, syntax code S). */
const SECONDARY_ONLY = [/^meta\.main$/, /^meta\.file$/, /^meta\.fits$/, /^arith\.ratio$/, /^instr\.det$/, /^em\./];

describe('catalogue columns', () => {
  it('have unique lower-case names that FITS, SQL and Python accept unquoted', () => {
    expect(new Set(SPECS.map((c) => c.name)).size).toBe(SPECS.length);
    for (const column of SPECS) expect(column.name).toMatch(/^[a-z][a-z0-9_]{0,67}$/);
  });

  it('have a description, a UCD whose first word may be primary, and category values only on categories', () => {
    for (const column of SPECS) {
      expect(column.description.length).toBeGreaterThan(10);
      const words = column.ucd.split(';');
      for (const word of words) expect(word).toMatch(/^[a-zA-Z][a-zA-Z0-9.-]*$/);
      expect(SECONDARY_ONLY.some((pattern) => pattern.test(words[0]!))).toBe(false);
      expect(column.values !== undefined).toBe(column.kind === 'category');
    }
  });

  it('give the Arrow schema the same names, nullability and metadata', () => {
    expect(CATALOG_FIELDS.map((f) => [f.name, f.nullable, f.metadata.get('ucd'), f.metadata.get('unit')])).toEqual(
      SPECS.map((c) => [c.name, c.nullable, c.ucd, c.unit]),
    );
  });

  it('accept every generated row and name the column of a bad one', () => {
    for (const row of makeRows(200, 21)) expect(rowProblem(row)).toBeUndefined();
    const row = makeRows(1)[0]!;
    expect(rowProblem({ ...row, dec: Infinity })).toBe('column dec is Infinity; a missing value is null');
    expect(rowProblem({ ...row, object_id: 2n ** 63n })).toBe(`column object_id is ${2n ** 63n}, outside the int64 range`);
    expect(rowProblem({ ...row, is_candidate: 'yes' })).toBe('column is_candidate is a string, not a boolean');
  });
});

describeIf(hasAstropy, `astropy not importable by ${astropyPython}`, 'catalogue units', () => {
  it('parse as VOUnit in astropy', () => {
    const units = [...new Set(SPECS.flatMap((c) => (c.unit === undefined ? [] : [c.unit])))];
    const script = 'import sys, json, warnings\nwarnings.simplefilter("error")\nfrom astropy import units as u\nprint(json.dumps([u.Unit(s, format="vounit").to_string("vounit") for s in sys.argv[1:]]))';
    expect(JSON.parse(execFileSync(astropyPython, ['-c', script, ...units], { encoding: 'utf8' }))).toEqual(units);
  });
});

describe('run metadata', () => {
  const location = { file: 'run.arrow' };

  it('round-trips through its text form, with the layout key first', () => {
    const encoded = encodeRunMetadata(METADATA, 'run.arrow');
    expect([...encoded.keys()][0]).toBe(SCHEMA_KEY.key);
    expect(encoded.get(SCHEMA_KEY.key)).toBe(CATALOG_SCHEMA);
    expect(encoded.size).toBe(Object.keys(RUN_METADATA).length + 1);
    expect(decodeRunMetadata(encoded, location)).toEqual(METADATA);
  });

  it('has distinct keys and FITS keywords of at most 8 characters', () => {
    const entries = Object.values(RUN_METADATA);
    expect(new Set(entries.map((m) => m.key)).size).toBe(entries.length);
    expect(new Set([...entries.map((m) => m.fits), SCHEMA_KEY.fits]).size).toBe(entries.length + 1);
    for (const { fits } of entries) expect(fits).toMatch(/^[A-Z][A-Z0-9_-]{0,7}$/);
  });

  it('refuses to write invalid values, naming the field', () => {
    expect(() => encodeRunMetadata({ ...METADATA, inputs: [1] as unknown as string[] }, 'x.arrow')).toThrow(OutputError);
    expect(() => encodeRunMetadata({ ...METADATA, config: [] as unknown as Record<string, unknown> }, 'x.arrow')).toThrow(/run metadata config/);
  });

  it('refuses to read a missing or malformed key, or another layout', () => {
    const encoded = encodeRunMetadata(METADATA, 'run.arrow');
    const without = new Map(encoded);
    without.delete(RUN_METADATA.seed.key);
    expect(() => decodeRunMetadata(without, location)).toThrow(new InvalidInputError('metadata key vis_agn.seed is missing', location));
    expect(() => decodeRunMetadata(new Map([...encoded, [RUN_METADATA.seed.key, '1e3']]), location)).toThrow(/vis_agn.seed is malformed: "1e3"/);
    expect(() => decodeRunMetadata(new Map([...encoded, [RUN_METADATA.inputs.key, '{"a":1}']]), location)).toThrow(/vis_agn.inputs is malformed/);
    expect(() => decodeRunMetadata(new Map([...encoded, [SCHEMA_KEY.key, 'vis-agn/catalog/1']]), location)).toThrow(InvalidInputError);
  });
});
