import { describe, expect, test } from '@jest/globals';

import { providerList, runConfigOf, runMetadata, settingsDifference } from '../../src/batch/metadata.js';
import type { RunMetadata } from '../../src/catalog/schema.js';
import { defaultDetectionSettings } from '../../src/detect/settings.js';
import { InvalidInputError } from '../../src/errors.js';
import { defaultCardPath, readCard } from '../../src/model/card.js';

const card = readCard(defaultCardPath());
const settings = defaultDetectionSettings(card.card, 7);

describe('run metadata', () => {
  test('comes from the card alone, with the settings first in its config, and reads back as a run config', () => {
    const metadata = { ...runMetadata(card, settings, ['a.fits']), executionProvider: 'cpu' };
    expect(metadata.seed).toBe(7);
    expect(metadata.modelCardSha256).toBe(card.cardSha256);
    expect(Object.keys(metadata.config)).toEqual([...Object.keys(settings), 'model', 'significance', 'crop', 'mask']);
    const config = runConfigOf(metadata, 'run.arrow');
    expect(config.crop).toBe(card.card.geometry.crop);
    expect(config.mask).toEqual({ size: card.card.geometry.mask, shape: card.card.geometry.mask_shape });
    expect(config.model).toBe(card.cardPath);
  });

  test('a config without the settings is not a run of vis-agn', () => {
    const metadata = { ...runMetadata(card, settings, []), executionProvider: 'cpu', config: { samples: 16 } };
    expect(() => runConfigOf(metadata, 'other.arrow')).toThrow(InvalidInputError);
  });

  test('settings differ by seed and scoring, not by the model path or the execution provider', () => {
    const ran = (metadata: Omit<RunMetadata, 'executionProvider'>, executionProvider: string): RunMetadata => ({ ...metadata, executionProvider });
    const base = ran(runMetadata(card, settings, []), 'cpu');
    expect(settingsDifference(base, ran({ ...base, config: { ...base.config, model: '/elsewhere/card.json' } }, 'cuda'))).toBeUndefined();
    expect(settingsDifference(base, ran(runMetadata(card, { ...settings, seed: 8 }, []), 'cpu'))).toBe('seed 7 vs 8');
    expect(settingsDifference(base, ran(runMetadata(card, { ...settings, samples: 4 }, []), 'cpu'))).toBe(`samples ${settings.samples} vs 4`);
  });
});

describe('providerList', () => {
  test('names each provider once, in order; none when nothing was scored', () => {
    expect(providerList(['cpu', 'cpu'])).toBe('cpu');
    expect(providerList(['cuda', 'cpu,cuda', 'none'])).toBe('cpu,cuda');
    expect(providerList([])).toBe('none');
  });
});
