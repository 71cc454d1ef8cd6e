/**
 * What every package's `pnpm lint` checks of its import graph (issue #24): no circles, type imports
 * counted (`tsPreCompilationDeps`: a type both sides need lives in a lower module of its own). Each
 * package's `.dependency-cruiser.cjs` extends this (the server adds its layers). The workspace's
 * other packages — and their built dist/, when one exists — are theirs to check, so they are not
 * followed.
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
    doNotFollow: { path: ['node_modules', '^\\.\\./(\\.\\./)?(packages|apps|bench|test)/'] },
    exclude: { path: ['node_modules', '^\\.\\./(\\.\\./)?(packages|apps|bench|test)/'] },
  },
}
