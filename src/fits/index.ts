/** The public surface of the FITS module; each layer adds its own line. */
export type * from './types.js';
export * from './header.js';
export * from './source.js';
export * from './image.js';
export * from './file.js';
