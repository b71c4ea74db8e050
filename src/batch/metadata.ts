/**
 * The run metadata every catalogue carries (catalog/schema.ts stores it): the model, the detection
 * settings, what the run was made from and the execution provider it ran on. Written, read back and
 * compared (a run shard that resumes, parts that merge) here, so the three cannot drift apart.
 */

import type { RunMetadata } from '../catalog/schema.js';
import type { TileInput } from '../cutout/from-tile.js';
import { significanceCalibration, type DetectionSettings } from '../detect/settings.js';
import { InvalidInputError } from '../errors.js';
import { generatorVersion } from '../ground/version.js';
import { cardMask, type LoadedCard, type SignificanceCalibration } from '../model/card.js';
import type { CoreMask } from '../model/geometry.js';
import { runtimeVersion } from '../model/runtime.js';

/** The metadata's `config`: the settings, and what a row needs to be scored again (`inspect`, `report`). */
export interface RunConfig extends DetectionSettings {
  /** The model card's path where the run ran. */
  readonly model: string;
  readonly significance: SignificanceCalibration;
  readonly crop: number;
  readonly mask: CoreMask;
  /** The tiles of a tile run, with their catalogue, so a row can be cut again from its tile. */
  readonly tiles?: readonly TileInput[];
}

/**
 * The metadata of a run with `settings` on the model `card` over `inputs`, all but the execution
 * provider: that is the one the workers report having used, known once they have run.
 */
export function runMetadata(card: LoadedCard, settings: DetectionSettings, inputs: readonly string[], tiles?: readonly TileInput[]): Omit<RunMetadata, 'executionProvider'> {
  const config: RunConfig = {
    ...settings,
    model: card.cardPath,
    significance: significanceCalibration(card),
    crop: card.card.geometry.crop,
    mask: cardMask(card.card),
    ...(tiles === undefined ? {} : { tiles }),
  };
  return {
    modelName: card.card.name,
    modelCardSha256: card.cardSha256,
    config: { ...config },
    seed: settings.seed,
    visAgnVersion: generatorVersion(),
    nodeVersion: process.version,
    onnxruntimeVersion: runtimeVersion(),
    inputs: [...inputs],
    createdAt: new Date().toISOString(),
  };
}

/** Providers as a catalogue records them: each once, in order, comma-separated ('cpu', 'cpu,cuda'); 'none' when no source was scored. */
export function providerList(providers: Iterable<string>): string {
  const names = [...new Set([...providers].flatMap((p) => p.split(',')))].filter((p) => p !== '' && p !== 'none').sort();
  return names.length === 0 ? 'none' : names.join(',');
}

const RECORDED: readonly (keyof RunConfig)[] = ['samples', 'steps', 'method', 'seed', 'thresholds', 'hduNames', 'rmsToSigma', 'model'];

/** The run config a catalogue's metadata records; InvalidInputError naming `catalog` when it is not one `vis-agn run` wrote. */
export function runConfigOf(metadata: RunMetadata, catalog: string): RunConfig {
  for (const key of RECORDED) {
    if (!(key in metadata.config)) throw new InvalidInputError(`run metadata config has no ${key}; was the catalogue written by vis-agn run?`, { file: catalog });
  }
  return metadata.config as unknown as RunConfig;
}

/**
 * How the settings of two catalogues differ, in words, or undefined when every row of one could
 * stand in the other: same seed, same model (by the card's hash) and the same scoring configuration.
 * The model's path may differ (another node, another checkout), and so may the execution provider.
 */
export function settingsDifference(a: Omit<RunMetadata, 'executionProvider'>, b: Omit<RunMetadata, 'executionProvider'>): string | undefined {
  const differences: string[] = [];
  if (a.seed !== b.seed) differences.push(`seed ${a.seed} vs ${b.seed}`);
  if (a.modelCardSha256 !== b.modelCardSha256) differences.push(`model ${a.modelName} (card sha256 ${a.modelCardSha256.slice(0, 12)}) vs ${b.modelName} (${b.modelCardSha256.slice(0, 12)})`);
  for (const key of new Set([...Object.keys(a.config), ...Object.keys(b.config)])) {
    if (key === 'model' || key === 'seed') continue;
    const [x, y] = [JSON.stringify(a.config[key]), JSON.stringify(b.config[key])];
    if (x !== y) differences.push(`${key} ${x ?? 'unset'} vs ${y ?? 'unset'}`);
  }
  return differences.length === 0 ? undefined : differences.join('; ');
}
