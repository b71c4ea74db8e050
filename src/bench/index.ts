/**
 * `npm run bench`: every benchmark, one after the other, each in its own process so that one's memory
 * and JIT state never colour another's figures. `--quick` runs each in its seconds-long CI mode;
 * `--results DIR` (default bench/results) is where each writes <name>.{json,md}; `--only a,b` picks.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const BENCHES = ['fits', 'sim', 'model', 'stages', 'detect', 'run'] as const;

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    results: { type: 'string', default: path.join('bench', 'results') },
    only: { type: 'string' },
  },
});
const chosen = values.only === undefined ? BENCHES : BENCHES.filter((name) => values.only!.split(',').includes(name));
const here = path.dirname(fileURLToPath(import.meta.url));
const failed: string[] = [];
for (const name of chosen) {
  const script = path.join(here, `${name}.js`);
  if (!existsSync(script)) throw new Error(`${script} is missing: run npm run build`);
  console.log(`\n## bench: ${name}\n`);
  const args = [script, ...(values.quick ? ['--quick'] : []), '--out', path.join(values.results!, `${name}.json`)];
  const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (result.status !== 0) failed.push(`${name} (exit code ${result.status})`);
}
if (failed.length > 0) console.error(`benchmarks failed: ${failed.join(', ')}`);
process.exitCode = failed.length === 0 ? 0 : 1;
