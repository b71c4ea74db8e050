/** ESM TypeScript through ts-jest; sources import with `.js` suffixes as NodeNext requires. */
export default {
  testEnvironment: '<rootDir>/test/helpers/node-environment.cjs',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 120000,
  reporters: ['default', '<rootDir>/test/helpers/summary-reporter.cjs'],
};
