import { createPrivateKey } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import { isIP } from 'node:net'
import {
  BACKUP_BASE_URLS,
  DEFAULT_BASE_URL,
  DEFAULT_WECHAT_API_BASE_URL,
  isProductionUrl,
  isTestKey,
  loadApiV3Key,
  loadEncodingAESKey,
  loadPrivateKey,
  loadPublicKey,
  type PlatformKeyOptions,
  PUBLIC_KEY_ID_PREFIX,
} from '@fen/wechatpay'
import type { SandboxMerchant as FenSandboxMerchant } from '@fen/sandbox'
import { z } from 'zod'
import { refusedRangeOf } from './destinations'
import { hasCredentials, redactUrl } from './urls'

/**
 * The server's settings, validated once at start. This is the only module that reads the
 * environment (main.ts passes `process.env` in). Every problem is reported at once, each naming its
 * setting; secrets never appear in messages.
 */
export interface Config {
  port: number
  /**
   * The interface to listen on (HOST): 127.0.0.1 in sandbox mode; otherwise undefined, meaning
   * every interface (Node's default, IPv4 and IPv6).
   */
  host: string | undefined
  /** Behind a load balancer: take the client IP from X-Forwarded-For (rate limits, payer IP). */
  trustProxy: boolean
  /**
   * How many proxies in front append to X-Forwarded-For (0 without TRUST_PROXY): the client is the
   * entry that many places from the right. Entries left of it are written by the client and ignored.
   */
  proxyHops: number
  production: boolean
  /** undefined → embedded PGlite in `dataDir` (dev, demo, tests only). */
  databaseUrl: string | undefined
  dataDir: string
  jwtSecret: string
  /** Lifetime of a login token. */
  jwtTtlSeconds: number
  adminToken: string
  /** Where WeChat reaches us: notify_url is built from it. */
  publicBaseUrl: string
  orderTtlSeconds: number
  /**
   * Days after shipping that an order whose receipt is the shop's (not a JSAPI payment: WeChat
   * does not know its shipping) counts as received, if the shopper did not confirm before.
   */
  orderAutoReceiveDays: number
  /** A request body (a notification's) must arrive within this. */
  bodyTimeoutSeconds: number
  /** Notification bodies read at once; more are answered 503 (WeChat retries). */
  notifyMaxInFlight: number
  /**
   * What one shopper may hold with unpaid orders (their stock is reserved until paid or closed).
   * `maxUnitsPerProduct`: units of one product across them (限购); undefined: no such cap.
   */
  orderLimits: {
    maxOpenOrdersPerUser: number
    maxQuantityPerLine: number
    maxUnitsPerProduct: number | undefined
  }
  /**
   * Automatic approval of shoppers' refund requests (services/refund-requests.ts): a request of at
   * most `maxFen` is approved at once (0: never) while the shopper's automatic approvals over the
   * last 30 days stay within `budgetFen` and `maxCount`; an order shipped (or completed) only with
   * `afterShipping`. Anything else waits for an operator.
   */
  refundAutoApprove: { maxFen: number; budgetFen: number; maxCount: number; afterShipping: boolean }
  logLevel: string
  wechat: {
    appid: string
    appSecret: string
    apiBaseUrl: string
    /**
     * 消息推送 (message push) settings of the mini-program console: the Token and the
     * EncodingAESKey (安全模式). Undefined outside production and sandbox mode when unset: then
     * `/api/wechat/push` answers 404.
     */
    push: { token: string; aesKey: string } | undefined
  }
  wechatpay: {
    apiVersion: 'v3' | 'v2'
    mchid: string
    serialNo: string
    privateKey: string
    apiV3Key: string
    apiV2Key: string | undefined
    /** The WeChat Pay public key (微信支付公钥), when the merchant has one. */
    publicKey: { id: string; pem: string } | undefined
    /**
     * Whether platform certificates are downloaded (and kept fresh) from /v3/certificates: always
     * without a public key; with one, only while migrating from certificates to the public key
     * (each signature is then checked with the key its `Wechatpay-Serial` names).
     */
    platformCertificates: boolean
    baseUrl: string
    /**
     * Failover host of APIv3 (WECHATPAY_BACKUP_BASE_URL): a request that got no HTTP answer from
     * `baseUrl` is sent once more here. undefined: off. APIv2 has no backup.
     */
    backupBaseUrl: string | undefined
  }
  /** The URL of the Fen sandbox the WeChat settings came from, if any. */
  sandboxUrl: string | undefined
  /** ADMIN_STATIC_DIR: the operator's console build (apps/admin/dist), served under /admin/. */
  adminStaticDir: string | undefined
  /** Things worth saying at start (dev defaults in sandbox mode). */
  warnings: string[]
  /** Where the outbox sends events besides the in-process handler (events/sinks.ts). */
  events: {
    /** WEBHOOK_URLS: each gets every event, signed with `webhookSecret`. */
    webhookUrls: string[]
    webhookSecret: string | undefined
    /**
     * WEBHOOK_ALLOW_PRIVATE (default: false in production, true elsewhere): whether a webhook may
     * go to a loopback, link-local, private or shared address, or this server's own.
     */
    allowPrivate: boolean
    /** EVENTS_NATS_URL: JetStream; subjects `<subjectPrefix>.<type>` on `stream` (made if missing). */
    nats: { url: string; stream: string; subjectPrefix: string } | undefined
  }
  /** The daily reconciliation job (jobs/reconciliation.ts). */
  reconcile: {
    /** RECONCILE_ENABLED (default true): whether the job runs; the admin API works either way. */
    enabled: boolean
    /** RECONCILE_AFTER (default `10:00`): Beijing time of day from which yesterday is reconciled. */
    after: string
  }
}

