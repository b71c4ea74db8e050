import { describe, expect, test } from '@jest/globals';

import { failedTaskResult, type DetectTask } from '../../src/batch/detect-task.js';
import { defaultDetectionSettings } from '../../src/detect/settings.js';
import { decodeFlags } from '../../src/ground/flags.js';
import { rowProblem } from '../../src/catalog/schema.js';
import { defaultCardPath, readCard } from '../../src/model/card.js';

const common = { cardPath: defaultCardPath(), settings: defaultDetectionSettings(readCard(defaultCardPath()).card), device: 'cpu' as const, threads: 1 };

describe('rows of a task that failed twice', () => {
  test('tile objects keep their ids and positions, flagged inference_failed, with no scores', () => {
    const task: DetectTask = { ...common, inputs: { tile: { tile: 'T.fits', catalog: 'C.fits' }, objects: { ids: [7n, 9n], ra: Float64Array.of(10, 11), dec: Float64Array.of(-1, -2) } } };
    const result = failedTaskResult(task, new Error('worker exited with code 70'));
    expect(result.errors.map((e) => [e.object_id, e.flag, e.reason])).toEqual([
      ['7', 'inference_failed', 'its worker thread died twice: worker exited with code 70'],
      ['9', 'inference_failed', 'its worker thread died twice: worker exited with code 70'],
    ]);
    expect(result.rows.map((r) => [r.object_id, r.ra, r.dec, r.source_file])).toEqual([
      [7n, 10, -1, 'T.fits'],
      [9n, 11, -2, 'T.fits'],
    ]);
    for (const row of result.rows) {
      expect(decodeFlags(row.flags)).toEqual(['inference_failed']);
      expect(row.agn_z).toBeNull();
      expect(row.is_candidate).toBe(false);
      expect(rowProblem(row)).toBeUndefined();
    }
  });

  test('cutout files keep their names, one row each', () => {
    const task: DetectTask = { ...common, inputs: { files: ['a/EUC_MER_CUTOUT_102018213_x.fits', 'b.fits'] } };
    const rows = failedTaskResult(task, 'boom').rows;
    expect(rows.map((r) => r.source_file)).toEqual(['a/EUC_MER_CUTOUT_102018213_x.fits', 'b.fits']);
    expect(rows.every((r) => decodeFlags(r.flags).includes('inference_failed'))).toBe(true);
  });

  test('report no execution provider: no session scored them', () => {
    expect(failedTaskResult({ ...common, inputs: { files: ['b.fits'] } }, 'boom').provider).toBeUndefined();
  });
});
