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
 * The server's settings, validated once at start: what `parseConfig` returns. This is the only
 * module that reads the environment (main.ts passes `process.env` in). Every problem is reported at
 * once, each naming its setting; secrets never appear in messages.
 *
 * Each setting is declared once, in `SETTINGS` below (name, parser, default, one line on what it
 * is); the shape of this type follows from the sections' builders in `parseConfig`.
 */
export type Config = ReturnType<typeof parseConfig>

/** A wrong or missing setting. The message lists every problem, one per line. */
export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** An unset variable, or an empty one: undefined. */
const unset = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v))

/**
 * One setting: a line on what it is, how a value is read (`parse` gets a non-empty string), and
 * its value when unset. Without `fallback` an unset setting is undefined and its section's builder
 * decides (sandbox mode and production have defaults of their own; docs/api.md says which).
 * `description` and `default` are zod metadata (`.meta()`), which the docs test reads.
 */
function setting<T>(
  description: string,
  parse: z.ZodType<T, string>,
): z.ZodType<T | undefined, string | undefined>
function setting<T>(
  description: string,
  parse: z.ZodType<T, string>,
  fallback: T,
): z.ZodType<T, string | undefined>
function setting<T>(description: string, parse: z.ZodType<T, string>, fallback?: T) {
  return unset
    .pipe(parse.optional())
    .transform((v) => v ?? fallback)
    .meta({ description, default: fallback })
}

/** A whole number from `min` to `max`. */
const int = (min: number, max: number) =>
  z.string().transform((v, ctx): number => {
    const n = Number(v)
    if (!Number.isInteger(n) || n < min || n > max) {
      ctx.addIssue({ code: 'custom', message: `must be an integer from ${min} to ${max}` })
      return z.NEVER
    }
    return n
  })
const text = z.string()
const httpUrl = z.url({ protocol: /^https?$/ })
const bool = z.enum(['true', 'false']).transform((v) => v === 'true')
const regex = (pattern: RegExp, message: string) => z.string().regex(pattern, message)

/** Where a section's settings are documented: a table of Name (or Setting), Default, Meaning. */
type DocsFile = 'docs/api.md' | 'docs/operations.md'

/** A group of settings, documented together in `docs`. */
function section<S extends Record<string, z.ZodType<unknown, string | undefined>>>(
  docs: DocsFile,
  settings: S,
): { docs: DocsFile; settings: S } {
  return { docs, settings }
}

/**
 * Every setting of the server, in sections. The variable's name is the key; a setting is read
 * only here, and KNOWN (typo warnings), the parsed environment `Env` and the docs test
 * (test/config-docs.test.ts) follow from this table.
 */