/** A wrong or missing setting. The message lists every problem, one per line. */
export class ConfigError extends Error {
  override name = 'ConfigError'
}

/**
 * Every setting the server reads. Other variables are not ours to judge (FEN_H5_PORT is the H5 dev
 * server's, for one): only a likely typo of one of these gets a warning.
 */
const KNOWN = [
  'PORT',
  'HOST',
  'TRUST_PROXY',
  'NODE_ENV',
  'DATABASE_URL',
  'FEN_DATA_DIR',
  'JWT_SECRET',
  'JWT_TTL_SECONDS',
  'ADMIN_TOKEN',
  'PUBLIC_BASE_URL',
  'LOG_LEVEL',
  'WECHAT_APPID',
  'WECHAT_APPSECRET',
  'WECHAT_API_BASE_URL',
  'WECHAT_PUSH_TOKEN',
  'WECHAT_PUSH_AES_KEY',
  'WECHATPAY_API_VERSION',
  'WECHATPAY_MCHID',
  'WECHATPAY_SERIAL_NO',
  'WECHATPAY_PRIVATE_KEY',
  'WECHATPAY_APIV3_KEY',
  'WECHATPAY_APIV2_KEY',
  'WECHATPAY_PUBLIC_KEY_ID',
  'WECHATPAY_PUBLIC_KEY',
  'WECHATPAY_PLATFORM_CERTIFICATES',
  'WECHATPAY_BASE_URL',
  'ORDER_TTL_SECONDS',
  'ORDER_AUTO_RECEIVE_DAYS',
  'ORDER_MAX_OPEN_PER_USER',
  'BODY_TIMEOUT_SECONDS',
  'NOTIFY_MAX_IN_FLIGHT',
  'ORDER_MAX_QUANTITY_PER_LINE',
  'ORDER_MAX_UNITS_PER_PRODUCT',
  'REFUND_AUTO_APPROVE_MAX_FEN',
  'REFUND_AUTO_APPROVE_BUDGET_FEN',
  'REFUND_AUTO_APPROVE_MAX_COUNT',
  'REFUND_AUTO_APPROVE_SHIPPED',
  'FEN_SANDBOX_URL',
  'WECHATPAY_BACKUP_BASE_URL',
  'WEBHOOK_URLS',
  'WEBHOOK_SECRET',
  'EVENTS_NATS_URL',
  'EVENTS_NATS_STREAM',
  'EVENTS_NATS_SUBJECT_PREFIX',
  'WEBHOOK_ALLOW_PRIVATE',
  'EVENTS_NATS_ALLOW_PLAINTEXT',
  'RECONCILE_ENABLED',
  'RECONCILE_AFTER',
  'ADMIN_STATIC_DIR',
] as const

/** The known setting `name` is most likely a typo of, if any. */
function typoOf(name: string): string | undefined {
  if ((KNOWN as readonly string[]).includes(name)) return undefined
  const squash = (n: string) => n.replaceAll('_', '')
  return KNOWN.find(
    (k) => k.length >= 6 && (squash(k) === squash(name) || editDistance(k, name) === 1),
  )
}

