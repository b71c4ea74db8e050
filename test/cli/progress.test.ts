import { describe, expect, test } from '@jest/globals';

import { progressBar, progressLine } from '../../src/cli/progress.js';

describe('progress lines', () => {
  test('say how many, how fast and how long is left', () => {
    expect(progressLine(1200, 3000, 3)).toBe('1200/3000 sources, 400/s, ETA 5 s');
    expect(progressLine(50, undefined, 2)).toBe('50 sources, 25/s');
    expect(progressLine(0, 10, 0)).toBe('0/10 sources, 0/s');
    expect(progressBar(0.4, 10)).toBe('[####------]');
    expect(progressBar(1)).toBe(`[${'#'.repeat(20)}]`);
    expect(progressBar(0)).toBe(`[${'-'.repeat(20)}]`);
  });
});
