import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, test } from '@jest/globals';

const SRC = path.resolve('src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(file) : entry.name.endsWith('.ts') ? [file] : [];
  });
}

/** Every module `file` imports (static, re-exported or dynamic): package names as they are, project files as paths under src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:\bfrom\s+|\bimport\(\s*)'([^']+)'/g)].map((match) => match[1]!);
  return specifiers.map((specifier) => (specifier.startsWith('.') ? path.relative(SRC, path.resolve(path.dirname(file), specifier)) : specifier));
}

const files = sourceFiles(SRC).map((file) => ({ name: path.relative(SRC, file), imports: importsOf(file) }));
const tests = sourceFiles(path.resolve('test')).map((file) => ({ name: path.relative(path.resolve('.'), file), imports: importsOf(file) }));

describe('the layout README describes', () => {
  test('only src/model imports onnxruntime-node', () => {
    const users = files.filter((f) => f.imports.includes('onnxruntime-node')).map((f) => f.name);
    expect(users.length).toBeGreaterThan(0);
    expect(users.filter((name) => !name.startsWith('model/'))).toEqual([]);
  });

  test('the ground floor imports nothing of the project above it', () => {
    const reaching = files
      .filter((f) => f.name.startsWith('ground/'))
      .flatMap((f) => f.imports.filter((i) => i.endsWith('.js') && !/^(ground|fits)\//.test(i) && i !== 'errors.js').map((i) => `${f.name} -> ${i}`));
    expect(reaching).toEqual([]);
  });

  test('no command file imports another', () => {
    const between = files
      .filter((f) => f.name.startsWith('cli/commands/'))
      .flatMap((f) => f.imports.filter((i) => i.startsWith('cli/commands/')).map((i) => `${f.name} -> ${i}`));
    expect(between).toEqual([]);
  });

  test('command files are thin: each exports its register function and nothing else', () => {
    const exported = files
      .filter((f) => f.name.startsWith('cli/commands/'))
      .flatMap((f) => [...readFileSync(path.join(SRC, f.name), 'utf8').matchAll(/^export\s+(?:async\s+)?(?:function|const|let|class|interface|type|enum)\s+(\w+)|^export\s*\{/gm)]
        .map((match) => match[1] ?? '{...}')
        .filter((name) => name !== 'register')
        .map((name) => `${f.name}: ${name}`));
    expect(exported).toEqual([]);
  });

  test('tests reach library code in its own module, never through a command file', () => {
    const through = tests.flatMap((t) => t.imports.filter((i) => i.startsWith('cli/commands/')).map((i) => `${t.name} -> ${i}`));
    expect(tests.length).toBeGreaterThan(0);
    expect(through).toEqual([]);
  });
});
