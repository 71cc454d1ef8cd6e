/**
 * Vite's resolve conditions with `@fen/source` first, for every vitest config in the repo: a
 * workspace import of `@fen/wechatpay`, `@fen/sandbox` or `@fen/shared` then loads the package's
 * TypeScript source (the condition's target in its `exports`), not a dist/ that may not be built.
 * Vite uses `resolve.conditions` for browser-like test environments (happy-dom) and
 * `ssr.resolve.conditions` for node ones; each list replaces Vite's default, which follows
 * `@fen/source` here. See docs/decisions.md, "Packages".
 */
export const sourceConditions = {
  resolve: { conditions: ['@fen/source', 'module', 'browser', 'development|production'] },
  ssr: { resolve: { conditions: ['@fen/source', 'module', 'node', 'development|production'] } },
  // Vitest 4 loads `globalSetup` files in an environment of its own, `__vitest__`, which reads
  // neither of the two above: without this, a global setup that imports a workspace package
  // (apps/server/test/global-setup.ts imports @fen/sandbox) fails until that package is built.
  environments: {
    __vitest__: {
      resolve: { conditions: ['@fen/source', 'module', 'node', 'development|production'] },
    },
  },
}
