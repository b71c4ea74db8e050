/**
 * Hand-made bad cutouts, each a good simulated cutout with one thing broken: the kinds of input that
 * once ended a run or leaked into its good rows (issue 15). Written with the project's FITS writer, so
 * the files are valid FITS and only their content is wrong.
 */

import { writeFileSync } from 'node:fs';

import { openFits } from '../../src/fits/file.js';
import { isReservedKeyword, writeFits, type HduInput } from '../../src/fits/writer.js';

export const BAD_KINDS = ['huge-negative-pixel', 'psf-3x3', 'psf-zero', 'psf-nan', 'psf-negative', 'rms-zero', 'rms-nan', 'flux-inf', 'not-fits', 'empty', 'truncated'] as const;
export type BadKind = (typeof BAD_KINDS)[number];

interface Hdu {
  name: string;
  axes: number[];
  data: Float32Array;
  cards: { key: string; value: string | number | boolean | bigint | null }[];
}

function readHdus(file: string): { primary: Hdu['cards']; images: Hdu[] } {
  const fits = openFits(file);
  try {
    const keep = (cards: readonly { key: string; value: unknown }[]) =>
      cards.filter((c) => c.value !== undefined && !isReservedKeyword(c.key) && c.key !== 'EXTNAME' && c.key !== 'CHECKSUM' && c.key !== 'DATASUM').map((c) => ({ key: c.key, value: c.value as Hdu['cards'][number]['value'] }));
    const images = fits.hdus.slice(1).map((hdu) => {
      const image = fits.readImage(hdu);
      return { name: hdu.name, axes: [...image.axes], data: Float32Array.from(image.data as ArrayLike<number>, Number), cards: keep(hdu.header.cards) };
    });
    return { primary: keep(fits.hdu(0).header.cards), images };
  } finally {
    fits.close();
  }
}

/** Writes `good` with one defect of `kind` to `target`. */
export async function writeBadCutout(good: string, target: string, kind: BadKind): Promise<void> {
  if (kind === 'not-fits') return writeFileSync(target, 'this is not a FITS file\n');
  if (kind === 'empty') return writeFileSync(target, '');
  const { primary, images } = readHdus(good);
  const named = (name: string) => images.find((h) => h.name === name)!;
  const flux = named('VIS_FLUX');
  const centre = Math.floor(flux.axes[1]! / 2) * flux.axes[0]! + Math.floor(flux.axes[0]! / 2);
  if (kind === 'huge-negative-pixel') flux.data[centre + 7 * flux.axes[0]! + 3] = -1e20;
  if (kind === 'flux-inf') flux.data[centre + 9 * flux.axes[0]!] = Infinity;
  const psf = named('VIS_PSF');
  if (kind === 'psf-3x3') Object.assign(psf, { axes: [3, 3], data: Float32Array.from([0, 0.1, 0, 0.1, 0.6, 0.1, 0, 0.1, 0]) });
  if (kind === 'psf-zero') psf.data.fill(0);
  if (kind === 'psf-nan') psf.data[5] = Number.NaN;
  if (kind === 'psf-negative') for (let i = 0; i < psf.data.length; i++) psf.data[i] = -psf.data[i]!;
  const rms = named('VIS_RMS');
  if (kind === 'rms-zero') rms.data.fill(0);
  if (kind === 'rms-nan') rms.data.fill(Number.NaN, 0, rms.data.length / 2);
  const hdus: HduInput[] = [{ type: 'empty', cards: primary }, ...images.map((h): HduInput => ({ type: 'image', name: h.name, dtype: 'float32', axes: h.axes, data: h.data, cards: h.cards }))];
  await writeFits(target, hdus);
  if (kind === 'truncated') {
    const { readFileSync } = await import('node:fs');
    const bytes = readFileSync(target);
    writeFileSync(target, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
  }
}
