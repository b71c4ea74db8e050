import { describe, expect, test } from '@jest/globals';

import { EXIT_CODES } from '../../src/errors.js';
import { runCli } from '../helpers/cli.js';

describe('command-line mistakes', () => {
  test('a mistyped option is one line naming the nearest valid option, not the help', async () => {
    const result = await runCli(['run', '--out', 'nowhere', '--tile', 'tile.fits', '--catlog', 'cat.fits']);
    expect(result).toEqual({ code: EXIT_CODES.usage, stdout: '', stderr: "error: unknown option '--catlog' (did you mean --catalog?)\n" });
  });

  test('a mistyped command is one line naming the nearest command', async () => {
    const result = await runCli(['inpsect', 'x.fits']);
    expect(result).toEqual({ code: EXIT_CODES.usage, stdout: '', stderr: "error: unknown command 'inpsect' (did you mean inspect?)\n" });
  });
});
