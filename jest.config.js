// Three suites: unit (src, mocked I/O), emulator (the local Azure itself), e2e (dist/index.js as a runner runs it).
const transform = {
  '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.tools.json' }]
}
const common = {
  preset: 'ts-jest/presets/default-esm',
  resolver: 'ts-jest-resolver',
  extensionsToTreatAsEsm: ['.ts'],
  testEnvironment: 'node',
  transform
}

export default {
  // The default reporter, then one line per skipped test and how to run it.
  reporters: ['default', '<rootDir>/scripts/skipped-tests-reporter.js'],
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/__tests__/**/*.test.ts'] },
    {
      ...common,
      displayName: 'emulator',
      testMatch: ['<rootDir>/emulator/__tests__/**/*.test.ts']
    },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/e2e/**/*.test.ts'] }
  ]
}
