/**
 * ds9 region file of the candidates (`is_candidate`): an icrs circle at each ra/dec (the catalogue's
 * frame; fk5 would be J2000 FK5, off ICRS by up to tens of mas), labelled with the
 * object id and class and coloured by class, to load over the VIS image (Region > Open). A candidate
 * without sky coordinates cannot be drawn; it is listed in a comment line rather than dropped unseen.
 */

import { writeAtomically } from '../atomic-file.js';
import { rowAt, type CatalogSource } from './batch.js';
import type { CandidateClass } from '../detect/detect.js';
import type { CatalogRow } from './schema.js';

export const CLASS_COLOURS: { readonly [C in CandidateClass]: string } = {
  agn: 'red',
  qso: 'magenta',
  point_like: 'cyan',
  none: 'yellow',
};

/** Large enough to see around a VIS galaxy core (10 pixels of 0.1"), small enough not to hide neighbours. */
export const REGION_RADIUS_ARCSEC = 1;

function header(source: CatalogSource): string[] {
  const { modelName, modelCardSha256, createdAt } = source.metadata;
  return [
    '# Region file format: DS9 version 4.1',
    `# vis-agn AGN/QSO candidates; model ${modelName.replace(/[\r\n]/g, ' ')} (card sha256 ${modelCardSha256.slice(0, 12)}), created ${createdAt}`,
    'global color=green dashlist=8 3 width=1 font="helvetica 10 normal roman" select=1 highlite=1 dash=0 fixed=0 edit=1 move=1 delete=1 include=1 source=1',
    'icrs',
  ];
}

function regionLine(row: CatalogRow): string {
  const label = `${row.object_id} ${row.candidate_class}`;
  if (row.ra === null || row.dec === null) return `# ${label}: no ra/dec, not drawn`;
  const colour = CLASS_COLOURS[row.candidate_class];
  return `circle(${row.ra.toFixed(8)},${row.dec.toFixed(8)},${REGION_RADIUS_ARCSEC}") # color=${colour} text={${label}}`;
}

/** Writes the candidates of `source` as a ds9 region file; resolves to the number of candidates. */
export async function writeDs9Regions(target: string, source: CatalogSource): Promise<number> {
  return writeAtomically(target, async (file) => {
    await file.write(Buffer.from(header(source).join('\n') + '\n', 'utf8'));
    let candidates = 0;
    for await (const batch of source.batches) {
      const lines: string[] = [];
      for (let i = 0; i < batch.length; i++) {
        const row = rowAt(batch, i);
        if (!row.is_candidate) continue;
        lines.push(regionLine(row) + '\n');
        candidates++;
      }
      await file.write(Buffer.from(lines.join(''), 'utf8'));
    }
    return candidates;
  });
}
