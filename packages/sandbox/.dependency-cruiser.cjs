/**
 * The sandbox's import graph has no circles (`pnpm lint` runs this). Type imports count
 * (`tsPreCompilationDeps`): a type both sides need lives in a lower module of its own.
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
    // Other packages of the workspace (and their built dist/, when one exists) are theirs to check.
    doNotFollow: { path: ['node_modules', '^\\.\\./\\.\\./(packages|apps)/'] },
    exclude: { path: ['node_modules', '^\\.\\./\\.\\./(packages|apps)/'] },
  },
}
