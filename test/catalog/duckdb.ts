/**
 * DuckDB through @duckdb/node-api (a devDependency shipping prebuilt binaries through npm), the
 * reader the Parquet and CSV exports are for. Tests that need it skip, saying why, when it is missing.
 */

type DuckDbModule = typeof import('@duckdb/node-api');

let loadError = '';
const duckdb: DuckDbModule | undefined = await import('@duckdb/node-api').catch((error: unknown) => {
  loadError = (error as Error).message;
  return undefined;
});

export const hasDuckDb = duckdb !== undefined;
export const noDuckDbReason = `@duckdb/node-api could not be loaded (${loadError}); install the devDependencies`;

export interface DuckDb {
  /** Rows as plain JavaScript values (BIGINT as bigint). */
  query(sql: string): Promise<Record<string, unknown>[]>;
  close(): void;
}

export async function openDuckDb(): Promise<DuckDb> {
  const instance = await duckdb!.DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  return {
    query: async (sql) => (await connection.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[],
    close: () => {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

/** A file path as a SQL string literal. */
export function sqlPath(file: string): string {
  return `'${file.replaceAll("'", "''")}'`;
}
