import { defineConfig } from 'vitest/config'
import { sourceConditions } from '../vitest.shared'

export default defineConfig({
  ...sourceConditions,
  test: {
    include: [
      'api/**/*.test.ts',
      'e2e/**/*.test.ts',
      'reliability/**/*.test.ts',
      'hostile/**/*.test.ts',
    ],
    // Sandbox keys and a migrated PGlite template, made once per run for every harness.
    globalSetup: ['../apps/server/test/global-setup.ts'],
    // The summary says how to install a browser when the browser suites were skipped.
    reporters: ['default', './e2e/support/browser-reporter.ts'],
    // Each suite runs a sandbox, a database and the server.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
})