/** Levenshtein distance, small strings only. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(
        prev[j]! + 1,
        row[j - 1]! + 1,
        prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      )
    prev = row
  }
  return prev[b.length]!
}

const optional = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v))
const int = <D extends number | undefined>(def: D, min: number, max: number) =>
  optional.transform((v, ctx): number | D => {
    if (v === undefined) return def
    const n = Number(v)
    if (!Number.isInteger(n) || n < min || n > max) {
      ctx.addIssue({ code: 'custom', message: `must be an integer from ${min} to ${max}` })
      return z.NEVER
    }
    return n
  })
const url = optional.pipe(z.url({ protocol: /^https?$/ }).optional())

const Env = z.object({
  PORT: int(3000, 1, 65535),
  HOST: optional,
  // 0/false: not behind a proxy; 1/true: one proxy; N: N proxies, each appending to X-Forwarded-For.
  TRUST_PROXY: optional.pipe(
    z
      .string()
      .regex(
        /^(true|false|[0-9])$/,
        'must be 0-9 (how many proxies append to X-Forwarded-For), true or false',
      )
      .optional(),
  ),
  NODE_ENV: optional,
  DATABASE_URL: optional,
  FEN_DATA_DIR: optional,
  JWT_SECRET: optional,
  JWT_TTL_SECONDS: int(7200, 60, 30 * 86400),
  ADMIN_TOKEN: optional,
  PUBLIC_BASE_URL: url,
  LOG_LEVEL: optional.pipe(
    z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).optional(),
  ),
  WECHAT_APPID: optional,
  WECHAT_APPSECRET: optional,
  WECHAT_API_BASE_URL: url,
  WECHAT_PUSH_TOKEN: optional,
  WECHAT_PUSH_AES_KEY: optional,
  WECHATPAY_API_VERSION: optional.pipe(z.enum(['v3', 'v2']).optional()),
  WECHATPAY_MCHID: optional,
  WECHATPAY_SERIAL_NO: optional,
  WECHATPAY_PRIVATE_KEY: optional,
  WECHATPAY_APIV3_KEY: optional,
  WECHATPAY_APIV2_KEY: optional,
  WECHATPAY_PUBLIC_KEY_ID: optional,
  WECHATPAY_PUBLIC_KEY: optional,
  WECHATPAY_PLATFORM_CERTIFICATES: optional.pipe(z.enum(['download', 'off']).optional()),
  WECHATPAY_BASE_URL: url,
  ORDER_TTL_SECONDS: int(900, 60, 7 * 86400),
  ORDER_AUTO_RECEIVE_DAYS: int(10, 1, 90),
  ORDER_MAX_OPEN_PER_USER: int(10, 1, 1000),
  BODY_TIMEOUT_SECONDS: int(10, 1, 300),
  NOTIFY_MAX_IN_FLIGHT: int(32, 1, 10_000),
  // The API's own limit is 99 a line.
  ORDER_MAX_QUANTITY_PER_LINE: int(99, 1, 99),
  // 0: no cap.
  ORDER_MAX_UNITS_PER_PRODUCT: int(20, 0, 100_000),
  REFUND_AUTO_APPROVE_MAX_FEN: int(0, 0, 2_147_483_647),
  // Unset: REFUND_AUTO_APPROVE_MAX_FEN (one request at the most in 30 days).
  REFUND_AUTO_APPROVE_BUDGET_FEN: int(undefined, 0, 2_147_483_647),
  REFUND_AUTO_APPROVE_MAX_COUNT: int(3, 0, 1000),
  REFUND_AUTO_APPROVE_SHIPPED: optional.pipe(z.enum(['true', 'false']).default('false')),
  FEN_SANDBOX_URL: url,
  // A URL, or `off` (no failover).
  WECHATPAY_BACKUP_BASE_URL: optional.pipe(
    z.union([z.literal('off'), z.url({ protocol: /^https?$/ })]).optional(),
  ),
  WEBHOOK_URLS: optional,
  WEBHOOK_SECRET: optional,
  ADMIN_STATIC_DIR: optional,
  EVENTS_NATS_URL: optional.pipe(z.url({ protocol: /^(nats|tls)$/ }).optional()),
  EVENTS_NATS_STREAM: optional.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - (a JetStream stream name)')
      .optional(),
  ),
  EVENTS_NATS_SUBJECT_PREFIX: optional.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'dot-separated tokens, no wildcards')
      .optional(),
  ),
  WEBHOOK_ALLOW_PRIVATE: optional.pipe(z.enum(['true', 'false']).optional()),
  EVENTS_NATS_ALLOW_PLAINTEXT: optional.pipe(z.enum(['true', 'false']).optional()),
  RECONCILE_ENABLED: optional.pipe(z.enum(['true', 'false']).default('true')),
  // WeChat's bills of day D are ready at 10:00 Beijing time on D+1.
  RECONCILE_AFTER: optional.pipe(
    z
      .string()
      .regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, 'HH:MM, Beijing time (e.g. 10:00)')
      .default('10:00'),
  ),
})

// What `GET /__sandbox/merchant` gives us (a type only: nothing of the sandbox runs in the server).
type SandboxMerchant = Pick<
  FenSandboxMerchant,
  | 'mchid'
  | 'appid'
  | 'appSecret'
  | 'apiV3Key'
  | 'apiV2Key'
  | 'merchantSerialNo'
  | 'merchantPrivateKey'
  | 'platformMode'
  | 'platformPublicKeyId'
  | 'platformPublicKey'
  | 'backupBaseUrl'
  | 'pushToken'
  | 'pushEncodingAESKey'
>

/**
 * Reads and checks the settings. With `FEN_SANDBOX_URL`, the WeChat settings come from the sandbox's
 * `GET /__sandbox/merchant` and both base URLs point at it (explicit settings still win).
 */
