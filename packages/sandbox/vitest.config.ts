import { defineConfig } from 'vitest/config'
import { sourceConditions } from '../../vitest.shared'

export default defineConfig({
  ...sourceConditions,
  test: {
    // Most suites generate RSA keys in beforeAll: seconds each when the machine is busy (CI runs
    // the packages side by side on 2 cores), past vitest's 10 s default.
    hookTimeout: 60_000,
    include: ['test/**/*.test.ts'],
    // One sandbox key set per run (see the file).
    globalSetup: ['test/global-setup.ts'],
  },
})
