/**
 * The benchmarks' import graph has no circles (`pnpm lint` runs this). Type imports count
 * (`tsPreCompilationDeps`). The app and package modules a benchmark imports are not followed: their
 * own packages check them.
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'A module must not import (even a type from) a module that imports it back.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: ['node_modules', '^\\.\\./'] },
    exclude: { path: ['node_modules', '^\\.\\./'] },
  },
}
