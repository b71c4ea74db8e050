/**
 * `vis-agn inject INPUT... --out DIR [--fps 0.05,0.1,0.2,0.3,0.5]`: injection–recovery on real or
 * simulated cutouts; writes DIR/injection.json, DIR/injection.md and the plot DIR/injection.svg and .png.
 */

import path from 'node:path';

import type { Command } from 'commander';

import { ensureOutputDir, writeAtomically } from '../../atomic-file.js';
import { runInjection, type InjectionReport } from '../../batch/inject.js';
import { formatProportion, markdownRow, markdownRule } from '../../completeness/stats.js';
import { UsageError } from '../../errors.js';
import { renderChart, type Chart } from '../../inspect/charts.js';
import { writeFigure } from '../../inspect/figure.js';
import { proportionPoint } from '../../inspect/report-plots.js';
import { overwriteOption, refuseToOverwrite } from '../overwrite.js';
import { detectionOptions, numberOption, scoringOptionsFrom, type DetectionCommandOptions } from '../options.js';
import { stderrProgress } from '../progress.js';

interface InjectCommandOptions extends DetectionCommandOptions {
  out: string;
  fps: string;
  magBins: string;
  overwrite?: boolean;
}

function numberList(name: string, text: string): number[] {
  const values = text.split(',').map((s) => numberOption(name, s.trim()));
  if (values.length === 0) throw new UsageError(`${name} needs at least one value`);
  return values;
}

function formatInjectionReport(report: InjectionReport): string {
  const overall = report.cells.filter((c) => c.mag === null);
  const lines = [
    `${report.sources} cutouts${report.unreadable > 0 ? ` (${report.unreadable} unreadable)` : ''}; selected as they are: ${formatProportion(report.selectedAsIs)}`,
    '',
    markdownRow(['injected f_PS', 'completeness (68% Wilson interval)', 'median estimated f_ps']),
    markdownRule(3),
    ...overall.map((c) => markdownRow([c.fps.toFixed(3), formatProportion(c.completeness), c.medianFpsEstimate?.toFixed(3) ?? 'n/a'])),
  ];
  const mags = [...new Map(report.cells.filter((c) => c.mag !== null).map((c) => [c.mag!.join(), c.mag!])).values()];
  if (mags.length > 0) {
    lines.push('', markdownRow(['I_E', ...overall.map((c) => `f_PS ${c.fps}`)]), markdownRule(overall.length + 1));
    for (const mag of mags) {
      const row = overall.map((o) => report.cells.find((c) => c.fps === o.fps && c.mag?.join() === mag.join())!);
      lines.push(markdownRow([`${mag[0]}–${mag[1]}`, ...row.map((c) => formatProportion(c.completeness))]));
    }
  }
  return lines.join('\n');
}

/** Completeness against injected f_PS, over all sources and per magnitude bin of the originals. */
function injectionChart(report: InjectionReport): Chart {
  const overall = report.cells.filter((c) => c.mag === null);
  const mags = [...new Map(report.cells.filter((c) => c.mag !== null && c.completeness.trials > 0).map((c) => [c.mag!.join(), c.mag!])).values()];
  const points = (mag: readonly [number, number] | null) =>
    overall.map((o) => {
      const c = report.cells.find((x) => x.fps === o.fps && (mag === null ? x.mag === null : x.mag?.join() === mag.join()))!;
      return proportionPoint(c.fps, c.completeness);
    });
  return {
    title: 'injection-recovery completeness',
    subtitle: `${report.sources} cutouts, a PSF point source added at each f_PS; bars: 68% Wilson intervals`,
    xTitle: 'injected f_PS',
    yTitle: 'completeness',
    yDomain: [0, 1],
    series: [{ label: 'all sources', points: points(null) }, ...mags.map((m) => ({ label: `I_E ${m[0]}–${m[1]}`, points: points(m), dashed: true }))],
  };
}

export function register(program: Command): void {
  detectionOptions(
    overwriteOption(program
      .command('inject'))
      .description('injection-recovery: add PSF point sources of chosen f_PS to cutouts and measure how many are recovered')
      .argument('<inputs...>', 'cutout FITS files, or folders of them')
      .requiredOption('--out <dir>', 'output folder for injection.json, injection.md, injection.svg and injection.png')
      .option('--fps <list>', 'f_PS values to inject, comma-separated, each in (0, 1)', '0.02,0.05,0.1,0.2,0.3,0.5')
      .option('--mag-bins <edges>', 'magnitude bin edges of the original sources', '19,20,21,22,23,24,25'),
  ).action(async (inputs: string[], options: InjectCommandOptions) => {
    const fps = numberList('--fps', options.fps);
    if (fps.some((f) => !(f > 0 && f < 1))) throw new UsageError(`--fps values must lie in (0, 1), got ${options.fps}`);
    const magEdges = numberList('--mag-bins', options.magBins);
    const { cardPath, device, threads, batch, settings } = scoringOptionsFrom(options);
    const outputs = ['injection.json', 'injection.md', 'injection.svg', 'injection.png'].map((name) => path.join(options.out, name));
    refuseToOverwrite(outputs, options.overwrite);
    const report = await runInjection({
      inputs,
      fps,
      magEdges,
      cardPath,
      device,
      threads,
      batch,
      settings,
      onProgress: stderrProgress('inject', options.quiet === true),
      onInputError: (_file, error) => process.stderr.write(`inject: skipped: ${error.message}\n`),
    });
    await ensureOutputDir(options.out);
    const { results, ...summary } = report;
    const json = JSON.stringify({ ...summary, results: results.map((r) => ({ ...r, objectId: String(r.objectId) })) }, null, 1);
    await writeAtomically(path.join(options.out, 'injection.json'), (file) => file.write(Buffer.from(`${json}\n`)));
    const table = formatInjectionReport(report);
    await writeAtomically(path.join(options.out, 'injection.md'), (file) => file.write(Buffer.from(`${table}\n`)));
    await writeFigure(path.join(options.out, 'injection'), await renderChart(injectionChart(report)));
    process.stdout.write(`${table}\n`);
  });
}
