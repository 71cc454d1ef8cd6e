import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// The outside-consumer test (`pnpm test:consumer`): its own config, as it runs against the packed
// packages, not the workspace's sources, and its steps (pack, npm install, tsc) are slow.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  test: {
    include: ['*.test.ts'],
    reporters: ['verbose'],
    testTimeout: 120_000,
    hookTimeout: 30_000,
  },
})