export async function loadConfig(
  env: Record<string, string | undefined>,
  fetchMerchant: (url: string) => Promise<SandboxMerchant> = fetchSandboxMerchant,
): Promise<Config> {
  const problems: string[] = []
  const warnings: string[] = []

  for (const name of Object.keys(env)) {
    const near = typoOf(name)
    if (near)
      warnings.push(`${name} is not a setting of the Fen server: did you mean ${near}? (ignored)`)
  }
  const parsed = Env.safeParse(env)
  if (!parsed.success) {
    for (const issue of parsed.error.issues)
      problems.push(`${issue.path.join('.')}: ${issue.message}`)
    throw new ConfigError(problems.join('\n'))
  }
  const e = parsed.data
  const production = isProduction(e.NODE_ENV)

  // Credentials in a URL would go to every host it names (and fetch refuses such URLs): refused
  // everywhere, the URL never quoted. (NATS's URL is the exception: it is how NATS logs in.)
  for (const name of [
    'PUBLIC_BASE_URL',
    'WECHAT_API_BASE_URL',
    'WECHATPAY_BASE_URL',
    'WECHATPAY_BACKUP_BASE_URL',
    'FEN_SANDBOX_URL',
  ] as const) {
    const value = e[name]
    if (value && hasCredentials(value))
      problems.push(`${name}: must not carry credentials (user:password@)`)
  }

  let sandbox: SandboxMerchant | undefined
  if (e.FEN_SANDBOX_URL) {
    if (production)
      problems.push('FEN_SANDBOX_URL: the sandbox is for development; unset it in production')
    if (hasCredentials(e.FEN_SANDBOX_URL)) throw new ConfigError(problems.join('\n'))
    try {
      sandbox = await fetchMerchant(e.FEN_SANDBOX_URL)
    } catch (cause) {
      problems.push(
        `FEN_SANDBOX_URL: could not read ${redactUrl(e.FEN_SANDBOX_URL)}/__sandbox/merchant (is \`pnpm sandbox\` running?): ${(cause as Error).message}`,
      )
      throw new ConfigError(problems.join('\n'))
    }
  }
  const required = (name: string, value: string | undefined): string => {
    if (!value) problems.push(`${name}: required`)
    return value ?? ''
  }

  const apiBaseUrl = e.WECHAT_API_BASE_URL ?? e.FEN_SANDBOX_URL ?? DEFAULT_WECHAT_API_BASE_URL
  const payBaseUrl = e.WECHATPAY_BASE_URL ?? e.FEN_SANDBOX_URL ?? DEFAULT_BASE_URL
  const backupBaseUrl = backupOf(e, payBaseUrl, sandbox)
  if (backupBaseUrl) {
    const [backup, base] = [new URL(backupBaseUrl), new URL(payBaseUrl)]
    if (backup.origin === base.origin)
      problems.push('WECHATPAY_BACKUP_BASE_URL: must be another host than WECHATPAY_BASE_URL')
    if (backup.pathname.replace(/\/+$/, '') !== base.pathname.replace(/\/+$/, ''))
      problems.push(
        'WECHATPAY_BACKUP_BASE_URL: must have the same path as WECHATPAY_BASE_URL (the path is signed)',
      )
  }
  const appid = required('WECHAT_APPID', e.WECHAT_APPID ?? sandbox?.appid)
  const appSecret = required('WECHAT_APPSECRET', e.WECHAT_APPSECRET ?? sandbox?.appSecret)
  const mchid = required('WECHATPAY_MCHID', e.WECHATPAY_MCHID ?? sandbox?.mchid)
  const serialNo = required(
    'WECHATPAY_SERIAL_NO',
    e.WECHATPAY_SERIAL_NO ?? sandbox?.merchantSerialNo,
  )
  const privateKey = readPem(
    'WECHATPAY_PRIVATE_KEY',
    required('WECHATPAY_PRIVATE_KEY', e.WECHATPAY_PRIVATE_KEY ?? sandbox?.merchantPrivateKey) ||
      undefined,
    problems,
  )
  const apiV3Key = required('WECHATPAY_APIV3_KEY', e.WECHATPAY_APIV3_KEY ?? sandbox?.apiV3Key)
  const apiV2Key = e.WECHATPAY_APIV2_KEY ?? sandbox?.apiV2Key
  const apiVersion = e.WECHATPAY_API_VERSION ?? 'v3'

  if (privateKey) check(problems, 'WECHATPAY_PRIVATE_KEY', () => loadPrivateKey(privateKey))
  if (apiV3Key) check(problems, 'WECHATPAY_APIV3_KEY', () => loadApiV3Key(apiV3Key))
  if (serialNo && !/^[0-9A-Fa-f]+$/.test(serialNo))
    problems.push('WECHATPAY_SERIAL_NO: must be hex')
  if (apiVersion === 'v2' && !apiV2Key)
    problems.push('WECHATPAY_APIV2_KEY: required when WECHATPAY_API_VERSION=v2')
  if (apiV2Key !== undefined && apiV2Key.length !== 32)
    problems.push('WECHATPAY_APIV2_KEY: must be 32 characters')

  let publicKey: Config['wechatpay']['publicKey']
  const sandboxHasPublicKey = sandbox && sandbox.platformMode !== 'certificate'
  const publicKeyId =
    e.WECHATPAY_PUBLIC_KEY_ID ?? (sandboxHasPublicKey ? sandbox!.platformPublicKeyId : undefined)
  const publicKeyPem = readPem(
    'WECHATPAY_PUBLIC_KEY',
    e.WECHATPAY_PUBLIC_KEY ?? (sandboxHasPublicKey ? sandbox!.platformPublicKey : undefined),
    problems,
  )
  if (publicKeyId || publicKeyPem) {
    if (!publicKeyId) problems.push('WECHATPAY_PUBLIC_KEY_ID: required with WECHATPAY_PUBLIC_KEY')
    else if (!publicKeyId.startsWith(PUBLIC_KEY_ID_PREFIX))
      problems.push(`WECHATPAY_PUBLIC_KEY_ID: starts with ${PUBLIC_KEY_ID_PREFIX}`)
    if (!publicKeyPem) problems.push('WECHATPAY_PUBLIC_KEY: required with WECHATPAY_PUBLIC_KEY_ID')
    else check(problems, 'WECHATPAY_PUBLIC_KEY', () => loadPublicKey(publicKeyPem))
    if (publicKeyId && publicKeyPem) publicKey = { id: publicKeyId, pem: publicKeyPem }
  }
  // Certificates: needed without a public key; with one, kept while migrating (a sandbox in `both`
  // mode is a migration in progress).
  const platformCertificates =
    (e.WECHATPAY_PLATFORM_CERTIFICATES ??
      (!publicKeyId || sandbox?.platformMode === 'both' ? 'download' : 'off')) === 'download'
  if (!platformCertificates && !publicKeyId && !publicKeyPem) {
    problems.push(
      "WECHATPAY_PLATFORM_CERTIFICATES: 'off' needs WECHATPAY_PUBLIC_KEY_ID and WECHATPAY_PUBLIC_KEY, or nothing could verify WeChat's signatures",
    )
  }

  // Where keys may go (docs/operations.md, "Sandbox keys and real keys"). Sandbox keys are the ones
  // the sandbox at FEN_SANDBOX_URL reported — whatever they look like — and keys made by the SDK's
  // test helpers (TEST_KEY_PREFIX); they never go to WeChat's production hosts. Anything else is a
  // real merchant's and goes nowhere else. With FEN_SANDBOX_URL, a key setting given by hand must be
  // the sandbox's own: a real key beside a sandbox URL would be signed with and sent to that host.
  if (sandbox) {
    const own: [string, string | undefined, boolean][] = [
      ['WECHATPAY_MCHID', e.WECHATPAY_MCHID, e.WECHATPAY_MCHID === sandbox.mchid],
      ['WECHATPAY_APIV3_KEY', e.WECHATPAY_APIV3_KEY, e.WECHATPAY_APIV3_KEY === sandbox.apiV3Key],
      ['WECHATPAY_APIV2_KEY', e.WECHATPAY_APIV2_KEY, e.WECHATPAY_APIV2_KEY === sandbox.apiV2Key],
      [
        'WECHATPAY_PRIVATE_KEY',
        e.WECHATPAY_PRIVATE_KEY,
        privateKey !== undefined && samePrivateKey(privateKey, sandbox.merchantPrivateKey),
      ],
    ]
    for (const [name, given, same] of own) {
      if (given !== undefined && !same)
        problems.push(
          `${name}: with FEN_SANDBOX_URL, must be the sandbox's own (it reports another); real merchant keys never go to the sandbox`,
        )
    }
  }
  if (apiV3Key) {
    const test =
      sandbox !== undefined ||
      isTestKey(apiV3Key) ||
      (apiV2Key !== undefined && isTestKey(apiV2Key))
    for (const [name, value] of [
      ['WECHATPAY_BASE_URL', payBaseUrl],
      ['WECHAT_API_BASE_URL', apiBaseUrl],
      ...(backupBaseUrl ? [['WECHATPAY_BACKUP_BASE_URL', backupBaseUrl] as const] : []),
    ] as const) {
      if (test && isProductionUrl(value)) {
        problems.push(
          `${name}: test (sandbox) keys must not be used with WeChat's production URL ${redactUrl(value)}`,
        )
      } else if (!test && !isProductionUrl(value)) {
        problems.push(
          `${name}: real merchant keys must only be used with WeChat's production hosts, not ${redactUrl(value)} (for the Fen sandbox, set FEN_SANDBOX_URL and take its keys)`,
        )
      }
    }
  }

  let jwtSecret = e.JWT_SECRET
  let adminToken = e.ADMIN_TOKEN
  if (sandbox) {
    if (!jwtSecret) {
      jwtSecret = DEV_JWT_SECRET
      warnings.push('JWT_SECRET is not set: using a development default (sandbox mode only)')
    }
    if (!adminToken) {
      adminToken = DEV_ADMIN_TOKEN
      warnings.push(
        'ADMIN_TOKEN is not set: using the development token "fen-dev-admin-token" (sandbox mode only)',
      )
    }
  }
  if (!jwtSecret) problems.push('JWT_SECRET: required (at least 32 characters)')
  else if (jwtSecret.length < 32) problems.push('JWT_SECRET: at least 32 characters')
  if (!adminToken) problems.push('ADMIN_TOKEN: required (at least 16 characters)')
  else if (adminToken.length < 16) problems.push('ADMIN_TOKEN: at least 16 characters')
  if (production) {
    // Development defaults and guessable secrets start fine elsewhere; never in production.
    if (jwtSecret === DEV_JWT_SECRET)
      problems.push('JWT_SECRET: the development default; set a random secret in production')
    else if (jwtSecret && jwtSecret.length >= 32 && isWeakSecret(jwtSecret))
      problems.push(`JWT_SECRET: too weak (${WEAK_SECRET_RULE})`)
    if (adminToken === DEV_ADMIN_TOKEN)
      problems.push('ADMIN_TOKEN: the development token; set a random token in production')
    else if (adminToken && adminToken.length >= 16 && isWeakSecret(adminToken))
      problems.push(`ADMIN_TOKEN: too weak (${WEAK_SECRET_RULE})`)
    if (apiV3Key && (isTestKey(apiV3Key) || (apiV2Key !== undefined && isTestKey(apiV2Key)))) {
      problems.push(
        "WECHATPAY_APIV3_KEY: a sandbox (test) key; production needs the merchant's real keys",
      )
    }
  }

  if (production && !e.DATABASE_URL) {
    problems.push(
      'DATABASE_URL: required in production (PGlite is for dev, demo and tests: it commits without fsync)',
    )
  }
  const publicBaseUrl = e.PUBLIC_BASE_URL ?? (sandbox ? `http://127.0.0.1:${e.PORT}` : undefined)
  if (!publicBaseUrl) problems.push('PUBLIC_BASE_URL: required (WeChat posts notifications to it)')
  else if (production && !publicBaseUrl.startsWith('https://'))
    problems.push(
      'PUBLIC_BASE_URL: must be https:// in production (WeChat notifies over HTTPS only)',
    )

  if (production) {
    // code2Session carries the AppSecret in its query, WeChat Pay's requests and answers are
    // payments: never in clear.
    for (const [name, value] of [
      ['WECHAT_API_BASE_URL', apiBaseUrl],
      ['WECHATPAY_BASE_URL', payBaseUrl],
      ['WECHATPAY_BACKUP_BASE_URL', backupBaseUrl],
    ] as const) {
      if (value && new URL(value).protocol !== 'https:')
        problems.push(`${name}: must be https:// in production`)
    }
  }

  const push = pushSettings(e, sandbox, production, problems)

  const events = eventSettings(e, production, problems)

  const proxyHops =
    e.TRUST_PROXY === 'true' ? 1 : e.TRUST_PROXY === 'false' ? 0 : Number(e.TRUST_PROXY ?? 0)

  if (problems.length > 0) throw new ConfigError(problems.join('\n'))
  return {
    port: e.PORT,
    // Sandbox mode runs with well-known development defaults (admin token, JWT secret): loopback
    // only unless HOST says otherwise. Production listens on every interface, as containers want.
    host: e.HOST ?? (sandbox ? '127.0.0.1' : undefined),
    trustProxy: proxyHops > 0,
    proxyHops,
    production,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.FEN_DATA_DIR ?? '.data',
    jwtSecret: jwtSecret!,
    jwtTtlSeconds: e.JWT_TTL_SECONDS,
    adminToken: adminToken!,
    publicBaseUrl: publicBaseUrl!.replace(/\/+$/, ''),
    orderTtlSeconds: e.ORDER_TTL_SECONDS,
    orderAutoReceiveDays: e.ORDER_AUTO_RECEIVE_DAYS,
    bodyTimeoutSeconds: e.BODY_TIMEOUT_SECONDS,
    notifyMaxInFlight: e.NOTIFY_MAX_IN_FLIGHT,
    orderLimits: {
      maxOpenOrdersPerUser: e.ORDER_MAX_OPEN_PER_USER,
      maxQuantityPerLine: e.ORDER_MAX_QUANTITY_PER_LINE,
      maxUnitsPerProduct: e.ORDER_MAX_UNITS_PER_PRODUCT || undefined,
    },
    refundAutoApprove: {
      maxFen: e.REFUND_AUTO_APPROVE_MAX_FEN,
      budgetFen: e.REFUND_AUTO_APPROVE_BUDGET_FEN ?? e.REFUND_AUTO_APPROVE_MAX_FEN,
      maxCount: e.REFUND_AUTO_APPROVE_MAX_COUNT,
      afterShipping: e.REFUND_AUTO_APPROVE_SHIPPED === 'true',
    },
    logLevel: e.LOG_LEVEL ?? 'info',
    wechat: { appid, appSecret, apiBaseUrl, push },
    wechatpay: {
      apiVersion,
      mchid,
      serialNo,
      privateKey: privateKey!,
      apiV3Key,
      apiV2Key,
      publicKey,
      platformCertificates,
      baseUrl: payBaseUrl,
      backupBaseUrl,
    },
    sandboxUrl: e.FEN_SANDBOX_URL,
    adminStaticDir: e.ADMIN_STATIC_DIR,
    warnings,
    events,
    reconcile: { enabled: e.RECONCILE_ENABLED === 'true', after: e.RECONCILE_AFTER },
  }
}