export const SETTINGS = {
  mode: section('docs/api.md', {
    NODE_ENV: setting(
      '`production` or `prod` (any case, stray spaces) turns on production rules',
      text,
    ),
    FEN_SANDBOX_URL: setting(
      'A running Fen sandbox: sandbox mode, the WeChat settings come from it (refused in production)',
      httpUrl,
    ),
  }),
  server: section('docs/api.md', {
    PORT: setting('The port to listen on', int(1, 65535), 3000),
    HOST: setting(
      'The interface to listen on (unset: 127.0.0.1 in sandbox mode, else every one)',
      text,
    ),
    // 0/false: not behind a proxy; 1/true: one proxy; N: N proxies, each appending to X-Forwarded-For.
    TRUST_PROXY: setting(
      'How many proxies in front append to X-Forwarded-For (true = 1, false = 0)',
      regex(
        /^(true|false|[0-9])$/,
        'must be 0-9 (how many proxies append to X-Forwarded-For), true or false',
      ).transform((v) => (v === 'true' ? 1 : v === 'false' ? 0 : Number(v))),
      0,
    ),
    PUBLIC_BASE_URL: setting(
      'Where WeChat reaches us: notify_url is built from it (sandbox: http://127.0.0.1:$PORT)',
      httpUrl,
    ),
    BODY_TIMEOUT_SECONDS: setting('A notification body must arrive within this', int(1, 300), 10),
    NOTIFY_MAX_IN_FLIGHT: setting(
      'Notification bodies read at once; more are answered 503 (WeChat retries)',
      int(1, 10_000),
      32,
    ),
    LOG_LEVEL: setting(
      'The least level logged',
      z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
      'info',
    ),
  }),
  console: section('docs/operations.md', {
    ADMIN_STATIC_DIR: setting('The console build (apps/admin/dist), served under /admin/', text),
  }),
  database: section('docs/api.md', {
    DATABASE_URL: setting(
      'PostgreSQL; unset: embedded PGlite in FEN_DATA_DIR (not in production)',
      text,
    ),
    FEN_DATA_DIR: setting("PGlite's data directory", text, '.data'),
  }),
  auth: section('docs/api.md', {
    JWT_SECRET: setting("HS256 secret of shoppers' tokens, at least 32 characters", text),
    JWT_TTL_SECONDS: setting('Lifetime of a login token', int(60, 30 * 86400), 7200),
    ADMIN_TOKEN: setting("The admin API's bearer token, at least 16 characters", text),
  }),
  orders: section('docs/api.md', {
    ORDER_TTL_SECONDS: setting('How long a new order can be paid', int(60, 7 * 86400), 900),
    ORDER_AUTO_RECEIVE_DAYS: setting(
      'Days after shipping that an order the shop ships itself counts as received',
      int(1, 90),
      10,
    ),
    ORDER_MAX_OPEN_PER_USER: setting('Unpaid orders one shopper may hold', int(1, 1000), 10),
    // The API's own limit is 99 a line.
    ORDER_MAX_QUANTITY_PER_LINE: setting('Units of one product per order', int(1, 99), 99),
    ORDER_MAX_UNITS_PER_PRODUCT: setting(
      'Units of one product one shopper may hold in unpaid orders (限购); 0: no cap',
      int(0, 100_000),
      20,
    ),
  }),
  refunds: section('docs/api.md', {
    REFUND_AUTO_APPROVE_MAX_FEN: setting(
      "A shopper's refund request of at most this is approved at once (0: never)",
      int(0, 2_147_483_647),
      0,
    ),
    REFUND_AUTO_APPROVE_BUDGET_FEN: setting(
      "What one shopper's automatic approvals may total in 30 days (unset: the MAX_FEN)",
      int(0, 2_147_483_647),
    ),
    REFUND_AUTO_APPROVE_MAX_COUNT: setting(
      "How many of one shopper's requests may be approved automatically in 30 days",
      int(0, 1000),
      3,
    ),
    REFUND_AUTO_APPROVE_SHIPPED: setting(
      'Whether requests on shipped (or completed) orders are approved automatically too',
      bool,
      false,
    ),
  }),
  wechat: section('docs/api.md', {
    WECHAT_APPID: setting("The mini-program's appid (sandbox: its own)", text),
    WECHAT_APPSECRET: setting(
      "The mini-program's AppSecret, for code2Session (sandbox: its own)",
      text,
    ),
    WECHAT_API_BASE_URL: setting(
      'The mini-program API (unset: FEN_SANDBOX_URL, else WeChat)',
      httpUrl,
    ),
  }),
  push: section('docs/api.md', {
    WECHAT_PUSH_TOKEN: setting('消息推送 Token of the mini-program console', text),
    WECHAT_PUSH_AES_KEY: setting('消息推送 EncodingAESKey (安全模式)', text),
  }),
  wechatpay: section('docs/api.md', {
    WECHATPAY_API_VERSION: setting(
      'Which WeChat Pay API new orders use',
      z.enum(['v3', 'v2']),
      'v3',
    ),
    WECHATPAY_MCHID: setting('The merchant id (sandbox: its own)', text),
    WECHATPAY_SERIAL_NO: setting("The merchant certificate's serial number, hex", text),
    WECHATPAY_PRIVATE_KEY: setting('The merchant private key: a PEM or a path to one', text),
    WECHATPAY_APIV3_KEY: setting('The APIv3 key (decrypts notifications)', text),
    WECHATPAY_APIV2_KEY: setting('The APIv2 key, 32 characters', text),
    WECHATPAY_PUBLIC_KEY_ID: setting('The WeChat Pay public key id (PUB_KEY_ID_…)', text),
    WECHATPAY_PUBLIC_KEY: setting('The WeChat Pay public key: a PEM or a path to one', text),
    WECHATPAY_PLATFORM_CERTIFICATES: setting(
      'Whether platform certificates are downloaded (unset: without a public key)',
      z.enum(['download', 'off']),
    ),
    WECHATPAY_BASE_URL: setting(
      'The WeChat Pay API (unset: FEN_SANDBOX_URL, else WeChat Pay)',
      httpUrl,
    ),
    // A URL, or `off` (no failover).
    WECHATPAY_BACKUP_BASE_URL: setting(
      "APIv3 failover host, or `off` (unset: the base URL's known backup)",
      z.union([z.literal('off'), httpUrl]),
    ),
  }),
  events: section('docs/operations.md', {
    WEBHOOK_URLS: setting(
      'Comma-separated receivers of every event',
      z.string().transform((v) =>
        v
          .split(',')
          .map((u) => u.trim())
          .filter(Boolean),
      ),
    ),
    WEBHOOK_SECRET: setting('HMAC key of the Fen-Signature, at least 32 characters', text),
    WEBHOOK_ALLOW_PRIVATE: setting(
      'Whether webhooks may go to internal addresses (unset: not in production)',
      bool,
    ),
    EVENTS_NATS_URL: setting(
      'NATS with JetStream (nats:// or tls://)',
      z.url({ protocol: /^(nats|tls)$/ }),
    ),
    EVENTS_NATS_STREAM: setting(
      'The JetStream stream (made if missing)',
      regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - (a JetStream stream name)'),
      'FEN_EVENTS',
    ),
    EVENTS_NATS_SUBJECT_PREFIX: setting(
      'Subjects are <prefix>.<type>',
      regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'dot-separated tokens, no wildcards'),
      'fen.events',
    ),
    EVENTS_NATS_ALLOW_PLAINTEXT: setting('Whether production may use a nats:// URL', bool, false),
  }),
  reconcile: section('docs/operations.md', {
    RECONCILE_ENABLED: setting('Whether the daily reconciliation job runs here', bool, true),
    // WeChat's bills of day D are ready at 10:00 Beijing time on D+1.
    RECONCILE_AFTER: setting(
      'Beijing time of day from which yesterday is reconciled',
      regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, 'HH:MM, Beijing time (e.g. 10:00)'),
      '10:00',
    ),
  }),
}

