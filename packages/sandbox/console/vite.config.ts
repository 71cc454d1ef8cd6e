// The sandbox console: a Vue app the sandbox serves under /__sandbox/ (src/routes/page.ts).
// `pnpm --filter @fen/sandbox build:console` builds it into console/dist.
import { fileURLToPath } from 'node:url'
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vite'

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // The page and its assets are served by the sandbox at /__sandbox/ (also behind the H5 dev
  // server's /__sandbox proxy), and it calls the sandbox's API at /__sandbox/… on the same origin.
  base: '/__sandbox/',
  plugins: [vue()],
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', reportCompressedSize: false },
})
