/**
 * Tile-compressed FITS images: reading them (whole or by section), their logical header, and
 * their compression parameters. Codecs, quantisation and tiling are separate layers:
 * registry.ts (+ one file per codec), quantize.ts and tiled-image.ts.
 */
export { compressedImageHeader, compressionInfo, readCompressedImage, type CompressionInfo } from './tiled-image.js';
export { codecRegistry, type SampleType, type TileCodec, type TileCodecContext, type TileSamples } from './registry.js';
export type { QuantizeMethod } from './quantize.js';
