import { defineConfig } from 'vitest/config'
import { sourceConditions } from '../../vitest.shared'

export default defineConfig({
  ...sourceConditions,
  test: {
    include: ['test/**/*.test.ts'],
    // Sandbox keys and a migrated PGlite template, made once per run (see the file).
    globalSetup: ['test/global-setup.ts'],
    // Every suite starts a sandbox, a database and the server: give hooks and tests room.
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
})
