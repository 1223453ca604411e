/**
 * Five tiers, one folder each under test/, one command (`npm test` runs them all;
 * `npm run test:unit|test:workflow|test:integration|test:e2e|test:cluster` runs one):
 *   unit         pure logic, no Temporal and no sockets: seconds, for the edit-test loop;
 *   workflow     the journey on a real worker with mocked activities, on Temporal's time-skipping
 *                test server: every timer path in journey time, without waiting for it;
 *   integration  the receiver, worker and journeys against a real Temporal dev server;
 *   e2e          the browser, the deployment files, the production entry points, fault injection;
 *   cluster      the production topology: a Temporal cluster on PostgreSQL, faults and load.
 */
const base = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  // Build output and the production test's image copy are not modules of ours to map.
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/.data/'],
};
const withTemporal = {
  ...base,
  // One real Temporal dev server for the run (started once, whichever tier asks first).
  globalSetup: '<rootDir>/test/support/globalSetup.ts',
  globalTeardown: '<rootDir>/test/support/globalTeardown.ts',
};

/** A tier is a folder: a new test joins the tier of the folder it is written in. */
const tier = (name) => [`<rootDir>/test/${name}/**/*.test.ts`];

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    { ...base, displayName: 'unit', testMatch: tier('unit') },
    {
      ...base,
      displayName: 'workflow',
      testMatch: tier('workflow'),
      globalSetup: '<rootDir>/test/support/workflowTierSetup.ts',
    },
    { ...withTemporal, displayName: 'integration', testMatch: tier('integration') },
    {
      ...withTemporal,
      displayName: 'e2e',
      testMatch: tier('e2e'),
      setupFilesAfterEnv: ['<rootDir>/test/support/longTimeout.ts'],
    },
    {
      ...withTemporal,
      displayName: 'cluster',
      testMatch: tier('cluster'),
      setupFilesAfterEnv: ['<rootDir>/test/support/longTimeout.ts'],
    },
  ],
  // Integration tests drive a real Temporal dev server: timers and retries take real seconds.
  // Jest reads this option only here, for every project; the e2e tier raises it for itself.
  testTimeout: 120_000,
  // Every test closes its workers, connections and servers; this is the backstop for the Temporal
  // Runtime's log poller, which a native object left registered by the SDK would keep alive, so that
  // a finished run can never hang CI.
  forceExit: true,
};