/**
 * Webhooks and NATS (docs/operations.md, "Events to the shop's own systems"). Webhook URLs are
 * http(s), https only in production; they need a secret of at least 32 characters to sign with.
 */
function eventSettings(
  e: {
    WEBHOOK_URLS?: string | undefined
    WEBHOOK_SECRET?: string | undefined
    EVENTS_NATS_URL?: string | undefined
    EVENTS_NATS_STREAM?: string | undefined
    EVENTS_NATS_SUBJECT_PREFIX?: string | undefined
    WEBHOOK_ALLOW_PRIVATE?: 'true' | 'false' | undefined
    EVENTS_NATS_ALLOW_PLAINTEXT?: 'true' | 'false' | undefined
  },
  production: boolean,
  problems: string[],
): Config['events'] {
  const allowPrivate = (e.WEBHOOK_ALLOW_PRIVATE ?? (production ? 'false' : 'true')) === 'true'
  const webhookUrls = (e.WEBHOOK_URLS ?? '')
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean)
  for (const u of webhookUrls) {
    let protocol: string | undefined
    try {
      protocol = new URL(u).protocol
    } catch {
      // reported below
    }
    if (protocol !== 'https:' && (production || protocol !== 'http:'))
      problems.push(
        `WEBHOOK_URLS: each must be an ${production ? 'https' : 'http(s)'} URL (${webhookUrls.indexOf(u) + 1}. is not)`,
      )
    else if (hasCredentials(u))
      problems.push(
        `WEBHOOK_URLS: ${webhookUrls.indexOf(u) + 1}. must not carry credentials (user:password@); receivers know Fen by its Fen-Signature`,
      )
    else if (!allowPrivate) {
      // An address written out is refused now; a host name is resolved and checked at delivery.
      const address = new URL(u).hostname.replace(/^\[(.*)\]$/, '$1')
      const range = isIP(address) ? refusedRangeOf(address) : undefined
      if (range)
        problems.push(
          `WEBHOOK_URLS: ${webhookUrls.indexOf(u) + 1}. is an internal address (${range}); set WEBHOOK_ALLOW_PRIVATE=true to allow it`,
        )
    }
  }
  const secret = e.WEBHOOK_SECRET
  if (webhookUrls.length > 0 && !secret)
    problems.push('WEBHOOK_SECRET: required with WEBHOOK_URLS (at least 32 characters)')
  else if (secret && secret.length < 32) problems.push('WEBHOOK_SECRET: at least 32 characters')
  else if (production && secret && isWeakSecret(secret))
    problems.push(`WEBHOOK_SECRET: too weak (${WEAK_SECRET_RULE})`)
  if (
    production &&
    e.EVENTS_NATS_URL &&
    new URL(e.EVENTS_NATS_URL).protocol !== 'tls:' &&
    e.EVENTS_NATS_ALLOW_PLAINTEXT !== 'true'
  )
    problems.push(
      'EVENTS_NATS_URL: must be tls:// in production (events carry orders and payers); EVENTS_NATS_ALLOW_PLAINTEXT=true allows nats://',
    )
  return {
    webhookUrls,
    webhookSecret: secret,
    allowPrivate,
    nats: e.EVENTS_NATS_URL
      ? {
          url: e.EVENTS_NATS_URL,
          stream: e.EVENTS_NATS_STREAM ?? 'FEN_EVENTS',
          // Two streams may not share subjects: a second shop on one NATS needs its own prefix.
          subjectPrefix: e.EVENTS_NATS_SUBJECT_PREFIX ?? 'fen.events',
        }
      : undefined,
  }
}

