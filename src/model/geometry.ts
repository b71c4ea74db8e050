/**
 * Which pixels form the masked core: the same rule as the trainer's CoreGeometry
 * (pipelines/train/model.py). A square mask covers mask x mask pixels; a circular one the pixels whose
 * centres lie within mask / 2 of the centre pixel's (21 for mask = 5). Row-major order, which is the
 * order of the model's core vectors.
 */

export type MaskShape = 'square' | 'circle';

export interface CoreMask {
  readonly size: number;
  readonly shape: MaskShape;
}

/** (dx, dy) of each core pixel from the centre, row-major. */
export function coreOffsets({ size, shape }: CoreMask): readonly (readonly [number, number])[] {
  if (size % 2 === 0 || size < 1) throw new RangeError(`mask size must be odd and positive, got ${size}`);
  const half = (size - 1) / 2;
  const limit = (size / 2) ** 2;
  const offsets: [number, number][] = [];
  // 0 - half, not -half: a 1-pixel mask must give (0, 0), not (-0, -0).
  for (let dy = 0 - half; dy <= half; dy++) {
    for (let dx = 0 - half; dx <= half; dx++) if (shape === 'square' || dx * dx + dy * dy <= limit) offsets.push([dx, dy]);
  }
  return offsets;
}

/** Indices into a `side` x `side` row-major image of the core centred at (side / 2, side / 2). */
export function coreIndices(side: number, mask: CoreMask): Int32Array {
  const centre = Math.floor(side / 2);
  return Int32Array.from(coreOffsets(mask), ([dx, dy]) => (centre + dy) * side + centre + dx);
}
