import { defineConfig } from 'vitest/config'
import { sourceConditions } from '../../vitest.shared'

export default defineConfig({
  ...sourceConditions,
  test: {
    include: ['test/**/*.test.ts'],
    // Several tests generate RSA-2048 keys and certificates (generateTestMerchant and friends):
    // well under a second on a quiet machine, past vitest's 5 s default when CI runs the packages
    // side by side on 2 cores. These are limits for a stuck test, not timed assertions.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
})
