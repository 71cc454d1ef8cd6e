import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { loadEncodingAESKey } from '@fen/wechatpay'
import { hostName, originOf } from '../access'
import { loadOrCreateKeys, readKeysFile, type PlatformMode } from '../keys'
import { startSandbox } from '../server'
import type { WeixinSettings } from '../weixin/ops'
import { usage, type Output } from './common'

/** The flags of `fen-sandbox start`; each defaults to its SANDBOX_* env variable. */
export interface StartFlags {
  host?: string | undefined
  port?: string | undefined
  'backup-port'?: string | undefined
  keys?: string | undefined
  'time-scale'?: string | undefined
  mode?: string | undefined
  'refund-settle-seconds'?: string | undefined
  'payment-grace-seconds'?: string | undefined
  'open-platform'?: boolean | undefined
  'auto-confirm-days'?: string | undefined
  'push-url'?: string | undefined
  'push-token'?: string | undefined
  'push-aes-key'?: string | undefined
  'push-format'?: string | undefined
  'allowed-hosts'?: string | undefined
  'allowed-origins'?: string | undefined
  quiet?: boolean | undefined
}

const MODES: readonly PlatformMode[] = ['publicKey', 'certificate', 'both']

/**
 * `fen-sandbox start`: a sandbox in this process until SIGINT/SIGTERM. Prints the banner (or, with
 * `--json`, a `ready` line) once it listens.
 */
