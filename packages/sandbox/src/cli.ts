/**
 * `pnpm sandbox`: the Fen sandbox on SANDBOX_HOST (127.0.0.1) : SANDBOX_PORT (3100).
 *
 * Keys: SANDBOX_KEYS=<file> uses that keys file; otherwise `.sandbox/keys.json` at the repository
 * root, generated on the first start and kept (git-ignored). SANDBOX_TIME_SCALE (default 1) speeds
 * up sandbox time, e.g. 600 runs WeChat's 24 h notification retry schedule in 144 s.
 * SANDBOX_MODE=publicKey|certificate|both overrides the keys file's platform mode.
 */
import { fileURLToPath } from 'node:url'
import { loadOrCreateKeys, readKeysFile, type PlatformMode } from './keys'
import { startSandbox } from './server'

const keysFile = process.env.SANDBOX_KEYS
const defaultFile = fileURLToPath(new URL('../../../.sandbox/keys.json', import.meta.url))
const { keys, created } = keysFile
  ? { keys: readKeysFile(keysFile), created: false }
  : await loadOrCreateKeys(defaultFile)
const mode = process.env.SANDBOX_MODE as PlatformMode | undefined
if (mode) {
  if (!['publicKey', 'certificate', 'both'].includes(mode)) {
    throw new Error('SANDBOX_MODE must be publicKey, certificate or both')
  }
  keys.platformMode = mode
}
const timeScale = Number(process.env.SANDBOX_TIME_SCALE ?? 1)
const sb = await startSandbox({
  keys,
  host: process.env.SANDBOX_HOST ?? '127.0.0.1',
  port: Number(process.env.SANDBOX_PORT ?? 3100),
  timeScale,
  log: process.env.SANDBOX_QUIET ? undefined : (line) => console.log(`[sandbox] ${line}`),
})
// performance.now() counts from process start: module loading included.
const ms = Math.round(performance.now())
console.log(`Fen sandbox (WeChat Pay, offline) listening on ${sb.url}  (ready in ${ms} ms)
  control page   ${sb.url}/__sandbox/
  merchant       ${sb.merchant.mchid}  appid ${sb.merchant.appid}  mode ${sb.sandbox.platformMode}
  keys           ${keysFile ?? defaultFile}${created ? ' (generated now)' : ''} — TEST KEYS ONLY
  time scale     ${timeScale}×`)

const stop = () => void sb.close().then(() => process.exit(0))
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
