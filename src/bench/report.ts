/** Where every benchmark leaves its figures: `out` (JSON) and the markdown table beside it (.md). */

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export function writeBenchResults(out: string, result: unknown, markdown: string): void {
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(`${out.replace(/\.json$/, '')}.md`, markdown.endsWith('\n') ? markdown : `${markdown}\n`);
  process.stdout.write(`${markdown}\nwritten to ${out}\n`);
}
