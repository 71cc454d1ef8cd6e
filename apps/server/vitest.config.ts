import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Every suite starts a sandbox, a database and the server: give hooks and tests room.
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
})
