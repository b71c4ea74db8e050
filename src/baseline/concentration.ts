/**
 * The concentration index peer: the flux within r = 1.5 px over the flux within r = 4 px around the
 * light's centre, after the local sky. A point source has the PSF's ratio (~0.75 for the Q1 VIS
 * stamps), an extended galaxy less; the simplest morphology statistic, which any detection method
 * has to beat.
 */

const { floor, hypot, max, min } = Math;

export const INNER_RADIUS = 1.5;
export const OUTER_RADIUS = 4;
/** The sky annulus, pixels: outside most targets' light, inside a 41-pixel window. */
const SKY = [10, 15] as const;
/** Sub-pixels per side for the aperture areas: an r = 1.5 px aperture covers only ~7 pixels. */
const SUB = 8;

/**
 * The concentration of the source at (floor(side / 2), floor(side / 2)) of a side x side image;
 * null when the outer aperture holds no light above the sky.
 */
export function concentrationIndex(pixels: ArrayLike<number>, side: number): number | null {
  const c = floor(side / 2);
  const at = (x: number, y: number) => pixels[y * side + x]!;
  const sky: number[] = [];
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const r = hypot(x - c, y - c);
      if (r >= SKY[0] && r < SKY[1] && Number.isFinite(at(x, y))) sky.push(at(x, y));
    }
  }
  sky.sort((a, b) => a - b);
  const level = sky.length === 0 ? 0 : sky[sky.length >> 1]!;
  // The centre: the light-weighted centroid of the 3x3 around the target pixel.
  let sx = 0;
  let sy = 0;
  let s = 0;
  for (let y = c - 1; y <= c + 1; y++) {
    for (let x = c - 1; x <= c + 1; x++) {
      const v = max(0, at(x, y) - level);
      if (!Number.isFinite(v)) continue;
      sx += v * (x - c);
      sy += v * (y - c);
      s += v;
    }
  }
  const cx = c + (s > 0 ? sx / s : 0);
  const cy = c + (s > 0 ? sy / s : 0);
  let inner = 0;
  let outer = 0;
  const reach = Math.ceil(OUTER_RADIUS) + 1;
  for (let y = max(0, floor(cy) - reach); y <= min(side - 1, floor(cy) + reach); y++) {
    for (let x = max(0, floor(cx) - reach); x <= min(side - 1, floor(cx) + reach); x++) {
      const v = at(x, y) - level;
      if (!Number.isFinite(v)) continue;
      let nIn = 0;
      let nOut = 0;
      for (let j = 0; j < SUB; j++) {
        for (let i = 0; i < SUB; i++) {
          const r = hypot(x - 0.5 + (i + 0.5) / SUB - cx, y - 0.5 + (j + 0.5) / SUB - cy);
          if (r < INNER_RADIUS) nIn++;
          if (r < OUTER_RADIUS) nOut++;
        }
      }
      inner += (v * nIn) / (SUB * SUB);
      outer += (v * nOut) / (SUB * SUB);
    }
  }
  return outer > 0 ? inner / outer : null;
}
