/**
 * What every published Fen package builds the same way (each package's tsdown.config.ts adds its
 * entries): ESM (.js) and CommonJS (.cjs) for Node ≥ 20, their declarations (.d.ts / .d.cts) and
 * source maps, into dist/. Inside the repo nothing imports dist/: the `@fen/source` export
 * condition points workspace consumers at src/ (docs/decisions.md, "Packages").
 */
export const packageBuild = {
  format: ['esm', 'cjs'] as Array<'esm' | 'cjs'>,
  platform: 'node' as const,
  target: 'node20',
  // .js/.cjs beside .d.ts/.d.cts (the packages are "type": "module"), not .mjs/.d.mts.
  fixedExtension: false,
  dts: true,
  sourcemap: true,
  // import.meta.url (and __dirname) work in both formats, e.g. for a file read beside the bundle.
  shims: true,
  report: { gzip: false },
  checks: { pluginTimings: false },
}
