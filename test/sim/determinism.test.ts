import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describeIf, repoRoot } from '../helpers/shared.js';

// Worker threads load the compiled simulator, so this runs the built CLI (npm ci builds it).
const cli = path.join(repoRoot, 'dist', 'cli', 'index.js');

/** sha256 of every file under `dir`, by relative path. */
function digests(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (sub: string) => {
    for (const entry of readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const relative = path.join(sub, entry.name);
      if (entry.isDirectory()) walk(relative);
      else out[relative] = createHash('sha256').update(readFileSync(path.join(dir, relative))).digest('hex');
    }
  };
  walk('');
  return out;
}

describeIf(existsSync(cli), `${cli} not built (run npm run build)`, 'simulation determinism', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'vis-agn-sim-det-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const simulate = (kind: string, workers: number, extra: string[]): Record<string, string> => {
    const out = path.join(root, `${kind}-${workers}`);
    execFileSync(process.execPath, [cli, 'simulate', kind, '--n', '24', '--seed', '7', '--workers', String(workers), '--out', out, ...extra], { stdio: 'ignore' });
    return digests(out);
  };

  it.each([
    ['cutouts', ['--size', '64']],
    ['shards', ['--stamp', '48']],
  ])('%s: the same seed gives byte-identical files with 1 and 2 workers', (kind, extra) => {
    const one = simulate(kind, 1, extra);
    const two = simulate(kind, 2, extra);
    expect(Object.keys(one).length).toBeGreaterThan(2);
    expect(two).toEqual(one);
  });
});
