/**
 * The bits of the catalogue's `flags` column, each defined once here; docs/catalogue.md's table and
 * every decoder follow this list. A flagged row stays in the catalogue: flags say how far to trust it.
 * On the ground floor because every stage speaks them: cutout and detect raise them, batch encodes
 * them, the catalogue stores and decodes them (src/catalog re-exports this module).
 */

export interface FlagSpec {
  readonly name: string;
  /** 0-based bit position; the flag's value is 2**bit. */
  readonly bit: number;
  readonly description: string;
}

export const FLAGS = [
  { name: 'off_tile_edge', bit: 0, description: 'the cutout is not full size: the source lies near the edge of the image or tile' },
  { name: 'zero_pixels_in_core', bit: 1, description: 'pixels exactly 0 (tile gap or edge fill) inside the masked core' },
  { name: 'nan_pixels_in_core', bit: 2, description: 'NaN or blank pixels inside the masked core' },
  { name: 'core_near_edge', bit: 3, description: 'the crop window around the core leaves the image; the outside was padded' },
  { name: 'no_rms_map', bit: 4, description: 'no RMS map: the noise was estimated from the image itself' },
  { name: 'no_psf_hdu', bit: 5, description: 'no PSF HDU: the default VIS PSF was used for the point-source fit' },
  { name: 'saturated_or_blank', bit: 6, description: 'saturated or blank (BLANK/NaN) pixels in the cutout outside the core' },
  { name: 'corrupt_input', bit: 7, description: 'the file or HDU could not be read; only the input position is known' },
  { name: 'inference_failed', bit: 8, description: 'the model did not produce samples for this source; scores are null' },
  { name: 'bad_psf', bit: 9, description: 'the PSF stamp is unusable (not odd and square, smaller than the core, not finite, or its sum not positive); the default VIS PSF was used' },
  { name: 'bad_rms_map', bit: 10, description: 'RMS map pixels that are not finite and positive where the image has data; they were left out of the noise level' },
  { name: 'unphysical_pixels', bit: 11, description: 'infinite pixels or pixels of magnitude 1e10 image units or more (no sky pixel is that bright or that negative); masked as blank' },
  { name: 'scoring_failed', bit: 12, description: 'scoring this source raised an error (the reason is in errors.jsonl); scores are null' },
  { name: 'unphysical_score', bit: 13, description: 'a score came out outside its physical bounds (docs/detection.md); every score of the row is withheld (null)' },
] as const satisfies readonly FlagSpec[];

export type FlagName = (typeof FLAGS)[number]['name'];

/**
 * Flags that mean the source was not scored because something failed (rather than because the data
 * are what they are, as at a tile edge): a run with any such row ends with the partial-failure exit
 * code, and each of them has a line in the run's errors.jsonl.
 */
export const FAILURE_FLAGS = ['corrupt_input', 'inference_failed', 'scoring_failed', 'unphysical_score'] as const satisfies readonly FlagName[];

export function isFailure(value: number): boolean {
  return FAILURE_FLAGS.some((name) => hasFlag(value, name));
}

/** A set bit that this version does not define, as a catalogue from a newer version may carry. */
export type UnknownFlag = `bit_${number}`;

const BY_NAME: ReadonlyMap<string, FlagSpec> = new Map(FLAGS.map((flag) => [flag.name, flag]));

/** The value of one flag, 2**bit, as an unsigned 32-bit number. */
export function flagValue(name: FlagName): number {
  return (2 ** BY_NAME.get(name)!.bit) >>> 0;
}

/** The `flags` value with exactly `names` set. */
export function encodeFlags(names: Iterable<FlagName>): number {
  let value = 0;
  for (const name of names) value = (value | flagValue(name)) >>> 0;
  return value;
}

export function hasFlag(value: number, name: FlagName): boolean {
  return ((value & flagValue(name)) >>> 0) !== 0;
}

/** The names of the set bits, lowest bit first; bits this version does not define read `bit_<n>`. */
export function decodeFlags(value: number): (FlagName | UnknownFlag)[] {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`flags value ${value} is not an unsigned 32-bit integer`);
  const words: (FlagName | UnknownFlag)[] = [];
  for (let bit = 0; bit < 32; bit++) {
    if (((value >>> bit) & 1) === 0) continue;
    words.push(FLAGS.find((flag) => flag.bit === bit)?.name ?? `bit_${bit}`);
  }
  return words;
}
