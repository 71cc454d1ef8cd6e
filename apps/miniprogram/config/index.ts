import path from 'node:path'
import { defineConfig, type UserConfigExport } from '@tarojs/cli'

/**
 * Taro 4 (webpack5 runner). Build-time settings, all from the environment:
 * - FEN_SANDBOX=1: sandbox mode — login codes and payments go through the Fen sandbox (its cashier
 *   page is compiled in). Off in production builds, which then contain no sandbox code.
 * - FEN_API_BASE: the server's URL (weapp default http://127.0.0.1:3000; H5 default '' — same
 *   origin, the dev server proxies /api).
 * - FEN_SANDBOX_URL: the sandbox's URL in sandbox mode (weapp default http://127.0.0.1:3100; H5 '').
 * - FEN_OUTPUT_ROOT: where the build goes (default dist/<platform>).
 */
const sandbox = process.env.FEN_SANDBOX === '1'
const h5 = process.env.TARO_ENV === 'h5'
const apiBase = process.env.FEN_API_BASE ?? (h5 ? '' : 'http://127.0.0.1:3000')
const sandboxUrl = process.env.FEN_SANDBOX_URL ?? (h5 ? '' : 'http://127.0.0.1:3100')

// Workspace packages are read from their TypeScript source (the `@fen/source` export condition,
// docs/decisions.md), so Taro's babel-loader must compile them too.
const workspaceSources = [path.resolve(__dirname, '../../../packages/shared/src')]

interface Chain {
  resolve: { set(key: string, value: unknown): unknown }
  plugins: { has(name: string): boolean }
  plugin(name: string): { tap(f: (args: unknown[]) => unknown[]): unknown }
}

/**
 * `@fen/source` first, then webpack's own conditions ('...'): `@fen/shared` resolves to its src/.
 * And when the output is not a terminal (`pnpm dev` pipes it, CI logs it), no progress bar: Taro
 * always adds webpackbar's 'fancy' reporter, which writes cursor escape codes into a log. Its
 * 'basic' reporter (one line per build) and Taro's warnings/errors reporter stay.
 */
function taroChain(chain: Chain): void {
  chain.resolve.set('conditionNames', ['@fen/source', '...'])
  if (!process.stdout.isTTY && chain.plugins.has('webpackbar')) {
    chain.plugin('webpackbar').tap((args) => {
      const options = (args[0] ?? {}) as { reporters?: unknown[] }
      return [{ ...options, reporters: (options.reporters ?? []).filter((r) => r !== 'fancy') }]
    })
  }
}

export default defineConfig<'webpack5'>(async () => {
  const config: UserConfigExport<'webpack5'> = {
    projectName: 'fen-miniprogram',
    date: '2026-11-22',
    designWidth: 750,
    deviceRatio: { 640: 2.34 / 2, 750: 1, 375: 2, 828: 1.81 / 2 },
    sourceRoot: 'src',
    outputRoot: process.env.FEN_OUTPUT_ROOT ?? `dist/${process.env.TARO_ENV}`,
    alias: { '@': path.resolve(__dirname, '..', 'src') },
    plugins: [],
    defineConstants: {
      FEN_SANDBOX: JSON.stringify(sandbox),
      FEN_API_BASE: JSON.stringify(apiBase),
      FEN_SANDBOX_URL: JSON.stringify(sandbox ? sandboxUrl : ''),
    },
    copy: { patterns: [], options: {} },
    framework: 'vue3',
    // Prebundling (dev watch only) crashes in @tarojs/webpack5-prebundle 4.2.0 with this pnpm
    // layout (`options.roots.map is not a function`, then `_writeVirtualFile is not a function`).
    compiler: { type: 'webpack5', prebundle: { enable: false } },
    cache: { enable: process.env.TARO_CACHE === '1' },
    mini: {
      compile: { include: workspaceSources },
      webpackChain: taroChain,
      postcss: { pxtransform: { enable: true, config: {} }, cssModules: { enable: false } },
    },
    h5: {
      publicPath: '/',
      staticDirectory: 'static',
      router: { mode: 'hash' },
      compile: { include: workspaceSources },
      webpackChain: taroChain,
      devServer: {
        host: '127.0.0.1',
        port: Number(process.env.FEN_H5_PORT ?? 10086),
        // Same origin for the browser: the API and the sandbox behind the dev server.
        proxy: {
          '/api': {
            target: process.env.FEN_SERVER_URL ?? 'http://127.0.0.1:3000',
            changeOrigin: true,
          },
          // The catalogue's images, served by the Fen server (src/api/products.ts imageSrc).
          '/static': {
            target: process.env.FEN_SERVER_URL ?? 'http://127.0.0.1:3000',
            changeOrigin: true,
          },
          '/__sandbox': {
            target: process.env.FEN_SANDBOX_PROXY ?? 'http://127.0.0.1:3100',
            changeOrigin: true,
          },
        },
      },
      // [contenthash], not [hash]: webpack 5 prints a DeprecationWarning for [hash] on every build.
      output: {
        filename: 'js/[name].[contenthash:8].js',
        chunkFilename: 'js/[name].[chunkhash:8].js',
      },
      miniCssExtractPluginOption: {
        ignoreOrder: true,
        filename: 'css/[name].[contenthash].css',
        chunkFilename: 'css/[name].[chunkhash].css',
      },
      postcss: { autoprefixer: { enable: true, config: {} }, cssModules: { enable: false } },
    },
  }
  return config
})
