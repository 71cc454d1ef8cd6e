/** No import circles in src (type imports count), checked by `pnpm lint` (issue #24). */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [{ name: 'no-circular', severity: 'error', from: {}, to: { circular: true } }],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // Other packages of the workspace (and their built dist/, when one exists) are theirs to check.
    doNotFollow: { path: ['node_modules', '^\\.\\./\\.\\./(packages|apps)/'] },
    exclude: { path: ['node_modules', '^\\.\\./\\.\\./(packages|apps)/'] },
  },
}