/**
 * The message push Token and EncodingAESKey: WeChat's rules (Token 3–32 letters and digits; the
 * key 43 characters of Base64). Sandbox mode falls back to the sandbox's own (when it reports
 * them) or development defaults; production requires both and refuses the defaults; elsewhere
 * both or neither.
 */
function pushSettings(
  e: { WECHAT_PUSH_TOKEN?: string | undefined; WECHAT_PUSH_AES_KEY?: string | undefined },
  sandbox: SandboxMerchant | undefined,
  production: boolean,
  problems: string[],
): Config['wechat']['push'] {
  let token = e.WECHAT_PUSH_TOKEN
  let aesKey = e.WECHAT_PUSH_AES_KEY
  // A sandbox that pushes reports the Token and key it signs and encrypts with: WeChat's settings
  // here, not secrets of ours (no warning, as for its keys). Settings given by hand still win.
  if (sandbox) {
    token ||= sandbox.pushToken ?? DEV_PUSH_TOKEN
    aesKey ||= sandbox.pushEncodingAESKey ?? DEV_PUSH_AES_KEY
  }
  if (production) {
    if (!token) problems.push('WECHAT_PUSH_TOKEN: required in production (message push Token)')
    if (!aesKey)
      problems.push(
        'WECHAT_PUSH_AES_KEY: required in production (message push EncodingAESKey, 安全模式)',
      )
    if (token === DEV_PUSH_TOKEN)
      problems.push('WECHAT_PUSH_TOKEN: the development default; set your own in production')
    if (aesKey === DEV_PUSH_AES_KEY)
      problems.push('WECHAT_PUSH_AES_KEY: the development default; set your own in production')
  } else if (Boolean(token) !== Boolean(aesKey)) {
    problems.push(
      token
        ? 'WECHAT_PUSH_AES_KEY: required with WECHAT_PUSH_TOKEN (pushes are received in 安全模式 only)'
        : 'WECHAT_PUSH_TOKEN: required with WECHAT_PUSH_AES_KEY',
    )
  }
  if (token && !/^[A-Za-z0-9]{3,32}$/.test(token))
    problems.push('WECHAT_PUSH_TOKEN: 3 to 32 letters and digits (as the console requires)')
  if (aesKey) check(problems, 'WECHAT_PUSH_AES_KEY', () => loadEncodingAESKey(aesKey))
  return token && aesKey ? { token, aesKey } : undefined
}

