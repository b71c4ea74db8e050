import { Rng, deriveKey } from '../../src/random.js';
import { BROAD_POPULATION, drawLaw, drawSource, REALISTIC_POPULATION, STRESS_POPULATION, type PopulationRecipe, type Source } from '../../src/sim/population.js';
import { buildRecipe, DEFAULT_RECIPE } from '../../src/sim/recipe.js';
import { UsageError } from '../../src/errors.js';

function draw(recipe: PopulationRecipe, count: number, seed: number): Source[] {
  const rng = new Rng(deriveKey(seed));
  return Array.from({ length: count }, () => drawSource(rng, recipe, 0, 0));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

describe('the realistic population (docs/simulator.md, with its sources)', () => {
  const sources = draw(REALISTIC_POPULATION, 12000, 7);
  const galaxies = sources.filter((s) => s.cls === 'galaxy' && s.mag < 24.5);

  test('is the default', () => {
    expect(DEFAULT_RECIPE.population.name).toBe('realistic');
  });

  test('stars are 10-20% of sources', () => {
    const stars = sources.filter((s) => s.cls === 'star').length / sources.length;
    expect(stars).toBeGreaterThan(0.1);
    expect(stars).toBeLessThan(0.2);
  });

  test('only a few per cent of galaxies brighter than 24.5 are below 0.07" (unresolved by VIS)', () => {
    const unresolved = galaxies.filter((s) => s.host!.re < 0.7).length / galaxies.length;
    expect(unresolved).toBeGreaterThan(0.005);
    expect(unresolved).toBeLessThan(0.05);
  });

  test('nuclear star clusters are common but faint: median 0.3-0.5% of the light, never above 5%', () => {
    const hosts = galaxies.filter((s) => s.host!.kind !== 'compact' && s.host!.kind !== 'irregular');
    const nucleated = hosts.filter((s) => s.host!.nucleusFraction > 0);
    expect(nucleated.length / hosts.length).toBeGreaterThan(0.5);
    expect(nucleated.length / hosts.length).toBeLessThan(0.9);
    const fractions = nucleated.map((s) => s.host!.nucleusFraction);
    expect(median(fractions)).toBeGreaterThan(0.003);
    expect(median(fractions)).toBeLessThan(0.005);
    expect(Math.max(...fractions)).toBeLessThanOrEqual(0.05);
  });

  test('bulge-to-total has a median near 0.1 in disks and spirals', () => {
    const bt = galaxies.filter((s) => s.host!.kind === 'disk' || s.host!.kind === 'spiral').map((s) => s.host!.bulgeToTotal);
    expect(median(bt)).toBeGreaterThan(0.07);
    expect(median(bt)).toBeLessThan(0.14);
  });

  test('sizes follow log10 Re = -0.42 - 0.115 (I - 22) for disks, within the scatter', () => {
    const disks = galaxies.filter((s) => s.host!.kind === 'disk' && s.mag > 21.5 && s.mag < 22.5);
    const reArcsec = median(disks.map((s) => s.host!.re * 0.1));
    expect(Math.log10(reArcsec)).toBeCloseTo(-0.42, 1);
  });
});

describe('the stress population', () => {
  test('keeps many unresolved compact hosts and bright nuclei that the realistic one does not', () => {
    const brightNuclei = (recipe: PopulationRecipe) => draw(recipe, 4000, 3).filter((s) => (s.host?.nucleusFraction ?? 0) > 0.1).length;
    const unresolved = (recipe: PopulationRecipe) => draw(recipe, 4000, 3).filter((s) => s.host !== undefined && s.mag < 24.5 && s.host.re < 0.7).length;
    expect(brightNuclei(STRESS_POPULATION)).toBeGreaterThan(200);
    expect(brightNuclei(REALISTIC_POPULATION)).toBe(0);
    expect(unresolved(STRESS_POPULATION)).toBeGreaterThan(3 * unresolved(REALISTIC_POPULATION));
  });

  test('is chosen by name, and an unknown name is a usage error naming the choices', () => {
    expect(buildRecipe({ population: 'stress' }).population.name).toBe('stress');
    expect(buildRecipe({ population: 'stress', mix: 'grid' }).population.nucleus.probability).toBe(0.15);
    expect(() => buildRecipe({ population: 'sky' })).toThrow(UsageError);
    expect(() => buildRecipe({ population: 'sky' })).toThrow(/realistic, stress, broad/);
  });
});

describe('laws', () => {
  test('a clipped log-normal stays within its limits and centres on its median', () => {
    const rng = new Rng(deriveKey(11));
    const law = { law: 'lognormal', median: 0.004, dex: 0.45, min: 0.0005, max: 0.05 } as const;
    const values = Array.from({ length: 5000 }, () => drawLaw(rng, law));
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0.0005);
    expect(Math.max(...values)).toBeLessThanOrEqual(0.05);
    expect(median(values)).toBeGreaterThan(0.0037);
    expect(median(values)).toBeLessThan(0.0043);
  });
});

describe('the broad training prior', () => {
  const galaxies = draw(BROAD_POPULATION, 12000, 11).filter((s) => s.cls === 'galaxy' && s.mag < 24.5);
  const realistic = draw(REALISTIC_POPULATION, 12000, 11).filter((s) => s.cls === 'galaxy' && s.mag < 24.5);
  const bulgeToTotal = (sources: Source[]) => sources.filter((s) => s.host!.kind === 'disk').map((s) => s.host!.bulgeToTotal);
  const share = (values: number[], above: number) => values.filter((v) => v > above).length / values.length;

  test('spreads bulges well past what the realistic sky holds: a third of its disks have B/T above 0.4, against 7% in the realistic population', () => {
    expect(share(bulgeToTotal(galaxies), 0.4)).toBeGreaterThan(0.25);
    expect(share(bulgeToTotal(realistic), 0.4)).toBeLessThan(0.1);
    expect(Math.max(...bulgeToTotal(galaxies))).toBeLessThanOrEqual(0.6);
  });

  test('keeps the realistic physics: stars, faint nuclei, few unresolved galaxies', () => {
    const sources = draw(BROAD_POPULATION, 6000, 12);
    expect(sources.filter((s) => s.cls === 'star').length / sources.length).toBeGreaterThan(0.1);
    expect(Math.max(...galaxies.map((s) => s.host!.nucleusFraction))).toBeLessThanOrEqual(0.05);
    expect(galaxies.filter((s) => s.host!.re < 0.7).length / galaxies.length).toBeLessThan(0.05);
  });

  test('is chosen by name and recorded as such', () => {
    expect(buildRecipe({ population: 'broad' }).population.name).toBe('broad');
  });
});

describe('unresolved components', () => {
  // Whole galaxies below the resolution limit exist (the size law's tail); a compact component inside a larger galaxy must not.
  test('a realistic disk or irregular has no unresolved bulge or knot (VIS would see a point source); the stress population has them', () => {
    const smallest = (recipe: PopulationRecipe) =>
      Math.min(
        ...draw(recipe, 3000, 9)
          .filter((s) => s.host !== undefined && s.host.kind !== 'spheroid')
          .flatMap((s) => s.components.filter((c) => c.role === 'bulge' || c.role === 'knot').map((c) => c.re)),
      );
    expect(smallest(REALISTIC_POPULATION)).toBeGreaterThanOrEqual(0.7);
    expect(smallest(BROAD_POPULATION)).toBeGreaterThanOrEqual(0.7);
    expect(smallest(STRESS_POPULATION)).toBeLessThan(0.5);
  });
});
