/**
 * `vis-agn start` (what `npm start` runs): the whole job on the embedded default model, small enough
 * for a laptop. Simulates cutouts with known truth, runs detection, scores the catalogue against the
 * truth, and leaves the catalogue, a completeness plot and one inspection panel in catalogs/demo/.
 */

import { rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';

import type { Command } from 'commander';

import { ensureOutputDir, writeAtomically } from '../../atomic-file.js';
import { runDetection } from '../../batch/run.js';
import { readCatalog } from '../../catalog/read.js';
import { selectionScore, type CatalogRow } from '../../catalog/schema.js';
import { DEFAULT_CONFIDENCE, formatProportion, markdownRow, markdownRule } from '../../completeness/stats.js';
import { evaluateAgainstTruth, readTruthTable, scoredObject, type TruthReport } from '../../completeness/truth.js';
import { defaultDetectionSettings } from '../../detect/settings.js';
import { renderChart } from '../../inspect/charts.js';
import { writeFigure } from '../../inspect/figure.js';
import { inspectCutout } from '../../inspect/inspect.js';
import { truthPlots } from '../../inspect/report-plots.js';
import { CoreGenerator } from '../../model/generator.js';
import { defaultCardPath, readCard } from '../../model/card.js';
import { simulateCutouts } from '../../sim/cutouts.js';
import { buildRecipe } from '../../sim/recipe.js';
import { numberOption } from '../options.js';

/** Four normal galaxies in every ten sources, then AGN and QSOs of known f_PS and a star. */
const DEMO_FPS = [0, 0, 0, 0, 0.05, 0.1, 0.2, 0.3, 0.5, 1];

interface StartOptions {
  out: string;
  n: string;
  seed: string;
}

function demoSummary(report: TruthReport): string {
  const fps = report.fpsBins.bins;
  const level = `${Math.round(DEFAULT_CONFIDENCE * 100)}% Wilson interval`;
  return [
    `normal galaxies: ${report.galaxies.n}, selected (false positives): ${formatProportion(report.galaxies.selected)} (${level})`,
    `stars: ${report.stars.n}, selected: ${formatProportion(report.stars.selected)} (${level}; point-like sources are not AGN candidates)`,
    '',
    markdownRow(['true f_PS', 'sources', `completeness of the selection [${level}]`, 'f_ps bias', 'f_ps RMSE']),
    markdownRule(5),
    ...fps.map((b) => markdownRow([b.lo.toFixed(2), String(b.n), formatProportion(b.completeness), b.fpsEstimate.bias?.toFixed(3) ?? '–', b.fpsEstimate.rmse?.toFixed(3) ?? '–'])),
  ].join('\n');
}

function classCounts(rows: readonly CatalogRow[]): string {
  const count = (cls: CatalogRow['candidate_class']) => rows.filter((r) => r.candidate_class === cls).length;
  return `classes: agn ${count('agn')}, qso ${count('qso')}, point_like ${count('point_like')}, none ${count('none')}; candidates ${rows.filter((r) => r.is_candidate).length} of ${rows.length}`;
}

export function register(program: Command): void {
  program
    .command('start')
    .description('demo: simulate cutouts, detect AGN, measure completeness; results in catalogs/demo/')
    .option('--out <dir>', 'output folder', path.join('catalogs', 'demo'))
    .option('--n <n>', 'cutouts to simulate', '1000')
    .option('--seed <n>', 'simulation seed (never a training or calibration seed)', '7')
    .action(async (options: StartOptions) => {
      const started = performance.now();
      const n = numberOption('--n', options.n, { min: 10, integer: true });
      const seed = numberOption('--seed', options.seed, { min: 0, integer: true });
      const say = (line: string) => process.stdout.write(`${line}\n`);
      const sims = path.join(options.out, 'sims');
      await rm(sims, { recursive: true, force: true });
      await ensureOutputDir(options.out);
      say(`simulating ${n} Euclid VIS-like cutouts (40% normal galaxies, AGN and QSOs with f_PS 0.05-0.5, stars)...`);
      const simulated = await simulateCutouts({ count: n, seed, out: sims, recipe: buildRecipe({ mix: 'grid', gridFps: DEMO_FPS }) });
      const cardPath = defaultCardPath();
      const card = readCard(cardPath).card;
      const config = defaultDetectionSettings(card);
      say(`detecting with ${card.name} (${config.samples} regenerations per source)...`);
      const threads = 2;
      const summary = await runDetection({ inputs: [path.join(sims, 'cutouts')], out: options.out, cardPath, device: 'cpu', threads: 1, workers: availableParallelism(), batch: 128, settings: config });
      const catalog = await readCatalog(summary.catalog);
      const truth = await readTruthTable(simulated.truth);
      const report = evaluateAgainstTruth(catalog.rows.map(scoredObject), truth, { fpsBins: 'exact' });
      const [byFps] = truthPlots(report);
      const selection = card.significance?.combined === undefined ? 'agn_z' : 'combined_z';
      const plot = await renderChart({ ...byFps!.chart, subtitle: `${n} simulated cutouts, ${card.name}; selection ${selection} > ${config.thresholds.z}; bars: 68% Wilson intervals` });
      const plotPaths = await writeFigure(path.join(options.out, 'completeness'), plot);
      const pick = [...catalog.rows].filter((r) => r.candidate_class === 'agn').sort((a, b) => (selectionScore(b).z ?? 0) - (selectionScore(a).z ?? 0))[0] ?? catalog.rows[0]!;
      const generator = await CoreGenerator.load(cardPath, { device: 'cpu', threads });
      let panelPaths: { svg: string; png: string };
      try {
        const inspection = await inspectCutout(pick.source_file, generator, config);
        panelPaths = await writeFigure(path.join(options.out, `inspect-${pick.object_id}`), inspection.panel);
      } finally {
        await generator.release();
      }
      await writeAtomically(path.join(options.out, 'report.md'), (file) => file.write(Buffer.from(`${demoSummary(report)}\n`)));
      say('');
      say(classCounts(catalog.rows));
      say(demoSummary(report));
      say('');
      say(`catalogue:        ${summary.catalog} (vis-agn export ${summary.catalog} --format csv|parquet|fits|ds9)`);
      say(`completeness:     ${plotPaths.png} (and .svg)`);
      say(`inspection panel: ${panelPaths.png} (and .svg)`);
      say(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    });
}