/**
 * WECHATPAY_BACKUP_BASE_URL: `off`, a URL, or by default the known backup of the base URL's host
 * (`https://api2.mch.weixin.qq.com` for WeChat Pay's production host) or, when the base URL is the
 * sandbox's, the sandbox's backup host if it runs one; otherwise none.
 */
function backupOf(
  e: { WECHATPAY_BACKUP_BASE_URL?: string | undefined; FEN_SANDBOX_URL?: string | undefined },
  payBaseUrl: string,
  sandbox: SandboxMerchant | undefined,
): string | undefined {
  if (e.WECHATPAY_BACKUP_BASE_URL === 'off') return undefined
  if (e.WECHATPAY_BACKUP_BASE_URL) return e.WECHATPAY_BACKUP_BASE_URL
  if (sandbox && payBaseUrl === e.FEN_SANDBOX_URL) return sandbox.backupBaseUrl
  const base = new URL(payBaseUrl)
  return base.pathname.replace(/\/+$/, '') === '' ? BACKUP_BASE_URLS[base.origin] : undefined
}

/** Message push settings of sandbox mode when the sandbox reports none; refused in production. */
export const DEV_PUSH_TOKEN = 'fenDevPushToken'
export const DEV_PUSH_AES_KEY = 'ZmVuLWRldi1wdXNoLWFlcy1rZXktbm90LWZvci1wcmQ'