type Sections = typeof SETTINGS
/** Every section's settings in one object type (the union of sections made an intersection). */
type AllSettings = (
  Sections[keyof Sections]['settings'] extends infer S
    ? S extends unknown
      ? (all: S) => void
      : never
    : never
) extends (all: infer I) => void
  ? I
  : never

/** The environment, parsed: every setting's value (or its default). */
const Env = z.object(
  Object.assign({}, ...Object.values(SETTINGS).map((s) => s.settings)) as AllSettings,
)
type Env = z.output<typeof Env>

/**
 * Every setting the server reads. Other variables are not ours to judge (FEN_H5_PORT is the H5 dev
 * server's, for one): only a likely typo of one of these gets a warning.
 */
const KNOWN: readonly string[] = Object.keys(Env.shape)

/** The known setting `name` is most likely a typo of, if any. */
function typoOf(name: string): string | undefined {
  if (KNOWN.includes(name)) return undefined
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

/** What the sandbox at `url` (FEN_SANDBOX_URL) answered when asked for its merchant, or why not. */
export type SandboxReport =
  { url: string; merchant: SandboxMerchant } | { url: string; error: string }

/**
 * Reads and checks the settings. With `FEN_SANDBOX_URL`, the WeChat settings come from the sandbox's
 * `GET /__sandbox/merchant` and both base URLs point at it (explicit settings still win): the
 * sandbox is asked first (readSandbox), then the settings are parsed (parseConfig).
 */
export async function loadConfig(
  env: Record<string, string | undefined>,
  fetchMerchant: (url: string) => Promise<SandboxMerchant> = fetchSandboxMerchant,
): Promise<Config> {
  return parseConfig(env, await readSandbox(env, fetchMerchant))
}

/**
 * Sandbox mode's one network call, made before parsing: asks the sandbox at `FEN_SANDBOX_URL` for
 * its merchant. Undefined when there is nothing to ask: no FEN_SANDBOX_URL, or settings that
 * parseConfig refuses before it would look at the answer (a malformed value, a URL with
 * credentials). A failure is reported, not thrown: parseConfig names it among the other problems.
 */
export async function readSandbox(
  env: Record<string, string | undefined>,
  fetchMerchant: (url: string) => Promise<SandboxMerchant> = fetchSandboxMerchant,
): Promise<SandboxReport | undefined> {
  const parsed = Env.safeParse(env)
  const url = parsed.success ? parsed.data.FEN_SANDBOX_URL : undefined
  if (!url || hasCredentials(url)) return undefined
  try {
    return { url, merchant: await fetchMerchant(url) }
  } catch (cause) {
    return { url, error: (cause as Error).message }
  }
}

/**
 * The settings of `env`, without the network: in sandbox mode, `report` is what readSandbox
 * reported for its FEN_SANDBOX_URL (required then). Throws a ConfigError listing every problem.
 * The sections are built in turn, each adding its problems; the WeChat Pay keys' rules span the
 * WeChat sections and come after them.
 */
export function parseConfig(env: Record<string, string | undefined>, report?: SandboxReport) {
  const warnings = typoWarnings(env)
  const e = parseEnv(env)
  const problems: string[] = []
  const production = isProduction(e.NODE_ENV)

  refuseCredentials(e, problems)
  const merchant = sandboxMerchant(e, report, production, problems)
  const wechat = wechatSettings(e, merchant, problems)
  const wechatpay = wechatpaySettings(e, merchant, problems)
  keyRules(e, wechat, wechatpay, merchant, production, problems)
  const auth = authSettings(e, merchant, production, warnings, problems)
  const database = databaseSettings(e, production, problems)
  const server = serverSettings(e, merchant, production, problems)
  const push = pushSettings(e, merchant, production, problems)
  const events = eventSettings(e, production, problems)

  if (problems.length > 0) throw new ConfigError(problems.join('\n'))
  return {
    ...server,
    production,
    ...database,
    ...auth,
    orderTtlSeconds: e.ORDER_TTL_SECONDS,
    /**
     * Days after shipping that an order whose receipt is the shop's (not a JSAPI payment: WeChat
     * does not know its shipping) counts as received, if the shopper did not confirm before.
     */
    orderAutoReceiveDays: e.ORDER_AUTO_RECEIVE_DAYS,
    /**
     * What one shopper may hold with unpaid orders (their stock is reserved until paid or closed).
     * `maxUnitsPerProduct`: units of one product across them (限购); undefined: no such cap.
     */
    orderLimits: {
      maxOpenOrdersPerUser: e.ORDER_MAX_OPEN_PER_USER,
      maxQuantityPerLine: e.ORDER_MAX_QUANTITY_PER_LINE,
      maxUnitsPerProduct: e.ORDER_MAX_UNITS_PER_PRODUCT || undefined,
    },
    /**
     * Automatic approval of shoppers' refund requests (services/refund-requests.ts): a request of at
     * most `maxFen` is approved at once (0: never) while the shopper's automatic approvals over the
     * last 30 days stay within `budgetFen` and `maxCount`; an order shipped (or completed) only with
     * `afterShipping`. Anything else waits for an operator.
     */
    refundAutoApprove: {
      maxFen: e.REFUND_AUTO_APPROVE_MAX_FEN,
      budgetFen: e.REFUND_AUTO_APPROVE_BUDGET_FEN ?? e.REFUND_AUTO_APPROVE_MAX_FEN,
      maxCount: e.REFUND_AUTO_APPROVE_MAX_COUNT,
      afterShipping: e.REFUND_AUTO_APPROVE_SHIPPED,
    },
    wechat: {
      ...wechat,
      /**
       * 消息推送 (message push) settings of the mini-program console: the Token and the
       * EncodingAESKey (安全模式). Undefined outside production and sandbox mode when unset: then
       * `/api/wechat/push` answers 404.
       */
      push,
    },
    wechatpay,
    /** The URL of the Fen sandbox the WeChat settings came from, if any. */
    sandboxUrl: e.FEN_SANDBOX_URL,
    /** ADMIN_STATIC_DIR: the operator's console build (apps/admin/dist), served under /admin/. */
    adminStaticDir: e.ADMIN_STATIC_DIR,
    /** Things worth saying at start (dev defaults in sandbox mode, likely typos). */
    warnings,
    /** Where the outbox sends events besides the in-process handler (events/sinks.ts). */
    events,
    /** The daily reconciliation job (jobs/reconciliation.ts). */
    reconcile: {
      /** RECONCILE_ENABLED (default true): whether the job runs; the admin API works either way. */
      enabled: e.RECONCILE_ENABLED,
      /** RECONCILE_AFTER (default `10:00`): Beijing time of day from which yesterday is reconciled. */
      after: e.RECONCILE_AFTER,
    },
  }
}

/** A warning for each variable that looks like a typo of a setting. */
function typoWarnings(env: Record<string, string | undefined>): string[] {
  const warnings: string[] = []
  for (const name of Object.keys(env)) {
    const near = typoOf(name)
    if (near)
      warnings.push(`${name} is not a setting of the Fen server: did you mean ${near}? (ignored)`)
  }
  return warnings
}

/** Each setting read by its parser; a malformed value stops here, before any other check. */
function parseEnv(env: Record<string, string | undefined>): Env {
  const parsed = Env.safeParse(env)
  if (!parsed.success)
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('\n'),
    )
  return parsed.data
}

