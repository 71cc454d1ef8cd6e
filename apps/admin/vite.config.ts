// The operator's console. `pnpm dev` runs this Vite dev server, which proxies /api and /metrics to
// the Fen server; `pnpm --filter @fen/admin build` writes dist/, which the server serves under
// /admin/ when ADMIN_STATIC_DIR points at it (docs/operations.md).
import { fileURLToPath } from 'node:url'
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vite'
import { sourceConditions } from '../../vitest.shared'

const server = process.env.FEN_SERVER_URL ?? 'http://127.0.0.1:3000'

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/admin/',
  plugins: [vue()],
  // @fen/shared's TypeScript source (its `@fen/source` export), not a dist/ that may not be built.
  resolve: sourceConditions.resolve,
  server: {
    port: Number(process.env.FEN_ADMIN_PORT ?? 5174),
    strictPort: true,
    proxy: { '/api': server, '/metrics': server },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Element Plus alone is ~1 MB minified: one vendor chunk, cached across releases of the app.
    chunkSizeWarningLimit: 1200,
    rollupOptions: { output: { manualChunks: { vendor: ['vue', 'vue-router', 'element-plus'] } } },
  },
})
