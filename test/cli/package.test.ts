import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, test } from '@jest/globals';

const root = path.resolve(import.meta.dirname, '../..');

describe('the npm package', () => {
  test('npm reads the project configuration without warnings', () => {
    const result = spawnSync('npm', ['config', 'get', 'fund'], { cwd: root, encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stderr).not.toMatch(/warn/i);
  });

  test('onnxruntime-node may not run its install script, which would download CUDA binaries', () => {
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> };
    expect(pkg.allowScripts?.['onnxruntime-node']).toBe(false);
  });

  test('the build leaves the command executable', () => {
    // The build script's own steps, into a scratch folder beside dist/ (so the checkout's dist/ is left
    // alone while package.json and node_modules resolve as they do from dist/).
    const out = mkdtempSync(path.join(root, '.build-test-'));
    try {
      const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { bin: Record<string, string>; scripts: Record<string, string> };
      const script = pkg.scripts.build!.replaceAll('tsconfig.build.json', `tsconfig.build.json --outDir ${out}`).replaceAll("'dist/", `'${out}/`);
      execFileSync('sh', ['-c', script], { cwd: root, stdio: 'pipe', env: { ...process.env, PATH: `${path.join(root, 'node_modules/.bin')}${path.delimiter}${process.env.PATH}` } });
      const bin = path.join(out, path.relative('dist', pkg.bin['vis-agn']!));
      expect(statSync(bin).mode & 0o111).toBe(0o111);
      expect(execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim()).toMatch(/^\d+\.\d+\.\d+$/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 180_000);
});
