/**
 * `npm run bench`: every benchmark, one after the other, each in its own process so that one's memory
 * and JIT state never colour another's figures. Arguments (e.g. --quick) are passed to each.
 * Results land in bench/results/<name>.{json,md}.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCHES = ['fits', 'sim', 'model', 'detect', 'run'];

const here = path.dirname(fileURLToPath(import.meta.url));
let failed = 0;
for (const name of BENCHES) {
  const script = path.join(here, `${name}.js`);
  if (!existsSync(script)) continue;
  console.log(`\n## bench: ${name}\n`);
  const result = spawnSync(process.execPath, [script, ...process.argv.slice(2)], { stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`bench ${name} failed with exit code ${result.status}`);
    failed++;
  }
}
process.exitCode = failed === 0 ? 0 : 1;
