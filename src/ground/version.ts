import { readFileSync } from 'node:fs';

/** The vis-agn version that wrote an output (package.json, two levels up from src/ground and dist/ground). */
export function generatorVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}
