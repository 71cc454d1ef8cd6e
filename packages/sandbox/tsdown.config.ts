import { defineConfig } from 'tsdown'
import { packageBuild } from '../../tsdown.base'

export default defineConfig([
  // ESM: the library and the `fen-sandbox` bin (its shebang is kept), sharing their chunks. The
  // bin awaits at its top level, so it has no CommonJS build.
  { ...packageBuild, entry: { index: 'src/index.ts', cli: 'src/cli.ts' }, format: ['esm'] },
  { ...packageBuild, entry: { index: 'src/index.ts' }, format: ['cjs'] },
])