/**
 * Credentials in a URL would go to every host it names (and fetch refuses such URLs): refused
 * everywhere, the URL never quoted. (NATS's URL is the exception: it is how NATS logs in.)
 */
function refuseCredentials(e: Env, problems: string[]): void {
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
}

/**
 * Sandbox mode (FEN_SANDBOX_URL): the merchant the sandbox reported. A sandbox that could not be
 * read, or a sandbox URL with credentials, stops here with the problems found so far.
 */
function sandboxMerchant(
  e: Env,
  report: SandboxReport | undefined,
  production: boolean,
  problems: string[],
): SandboxMerchant | undefined {
  const url = e.FEN_SANDBOX_URL
  if (!url) return undefined
  if (production)
    problems.push('FEN_SANDBOX_URL: the sandbox is for development; unset it in production')
  if (hasCredentials(url)) throw new ConfigError(problems.join('\n'))
  // A caller's mistake, not a setting's: parseConfig never fetches.
  if (report?.url !== url)
    throw new Error('parseConfig: FEN_SANDBOX_URL is set; pass what readSandbox reported for it')
  if ('error' in report) {
    problems.push(
      `FEN_SANDBOX_URL: could not read ${redactUrl(url).replace(/\/+$/, '')}/__sandbox/merchant (is \`pnpm sandbox\` running?): ${report.error}`,
    )
    throw new ConfigError(problems.join('\n'))
  }
  return report.merchant
}