export async function start(
  flags: StartFlags,
  out: Output,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const host = flags.host ?? env.SANDBOX_HOST ?? '127.0.0.1'
  const port = number('--port', 'SANDBOX_PORT', flags.port ?? env.SANDBOX_PORT ?? '3100', (n) =>
    Number.isInteger(n) && n >= 0 && n <= 65535 ? undefined : 'a port number, 0 to 65535',
  )
  const backupText = flags['backup-port'] ?? env.SANDBOX_BACKUP_PORT
  const backupPort =
    backupText === undefined
      ? undefined
      : number('--backup-port', 'SANDBOX_BACKUP_PORT', backupText, (n) =>
          Number.isInteger(n) && n >= 0 && n <= 65535 ? undefined : 'a port number, 0 to 65535',
        )
  const timeScale = number(
    '--time-scale',
    'SANDBOX_TIME_SCALE',
    flags['time-scale'] ?? env.SANDBOX_TIME_SCALE ?? '1',
    (n) => (n > 0 ? undefined : 'a positive number'),
  )
  const settle = number(
    '--refund-settle-seconds',
    'SANDBOX_REFUND_SETTLE_SECONDS',
    flags['refund-settle-seconds'] ?? env.SANDBOX_REFUND_SETTLE_SECONDS ?? '5',
    (n) => (n >= 0 ? undefined : '0 or more seconds'),
  )
  const grace = number(
    '--payment-grace-seconds',
    'SANDBOX_PAYMENT_GRACE_SECONDS',
    flags['payment-grace-seconds'] ?? env.SANDBOX_PAYMENT_GRACE_SECONDS ?? '60',
    (n) => (Number.isInteger(n) && n >= 0 ? undefined : 'a whole number of seconds, 0 or more'),
  )
  const openPlatformBound = flags['open-platform'] ?? env.SANDBOX_OPEN_PLATFORM === '1'
  const mode = flags.mode ?? env.SANDBOX_MODE
  if (mode !== undefined && !MODES.includes(mode as PlatformMode)) {
    throw usage(`${flags.mode ? '--mode' : 'SANDBOX_MODE'} must be publicKey, certificate or both`)
  }
  const quiet = flags.quiet ?? Boolean(env.SANDBOX_QUIET)
  const weixin = weixinSettings(flags, env)
  const allowedHosts = list(
    '--allowed-hosts',
    'SANDBOX_ALLOWED_HOSTS',
    flags['allowed-hosts'] ?? env.SANDBOX_ALLOWED_HOSTS,
    (h) => hostName(h) !== undefined,
    'a host name or address',
  )
  const allowedOrigins = list(
    '--allowed-origins',
    'SANDBOX_ALLOWED_ORIGINS',
    flags['allowed-origins'] ?? env.SANDBOX_ALLOWED_ORIGINS,
    (o) => {
      try {
        originOf(o)
        return true
      } catch {
        return false
      }
    },
    'an origin, http[s]://host[:port]',
  )

  const given = flags.keys ?? env.SANDBOX_KEYS
  const keysFile = given === undefined ? defaultKeysFile() : resolve(given)
  const { keys, created } =
    given === undefined
      ? await loadOrCreateKeys(keysFile)
      : { keys: readKeysFile(keysFile), created: false }
  if (mode) keys.platformMode = mode as PlatformMode

  const sb = await startSandbox({
    keys,
    host,
    port,
    ...(backupPort === undefined ? {} : { backupPort }),
    timeScale,
    // 0 means by hand only: the sandbox's `false`.
    refundSettleSeconds: settle === 0 ? false : settle,
    paymentGraceSeconds: grace,
    openPlatformBound,
    weixin,
    allowedHosts,
    allowedOrigins,
    ...(quiet
      ? {}
      : {
          log: (line: string) =>
            out.print(`[sandbox] ${line}`, { event: 'log', at: new Date().toISOString(), line }),
        }),
  })
  // performance.now() counts from process start: module loading included.
  const ms = Math.round(performance.now())
  out.print(
    `Fen sandbox (WeChat Pay, offline) listening on ${sb.url}  (ready in ${ms} ms)
  control page   ${sb.url}/__sandbox/
  merchant       ${sb.merchant.mchid}  appid ${sb.merchant.appid}  mode ${sb.sandbox.platformMode}
  keys           ${keysFile}${created ? ' (generated now)' : ''} — TEST KEYS ONLY${sb.backupUrl ? `\n  backup host    ${sb.backupUrl}  (WeChat's api2; fault kind unreachable takes the primary down)` : ''}
  time scale     ${timeScale}×   refunds settle ${settle === 0 ? 'by hand only' : `after ${settle} s`}
  message push   ${weixin.push ? `${weixin.push.url} (${weixin.push.encodingAESKey ? '安全模式' : '明文模式'}, ${weixin.push.format})` : 'off (--push-url)'}
  control API    hosts ${[...new Set(['localhost', '127.0.0.1', '[::1]', host, ...allowedHosts])].join(', ')}; origins: its own${allowedOrigins.map((o) => `, ${o}`).join('')}
  try            fen-sandbox listen --forward-to http://localhost:3000/api/pay/notify`,
    {
      event: 'ready',
      url: sb.url,
      ...(sb.backupUrl ? { backupUrl: sb.backupUrl } : {}),
      mchid: sb.merchant.mchid,
      appid: sb.merchant.appid,
      mode: sb.sandbox.platformMode,
      keys: keysFile,
      generated: created,
      timeScale,
      refundSettleSeconds: settle,
      allowedHosts,
      allowedOrigins,
      readyMs: ms,
    },
  )
  await new Promise<void>((done) => {
    const stop = () => void sb.close().then(done)
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
}

/** The mini-program side's flags: auto-confirm period and the message push settings. */
function weixinSettings(flags: StartFlags, env: NodeJS.ProcessEnv): Partial<WeixinSettings> {
  const out: Partial<WeixinSettings> = {}
  const days = flags['auto-confirm-days'] ?? env.SANDBOX_AUTO_CONFIRM_DAYS
  if (days !== undefined && days !== '') {
    out.autoConfirmDays = number('--auto-confirm-days', 'SANDBOX_AUTO_CONFIRM_DAYS', days, (n) =>
      n >= 0 && n <= 365 ? undefined : '0 to 365 days',
    )
  }
  const url = flags['push-url'] ?? env.SANDBOX_PUSH_URL
  const token = flags['push-token'] ?? env.SANDBOX_PUSH_TOKEN
  const key = flags['push-aes-key'] ?? env.SANDBOX_PUSH_AES_KEY
  const format = flags['push-format'] ?? env.SANDBOX_PUSH_FORMAT ?? 'json'
  if (!url) {
    if (token || key)
      throw usage('--push-token / --push-aes-key need --push-url (SANDBOX_PUSH_URL)')
    return out
  }
  try {
    if (!['http:', 'https:'].includes(new URL(url).protocol)) throw new Error()
  } catch {
    throw usage(`--push-url (or SANDBOX_PUSH_URL) must be an http(s) URL, not "${url}"`)
  }
  if (!token) throw usage('--push-url needs --push-token (SANDBOX_PUSH_TOKEN)')
  if (key) {
    try {
      loadEncodingAESKey(key)
    } catch {
      throw usage(
        '--push-aes-key (or SANDBOX_PUSH_AES_KEY) must be the 43-character EncodingAESKey',
      )
    }
  }
  if (format !== 'json' && format !== 'xml') throw usage('--push-format must be json or xml')
  out.push = { url, token, format, ...(key ? { encodingAESKey: key } : {}) }
  return out
}

/** A comma-separated list of `what`s; empty when unset. */
function list(
  flag: string,
  envName: string,
  text: string | undefined,
  valid: (item: string) => boolean,
  what: string,
): string[] {
  const items = (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  const bad = items.find((item) => !valid(item))
  if (bad !== undefined) throw usage(`${flag} (or ${envName}): "${bad}" is not ${what}`)
  return items
}

function number(
  flag: string,
  envName: string,
  text: string,
  check: (n: number) => string | undefined,
): number {
  const n = text.trim() === '' ? NaN : Number(text)
  const problem = Number.isFinite(n) ? check(n) : 'a number'
  if (problem) throw usage(`${flag} (or ${envName}) must be ${problem}, not "${text}"`)
  return n
}

/**
 * `.sandbox/keys.json` in the workspace root — the nearest folder up from the current one that
 * holds `pnpm-workspace.yaml` (so `pnpm sandbox` in this repo keeps the keys at its root) — else
 * in the current folder.
 */
export function defaultKeysFile(cwd = process.cwd()): string {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return join(dir, '.sandbox', 'keys.json')
    if (dirname(dir) === dir) return join(resolve(cwd), '.sandbox', 'keys.json')
  }
}
