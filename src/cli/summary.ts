/** What `run` prints when it ends: counts by class and flag, what was not scored and where the reasons are. */

import type { RunSummary } from '../batch/run.js';
import { FAILURE_FLAGS, FLAGS } from '../ground/flags.js';

export function formatSummary(summary: RunSummary): string {
  const c = summary.byClass;
  return [
    `${summary.sources} sources in ${summary.seconds.toFixed(1)} s (${(summary.sources / summary.seconds).toFixed(0)}/s on ${summary.provider})`,
    `candidates: ${summary.candidates} (agn ${c.agn}, qso ${c.qso}); point-like ${c.point_like}; none ${c.none}`,
    `flagged rows: ${summary.flagged}${summary.flagged > 0 ? ` (${flagCounts(FLAGS.map((flag) => flag.name), summary.byFlag)})` : ''}${summary.unreadable > 0 ? `, of which ${summary.unreadable} unreadable inputs` : ''}`,
    ...(summary.failed > 0 ? [`not scored: ${summary.failed} (${flagCounts(FAILURE_FLAGS, summary.byFlag)}); reasons in ${summary.errors}`] : []),
    `catalogue: ${summary.catalog}`,
  ].join('\n');
}

/** "corrupt_input 3, scoring_failed 1": those of `names` that occur, with their row counts (a row may carry several). */
function flagCounts(names: readonly string[], byFlag: Readonly<Record<string, number>>): string {
  return names.filter((name) => (byFlag[name] ?? 0) > 0)
    .map((name) => `${name} ${byFlag[name]}`)
    .join(', ');
}