/** `value`, or a problem naming the setting when it is missing ('' then). */
function required(problems: string[], name: string, value: string | undefined): string {
  if (!value) problems.push(`${name}: required`)
  return value ?? ''
}

/** The mini-program (its message push settings: pushSettings). */
function wechatSettings(e: Env, sandbox: SandboxMerchant | undefined, problems: string[]) {
  return {
    appid: required(problems, 'WECHAT_APPID', e.WECHAT_APPID ?? sandbox?.appid),
    appSecret: required(problems, 'WECHAT_APPSECRET', e.WECHAT_APPSECRET ?? sandbox?.appSecret),
    apiBaseUrl: e.WECHAT_API_BASE_URL ?? e.FEN_SANDBOX_URL ?? DEFAULT_WECHAT_API_BASE_URL,
  }
}

/** The merchant's WeChat Pay settings: keys, verification of WeChat's signatures, hosts. */
function wechatpaySettings(e: Env, sandbox: SandboxMerchant | undefined, problems: string[]) {
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
  const mchid = required(problems, 'WECHATPAY_MCHID', e.WECHATPAY_MCHID ?? sandbox?.mchid)
  const serialNo = required(
    problems,
    'WECHATPAY_SERIAL_NO',
    e.WECHATPAY_SERIAL_NO ?? sandbox?.merchantSerialNo,
  )
  const privateKey = readPem(
    'WECHATPAY_PRIVATE_KEY',
    required(
      problems,
      'WECHATPAY_PRIVATE_KEY',
      e.WECHATPAY_PRIVATE_KEY ?? sandbox?.merchantPrivateKey,
    ) || undefined,
    problems,
  )
  const apiV3Key = required(
    problems,
    'WECHATPAY_APIV3_KEY',
    e.WECHATPAY_APIV3_KEY ?? sandbox?.apiV3Key,
  )
  const apiV2Key = e.WECHATPAY_APIV2_KEY ?? sandbox?.apiV2Key
  const apiVersion = e.WECHATPAY_API_VERSION

  if (privateKey) check(problems, 'WECHATPAY_PRIVATE_KEY', () => loadPrivateKey(privateKey))
  if (apiV3Key) check(problems, 'WECHATPAY_APIV3_KEY', () => loadApiV3Key(apiV3Key))
  if (serialNo && !/^[0-9A-Fa-f]+$/.test(serialNo))
    problems.push('WECHATPAY_SERIAL_NO: must be hex')
  if (apiVersion === 'v2' && !apiV2Key)
    problems.push('WECHATPAY_APIV2_KEY: required when WECHATPAY_API_VERSION=v2')
  if (apiV2Key !== undefined && apiV2Key.length !== 32)
    problems.push('WECHATPAY_APIV2_KEY: must be 32 characters')

  let publicKey: { id: string; pem: string } | undefined
  const sandboxHasPublicKey = sandbox && sandbox.platformMode !== 'certificate'
  const publicKeyId =
    e.WECHATPAY_PUBLIC_KEY_ID ?? (sandboxHasPublicKey ? sandbox.platformPublicKeyId : undefined)
  const publicKeyPem = readPem(
    'WECHATPAY_PUBLIC_KEY',
    e.WECHATPAY_PUBLIC_KEY ?? (sandboxHasPublicKey ? sandbox.platformPublicKey : undefined),
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
  return {
    apiVersion,
    mchid,
    serialNo,
    // Missing only when a problem says so (and nothing is returned).
    privateKey: privateKey!,
    apiV3Key,
    apiV2Key,
    /** The WeChat Pay public key (微信支付公钥), when the merchant has one. */
    publicKey,
    /**
     * Whether platform certificates are downloaded (and kept fresh) from /v3/certificates: always
     * without a public key; with one, only while migrating from certificates to the public key
     * (each signature is then checked with the key its `Wechatpay-Serial` names).
     */
    platformCertificates,
    baseUrl: payBaseUrl,
    /**
     * Failover host of APIv3 (WECHATPAY_BACKUP_BASE_URL): a request that got no HTTP answer from
     * `baseUrl` is sent once more here. undefined: off. APIv2 has no backup.
     */
    backupBaseUrl,
  }
}

/**
 * Where keys may go (docs/operations.md, "Sandbox keys and real keys"). Sandbox keys are the ones
 * the sandbox at FEN_SANDBOX_URL reported — whatever they look like — and keys made by the SDK's
 * test helpers (TEST_KEY_PREFIX); they never go to WeChat's production hosts. Anything else is a
 * real merchant's and goes nowhere else. With FEN_SANDBOX_URL, a key setting given by hand must be
 * the sandbox's own: a real key beside a sandbox URL would be signed with and sent to that host.
 * Production takes real keys only, over https only.
 */
function keyRules(
  e: Env,
  wechat: { apiBaseUrl: string },
  wechatpay: ReturnType<typeof wechatpaySettings>,
  sandbox: SandboxMerchant | undefined,
  production: boolean,
  problems: string[],
): void {
  const { apiV3Key, apiV2Key, privateKey, baseUrl: payBaseUrl, backupBaseUrl } = wechatpay
  const apiBaseUrl = wechat.apiBaseUrl
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
  if (!production) return
  if (apiV3Key && (isTestKey(apiV3Key) || (apiV2Key !== undefined && isTestKey(apiV2Key)))) {
    problems.push(
      "WECHATPAY_APIV3_KEY: a sandbox (test) key; production needs the merchant's real keys",
    )
  }
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

/**
 * JWT_SECRET and ADMIN_TOKEN: development defaults in sandbox mode (with a warning); elsewhere
 * required, and in production neither the defaults nor weak ones.
 */
function authSettings(
  e: Env,
  sandbox: SandboxMerchant | undefined,
  production: boolean,
  warnings: string[],
  problems: string[],
) {
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
  }
  return {
    // Missing only when a problem says so (and nothing is returned).
    jwtSecret: jwtSecret!,
    /** Lifetime of a login token. */
    jwtTtlSeconds: e.JWT_TTL_SECONDS,
    adminToken: adminToken!,
  }
}

/** PostgreSQL, or PGlite (never in production: it commits without fsync). */
function databaseSettings(e: Env, production: boolean, problems: string[]) {
  if (production && !e.DATABASE_URL) {
    problems.push(
      'DATABASE_URL: required in production (PGlite is for dev, demo and tests: it commits without fsync)',
    )
  }
  return {
    /** undefined → embedded PGlite in `dataDir` (dev, demo, tests only). */
    databaseUrl: e.DATABASE_URL,
    dataDir: e.FEN_DATA_DIR,
  }
}

/** Listening, the proxies in front, the public URL, request limits, logging. */
function serverSettings(
  e: Env,
  sandbox: SandboxMerchant | undefined,
  production: boolean,
  problems: string[],
) {
  const publicBaseUrl = e.PUBLIC_BASE_URL ?? (sandbox ? `http://127.0.0.1:${e.PORT}` : undefined)
  if (!publicBaseUrl) problems.push('PUBLIC_BASE_URL: required (WeChat posts notifications to it)')
  else if (production && !publicBaseUrl.startsWith('https://'))
    problems.push(
      'PUBLIC_BASE_URL: must be https:// in production (WeChat notifies over HTTPS only)',
    )
  const logLevel: string = e.LOG_LEVEL
  return {
    port: e.PORT,
    /**
     * The interface to listen on (HOST): 127.0.0.1 in sandbox mode; otherwise undefined, meaning
     * every interface (Node's default, IPv4 and IPv6).
     */
    // Sandbox mode runs with well-known development defaults (admin token, JWT secret): loopback
    // only unless HOST says otherwise. Production listens on every interface, as containers want.
    host: e.HOST ?? (sandbox ? '127.0.0.1' : undefined),
    /** Behind a load balancer: take the client IP from X-Forwarded-For (rate limits, payer IP). */
    trustProxy: e.TRUST_PROXY > 0,
    /**
     * How many proxies in front append to X-Forwarded-For (0 without TRUST_PROXY): the client is the
     * entry that many places from the right. Entries left of it are written by the client and ignored.
     */
    proxyHops: e.TRUST_PROXY,
    /** Where WeChat reaches us: notify_url is built from it. */
    publicBaseUrl: (publicBaseUrl ?? '').replace(/\/+$/, ''),
    /** A request body (a notification's) must arrive within this. */
    bodyTimeoutSeconds: e.BODY_TIMEOUT_SECONDS,
    /** Notification bodies read at once; more are answered 503 (WeChat retries). */
    notifyMaxInFlight: e.NOTIFY_MAX_IN_FLIGHT,
    logLevel,
  }
}

/**
 * Webhooks and NATS (docs/operations.md, "Events to the shop's own systems"). Webhook URLs are
 * http(s), https only in production; they need a secret of at least 32 characters to sign with.
 */
function eventSettings(e: Env, production: boolean, problems: string[]) {
  const allowPrivate = e.WEBHOOK_ALLOW_PRIVATE ?? !production
  const webhookUrls = e.WEBHOOK_URLS ?? []
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
    !e.EVENTS_NATS_ALLOW_PLAINTEXT
  )
    problems.push(
      'EVENTS_NATS_URL: must be tls:// in production (events carry orders and payers); EVENTS_NATS_ALLOW_PLAINTEXT=true allows nats://',
    )
  return {
    /** WEBHOOK_URLS: each gets every event, signed with `webhookSecret`. */
    webhookUrls,
    webhookSecret: secret,
    /**
     * WEBHOOK_ALLOW_PRIVATE (default: false in production, true elsewhere): whether a webhook may
     * go to a loopback, link-local, private or shared address, or this server's own.
     */
    allowPrivate,
    /** EVENTS_NATS_URL: JetStream; subjects `<subjectPrefix>.<type>` on `stream` (made if missing). */
    nats: e.EVENTS_NATS_URL
      ? {
          url: e.EVENTS_NATS_URL,
          stream: e.EVENTS_NATS_STREAM,
          // Two streams may not share subjects: a second shop on one NATS needs its own prefix.
          subjectPrefix: e.EVENTS_NATS_SUBJECT_PREFIX,
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
  e: Env,
  sandbox: SandboxMerchant | undefined,
  production: boolean,
  problems: string[],
): { token: string; aesKey: string } | undefined {
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
  e: Env,
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
