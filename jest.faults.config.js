/** `npm run test:faults`: the fault-injection suite, each scenario on its own real stack. */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  testMatch: ['<rootDir>/test/faults/**/*.test.ts'],
  testTimeout: 600_000,
};
