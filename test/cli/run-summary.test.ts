import { describe, expect, it } from '@jest/globals';

import { FLAGS } from '../../src/ground/flags.js';
import { formatSummary } from '../../src/cli/summary.js';

const summary = {
  catalog: 'out/catalog.arrow',
  sources: 10,
  byClass: { agn: 1, qso: 0, point_like: 0, none: 9 },
  candidates: 1,
  flagged: 10,
  byFlag: { ...Object.fromEntries(FLAGS.map((flag) => [flag.name, 0])), no_rms_map: 10, no_psf_hdu: 3 } as Record<string, number>,
  unreadable: 0,
  failed: 0,
  errors: 'out/errors.jsonl',
  seconds: 2,
  provider: 'cpu',
};

describe('the end-of-run summary', () => {
  it('names the flags that occur and counts their rows', () => {
    const text = formatSummary(summary);
    const order = FLAGS.map((flag) => flag.name).filter((name) => name === 'no_rms_map' || name === 'no_psf_hdu');
    expect(text).toContain(`flagged rows: 10 (${order.map((name) => `${name} ${summary.byFlag[name]}`).join(', ')})`);
    expect(text).not.toContain('corrupt_input');
  });

  it('says nothing more when no row is flagged', () => {
    const clean = formatSummary({ ...summary, flagged: 0, byFlag: Object.fromEntries(FLAGS.map((flag) => [flag.name, 0])) });
    expect(clean).toContain('flagged rows: 0\n');
  });
});
