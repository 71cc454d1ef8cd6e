import { defineConfig } from 'tsdown'
import { packageBuild } from '../../tsdown.base'

export default defineConfig({ ...packageBuild, entry: { index: 'src/index.ts' } })
