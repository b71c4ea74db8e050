/**
 * The crop the model sees, identical to the trainer's rule (pipelines/train/data.py): find the
 * brightest pixel inside the central `search` x `search` box, then cut the `crop` x `crop` window that
 * puts it at index crop / 2 (integer division). Centring the window on the core rather than on the
 * cutout keeps the mask at a fixed place for the network.
 */

export interface CoreCrop {
  readonly pixels: Float32Array;
  /** Brightest pixel, 0-based indices in the input image. */
  readonly coreX: number;
  readonly coreY: number;
  /** Input-image index of the crop's first column and row. */
  readonly left: number;
  readonly top: number;
}

export interface CropOptions {
  readonly crop: number;
  readonly search?: number;
}

/** Returns undefined when the window does not fit inside the image (the caller flags the source). */
export function centreOnCore(
  image: ArrayLike<number>,
  width: number,
  height: number,
  { crop, search = 9 }: CropOptions,
): CoreCrop | undefined {
  const cx = Math.floor(width / 2);
  const cy = Math.floor(height / 2);
  const half = Math.floor(search / 2);
  let best = -Infinity;
  let coreX = cx;
  let coreY = cy;
  for (let y = cy - half; y <= cy + half; y++) {
    for (let x = cx - half; x <= cx + half; x++) {
      const value = image[y * width + x]!;
      // Strictly greater keeps the first maximum in row-major order, as numpy's argmax does.
      if (value > best) {
        best = value;
        coreX = x;
        coreY = y;
      }
    }
  }
  const left = coreX - Math.floor(crop / 2);
  const top = coreY - Math.floor(crop / 2);
  if (left < 0 || top < 0 || left + crop > width || top + crop > height) return undefined;
  const pixels = new Float32Array(crop * crop);
  for (let row = 0; row < crop; row++) {
    const start = (top + row) * width + left;
    for (let col = 0; col < crop; col++) pixels[row * crop + col] = image[start + col]!;
  }
  return { pixels, coreX, coreY, left, top };
}