/** Used in sandbox mode when JWT_SECRET / ADMIN_TOKEN are unset; refused in production. */
const DEV_JWT_SECRET = 'fen-dev-jwt-secret-not-for-production-use-0123456789'
const DEV_ADMIN_TOKEN = 'fen-dev-admin-token'

/** `production`, `prod`, in any case, with stray spaces: all production. */
function isProduction(nodeEnv: string | undefined): boolean {
  const v = nodeEnv?.trim().toLowerCase()
  return v === 'production' || v === 'prod'
}

const WEAK_SECRET_RULE = 'use at least 8 distinct characters, not a shorter string repeated'

/**
 * A secret a person typed rather than generated: fewer than 8 distinct characters, or a shorter
 * string repeated (`aaaa…`, `abcdabcd…`, `0123456789012…`). Random secrets pass easily.
 */
export function isWeakSecret(secret: string): boolean {
  if (new Set(secret).size < 8) return true
  for (let period = 1; period <= secret.length / 2; period++) {
    let repeats = true
    for (let i = period; i < secret.length && repeats; i++)
      repeats = secret[i] === secret[i - period]
    if (repeats) return true
  }
  return false
}

/** The SDK's `platform` option: the keys that verify WeChat's answers and notifications. */
export function platformKeys(wechatpay: Config['wechatpay']): PlatformKeyOptions {
  return {
    ...(wechatpay.publicKey
      ? { publicKey: { id: wechatpay.publicKey.id, key: wechatpay.publicKey.pem } }
      : {}),
    ...(wechatpay.platformCertificates ? { certificates: 'download' as const } : {}),
  }
}

/** A PEM given inline, or a path to a PEM file. */
function readPem(name: string, value: string | undefined, problems: string[]): string | undefined {
  if (!value) return undefined
  if (value.includes('-----BEGIN')) return value.replaceAll('\\n', '\n')
  try {
    if (!statSync(value).isFile()) throw new Error('not a file')
    return readFileSync(value, 'utf8')
  } catch {
    problems.push(`${name}: neither a PEM nor a readable file`)
    return undefined
  }
}

/** Whether two PEM private keys are the same key, however each is written. */
function samePrivateKey(a: string, b: string): boolean {
  try {
    const der = (pem: string) => createPrivateKey(pem).export({ format: 'der', type: 'pkcs8' })
    return der(a).equals(der(b))
  } catch {
    return false
  }
}

function check(problems: string[], name: string, fn: () => unknown): void {
  try {
    fn()
  } catch (e) {
    problems.push(`${name}: ${(e as Error).message}`)
  }
}

async function fetchSandboxMerchant(base: string): Promise<SandboxMerchant> {
  const res = await fetch(`${base.replace(/\/+$/, '')}/__sandbox/merchant`, {
    signal: AbortSignal.timeout(5000),
  })
  if (!res.ok) throw new Error(`HTTP ${res.status}`)
  return (await res.json()) as SandboxMerchant
}
