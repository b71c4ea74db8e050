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

/**
 * README's picture as floors, lowest first: a module imports from its own floor or below, never from
 * above (type-only imports too). Modules side by side on one floor may import each other, one way only.
 */
const FLOORS: readonly (readonly string[])[] = [
  ['errors', 'random', 'atomic-file', 'worker-pool'],
  ['fits'],
  ['ground'],
  ['cutout'],
  ['model', 'sim'],
  ['detect'],
  ['catalog'],
  ['batch', 'completeness', 'inspect', 'stamps', 'baseline'],
  ['cli'],
  ['bench'],
];

/** The top-level module of a path under src/: its folder, or a root file's name without extension. */
const moduleOf = (name: string): string => name.split(path.sep)[0]!.replace(/\.(js|ts)$/, '');
const floorOf = (module: string): number => FLOORS.findIndex((floor) => floor.includes(module));

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

  test('every module stands on a floor, and every import goes down or sideways, never up', () => {
    const unplaced = [...new Set(files.map((f) => moduleOf(f.name)))].filter((module) => floorOf(module) < 0);
    expect(unplaced).toEqual([]);
    const upward = files.flatMap((f) =>
      f.imports
        .filter((i) => i.endsWith('.js') && !i.startsWith('..'))
        .filter((i) => floorOf(moduleOf(i)) > floorOf(moduleOf(f.name)))
        .map((i) => `${f.name} -> ${i}`),
    );
    expect(upward).toEqual([]);
  });

  test('modules on one floor import each other one way only: the modules form no cycle', () => {
    const edges = new Map<string, Set<string>>();
    for (const f of files) {
      for (const i of f.imports.filter((i) => i.endsWith('.js') && !i.startsWith('..'))) {
        const [from, to] = [moduleOf(f.name), moduleOf(i)];
        if (from !== to) edges.set(from, (edges.get(from) ?? new Set()).add(to));
      }
    }
    const reaches = (from: string, target: string, seen = new Set<string>()): boolean =>
      [...(edges.get(from) ?? [])].some((next) => next === target || (!seen.has(next) && (seen.add(next), reaches(next, target, seen))));
    const cycles = [...edges.entries()].flatMap(([from, tos]) => [...tos].filter((to) => reaches(to, from)).map((to) => `${from} -> ${to}`));
    expect(cycles).toEqual([]);
  });
});
