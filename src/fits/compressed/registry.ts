/**
 * The tile codecs of the FITS tiled image compression convention, looked up by ZCMPTYPE.
 *
 * A codec only turns one tile's compressed bytes back into the integers (or, for the lossless
 * GZIP/NOCOMPRESS cases, floats) that the writer fed it; quantisation and BSCALE/BZERO belong to
 * quantize.ts and tile geometry to tiled-image.ts, so each layer can be tested on its own.
 */
import { gzip1Codec, gzip2Codec, noCompressCodec } from './gzip.js';
import { hcompressCodec } from './hcompress.js';
import { plioCodec } from './plio.js';
import { riceCodec } from './rice.js';

/** The array type a tile was compressed from: ZBITPIX's type, or int32 for quantised floats. */
export type SampleType = 'uint8' | 'int16' | 'int32' | 'int64' | 'float32' | 'float64';

export type TileSamples = Uint8Array | Int16Array | Int32Array | BigInt64Array | Float32Array | Float64Array;

export interface TileCodecContext {
  /** Pixels in this tile; edge tiles are smaller than the nominal ZTILEn box. */
  readonly npix: number;
  /** This tile's extent along each axis, NAXIS1 first. */
  readonly shape: readonly number[];
  readonly sampleType: SampleType;
  /** Numeric ZNAMEi/ZVALi pairs, names upper-case (BLOCKSIZE, BYTEPIX, SMOOTH, ...). */
  readonly params: ReadonlyMap<string, number>;
  /**
   * Room for at least `npix` samples that a codec producing int32 may decode into instead of
   * allocating: the samples it returns may then be a view of it, overwritten by the next tile.
   */
  readonly scratch?: Int32Array | undefined;
}

export interface TileCodec {
  /**
   * Decodes one tile. Throws InvalidInputError without a location on corrupt input; the tiling layer
   * adds file, HDU and tile.
   */
  decode(compressed: Uint8Array, context: TileCodecContext): TileSamples;
}

export class CodecRegistry {
  private readonly codecs = new Map<string, TileCodec>();

  register(zcmptype: string, codec: TileCodec): void {
    this.codecs.set(zcmptype.toUpperCase(), codec);
  }

  get(zcmptype: string): TileCodec | undefined {
    return this.codecs.get(zcmptype.trim().toUpperCase());
  }

  names(): string[] {
    return [...this.codecs.keys()];
  }
}

export const codecRegistry = new CodecRegistry();
codecRegistry.register('RICE_1', riceCodec);
// Early fpack releases wrote this spelling; cfitsio and astropy still accept it.
codecRegistry.register('RICE_ONE', riceCodec);
codecRegistry.register('GZIP_1', gzip1Codec);
codecRegistry.register('GZIP_2', gzip2Codec);
codecRegistry.register('PLIO_1', plioCodec);
codecRegistry.register('HCOMPRESS_1', hcompressCodec);
codecRegistry.register('NOCOMPRESS', noCompressCodec);
