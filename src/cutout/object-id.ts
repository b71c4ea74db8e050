/**
 * Positions encoded in Euclid names: MER catalogue object ids and IAU-style designations (`EUCL J...`).
 *
 * A MER object id packs the catalogue position into a signed 64-bit integer: written as 19 digits with
 * leading zeros, the first 10 are RA x 1e7 (three integer digits) and the last 9 are |Dec| x 1e7 (two integer
 * digits); the sign of the id is the sign of Dec. File names spell a negative id with `NEG` instead of `-`,
 * e.g. `q1_mer_cutout_102018665_NEG570040238507752998.fits` is tile 102018665, object -570040238507752998,
 * RA 57.0040238, Dec -50.7752998. The positions are therefore good to 1e-7 deg (0.36 mas).
 */
import { InvalidInputError } from '../errors.js';

export interface EuclidObjectPosition {
  objectId: bigint;
  /** Degrees. */
  ra: number;
  /** Degrees. */
  dec: number;
}

const DEC_DIGITS = 10n ** 9n;
const MAX_RA_PART = 360n * 10n ** 7n;
const MAX_DEC_PART = 90n * 10n ** 7n;

/**
 * Decodes a MER object id given as a bigint, a safe-integer number, a decimal string (`-123...` or
 * `NEG123...`), or a file name in which it follows the tile id as `<tile>_<id>`.
 */
export function parseEuclidObjectId(input: string | bigint | number): EuclidObjectPosition {
  const objectId = objectIdOf(input);
  const magnitude = objectId < 0n ? -objectId : objectId;
  const raPart = magnitude / DEC_DIGITS;
  const decPart = magnitude % DEC_DIGITS;
  if (raPart >= MAX_RA_PART || decPart > MAX_DEC_PART) {
    throw new InvalidInputError(
      `object id ${objectId} does not encode a position (RA part ${raPart}, Dec part ${decPart})`,
    );
  }
  const dec = Number(decPart) / 1e7;
  return { objectId, ra: Number(raPart) / 1e7, dec: objectId < 0n && decPart > 0n ? -dec : dec };
}

function objectIdOf(input: string | bigint | number): bigint {
  if (typeof input === 'bigint') return checkedRange(input, String(input));
  if (typeof input === 'number') {
    if (!Number.isSafeInteger(input)) {
      throw new InvalidInputError(
        `object id ${input} is not an integer a number can hold exactly; pass it as a string or bigint`,
      );
    }
    return checkedRange(BigInt(input), String(input));
  }
  const text = input.trim();
  const bare = /^(NEG|-)?(\d+)$/.exec(text);
  if (bare !== null) return fromDigits(bare[1] !== undefined, bare[2]!, input);

  const name = text.split(/[\\/]/).pop()!;
  const embedded = [...name.matchAll(/(?:^|_)\d+_(NEG)?(\d+)(?=$|[_.])/g)];
  if (embedded.length !== 1) {
    throw new InvalidInputError(
      embedded.length === 0
        ? `'${input}' is neither an object id nor a name holding '<tile>_<object id>'`
        : `'${input}' holds ${embedded.length} '<tile>_<object id>' candidates`,
    );
  }
  return fromDigits(embedded[0]![1] !== undefined, embedded[0]![2]!, input);
}

function fromDigits(negative: boolean, digits: string, input: string): bigint {
  const magnitude = BigInt(digits);
  return checkedRange(negative ? -magnitude : magnitude, input);
}

function checkedRange(id: bigint, input: string): bigint {
  if (id >= 2n ** 63n || id < -(2n ** 63n)) {
    throw new InvalidInputError(`object id '${input}' does not fit a signed 64-bit integer`);
  }
  return id;
}

/**
 * Position from an IAU-style designation `JHHMMSS.ss+DDMMSS.s` (any acronym before the `J`, any number of
 * decimals), also when embedded in a file name. Designations truncate rather than round, so the object lies
 * up to one unit of the last digit beyond the returned position.
 */
export function parseIauDesignation(text: string): { ra: number; dec: number } {
  const matches = [
    ...text.matchAll(/(?:^|[A-Za-z ])J(\d{2})(\d{2})(\d{2}(?:\.\d+)?)([+-])(\d{2})(\d{2})(\d{2}(?:\.\d+)?)/g),
  ];
  if (matches.length !== 1) {
    throw new InvalidInputError(
      matches.length === 0
        ? `'${text}' holds no designation of the form JHHMMSS.ss+DDMMSS.s`
        : `'${text}' holds ${matches.length} designations`,
    );
  }
  const match = matches[0]!;
  const [hours, minutes, seconds] = [match[1], match[2], match[3]].map(Number) as [number, number, number];
  const [degrees, arcmin, arcsec] = [match[5], match[6], match[7]].map(Number) as [number, number, number];
  if (hours >= 24 || minutes >= 60 || seconds >= 60 || arcmin >= 60 || arcsec >= 60) {
    throw new InvalidInputError(`'${text}': sexagesimal field out of range`);
  }
  const dec = degrees + arcmin / 60 + arcsec / 3600;
  if (dec > 90) throw new InvalidInputError(`'${text}': declination beyond 90 degrees`);
  return {
    ra: (hours + minutes / 60 + seconds / 3600) * 15,
    dec: match[4] === '-' && dec > 0 ? -dec : dec,
  };
}
