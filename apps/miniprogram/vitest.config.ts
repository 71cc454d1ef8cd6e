import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'
import { sourceConditions } from '../../vitest.shared'

// Taro's built-in component tags: compiled as plain (custom) elements, so `@tap` becomes a `tap`
// event listener and tests fire it with `trigger('tap')`.
const TARO_TAGS = new Set([
  'view',
  'text',
  'image',
  'icon',
  'block',
  'button',
  'scroll-view',
  'swiper',
  'swiper-item',
  'navigator',
  'input',
  'textarea',
  'picker',
  'checkbox',
  'radio',
  'switch',
  'slider',
  'form',
  'label',
  'rich-text',
  'progress',
  'cover-view',
  'cover-image',
  'movable-area',
  'movable-view',
  'web-view',
])

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url))

export default defineConfig({
  plugins: [
    vue({ template: { compilerOptions: { isCustomElement: (tag) => TARO_TAGS.has(tag) } } }),
  ],
  // Taro's build-time constants (config/index.ts `defineConstants`), as in a weapp production build.
  define: {
    FEN_SANDBOX: 'false',
    FEN_API_BASE: JSON.stringify('http://api.test'),
    FEN_SANDBOX_URL: JSON.stringify('http://sandbox.test'),
    'process.env.TARO_ENV': JSON.stringify('weapp'),
  },
  ssr: sourceConditions.ssr,
  resolve: {
    ...sourceConditions.resolve,
    alias: {
      // The real @tarojs/taro needs Taro's webpack defines (ENABLE_INNER_HTML…): use a stand-in.
      '@tarojs/taro': here('./test/taro-mock.ts'),
      '@': here('./src'),
    },
  },
  test: {
    environment: 'happy-dom',
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
  },
})
