import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: [
      'api/**/*.test.ts',
      'e2e/**/*.test.ts',
      'reliability/**/*.test.ts',
      'hostile/**/*.test.ts',
    ],
    // Each suite runs a sandbox, a database and the server.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
})
