import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'bench/**/*.test.ts', 'scripts/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          // In-process suites: the sandbox and the adapters, no build needed.
          name: 'contract',
          include: ['test/contract/**/*.test.ts'],
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          // IAM policies proven offline with a policy simulator, and the deployment templates.
          name: 'iam',
          include: ['test/iam/**/*.test.ts'],
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          // Suites that run the built `sgsync` binary as processes.
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['./test/support/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          // Property, fuzz and security suites: hostile and random input, in-process.
          name: 'fuzz',
          include: ['test/fuzz/**/*.test.ts', 'test/security/**/*.test.ts'],
          testTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          // Fault injection: sgsync processes against a misbehaving sandbox, each case ending in an invariant check.
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          globalSetup: ['./test/support/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          // The dashboard in Debian's chromium, driven by playwright-core; needs dist/ for the CLI it compares with.
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          globalSetup: ['./test/support/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // A wait for the page to show something: 1 s (vitest's default) is too short for a reload while every other suite runs too.
          expect: { poll: { timeout: 15_000 } },
        },
      },
    ],
  },
});
