/** The public surface of the catalogue layer. */
export * from './schema.js';
export * from '../ground/flags.js';
export * from './batch.js';
export { CatalogWriter, DEFAULT_BATCH_ROWS, writeCatalog, type CatalogWriterOptions } from './arrow.js';
export { openCatalog, readCatalog, type Catalog, type CatalogFile } from './read.js';
export { EXPORT_FORMATS, exportCatalog, type ExportFormat, type ExportFormatName, type ExportOptions } from './formats.js';
