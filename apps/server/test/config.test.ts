/**
 * loadConfig, called directly: the sandbox merchant comes from a fake fetchMerchant built from
 * generateSandboxKeys(), so no sandbox needs to run. Every refusal is a ConfigError naming the
 * setting, and no message ever carries a key's value.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateSandboxKeys, merchantView, type SandboxMerchant } from '@fen/sandbox'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ConfigError,
  DEV_PUSH_AES_KEY,
  DEV_PUSH_TOKEN,
  loadConfig,
  platformKeys,
  type Config,
} from '../src/config'

const SANDBOX_URL = 'http://127.0.0.1:3100'
const JWT_SECRET = 'config-test-jwt-secret-0123456789-abcdef'
const ADMIN_TOKEN = 'config-test-admin-token-0123'

/** The nine settings a server without the sandbox cannot start without. */
const REQUIRED = [
  'WECHAT_APPID',
  'WECHAT_APPSECRET',
  'WECHATPAY_MCHID',
  'WECHATPAY_SERIAL_NO',
  'WECHATPAY_PRIVATE_KEY',
  'WECHATPAY_APIV3_KEY',
  'JWT_SECRET',
  'ADMIN_TOKEN',
  'PUBLIC_BASE_URL',
]

let merchant: SandboxMerchant
let fetched: string[]
/** A 32-byte APIv3 key that is not a test key (no FENTEST prefix): a "real" merchant's. */
const REAL_APIV3_KEY = 'R' + randomBytes(24).toString('hex').slice(0, 31)
const REAL_APIV2_KEY = 'V' + randomBytes(24).toString('hex').slice(0, 31)
let dir: string
/** Every ConfigError message seen in this file: checked for secrets at the end. */
const messages: string[] = []

const fetchMerchant = async (url: string) => {
  fetched.push(url)
  return merchant
}

/** Runs loadConfig and returns its ConfigError (failing the test if it did not throw one). */
async function refused(
  env: Record<string, string | undefined>,
  fetch: (url: string) => Promise<SandboxMerchant> = fetchMerchant,
  what = 'loadConfig',
): Promise<string> {
  let error: unknown
  try {
    await loadConfig(env, fetch)
  } catch (e) {
    error = e
  }
  expect(error, `${what} should throw a ConfigError`).toBeInstanceOf(ConfigError)
  const message = (error as ConfigError).message
  messages.push(message)
  return message
}

/** A complete configuration without the sandbox, as a real merchant would set it. */
function realEnv(overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string | undefined> = {
    WECHAT_APPID: merchant.appid,
    WECHAT_APPSECRET: merchant.appSecret,
    WECHATPAY_MCHID: merchant.mchid,
    WECHATPAY_SERIAL_NO: merchant.merchantSerialNo,
    WECHATPAY_PRIVATE_KEY: merchant.merchantPrivateKey,
    WECHATPAY_APIV3_KEY: REAL_APIV3_KEY,
    JWT_SECRET,
    ADMIN_TOKEN,
    PUBLIC_BASE_URL: 'https://shop.example.com',
    WECHAT_PUSH_TOKEN: 'shopPushToken2026',
    WECHAT_PUSH_AES_KEY: randomBytes(32).toString('base64').slice(0, 43),
    ...overrides,
  }
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as Record<
    string,
    string
  >
}

/** The base64 body of a PEM (what would leak if a message quoted the key). */
function pemBody(pem: string): string[] {
  return pem
    .split('\n')
    .filter((l) => l && !l.startsWith('-----'))
    .slice(0, 3)
}

beforeAll(async () => {
  merchant = merchantView(await generateSandboxKeys())
  dir = mkdtempSync(join(tmpdir(), 'fen-config-test-'))
})
afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

describe('sandbox mode (FEN_SANDBOX_URL)', () => {
  it('fills every WeChat setting and both base URLs from the sandbox merchant', async () => {
    fetched = []
    const config = await loadConfig({ FEN_SANDBOX_URL: SANDBOX_URL }, fetchMerchant)
    expect(fetched).toEqual([SANDBOX_URL])
    expect(config.sandboxUrl).toBe(SANDBOX_URL)
    expect(config.wechat).toEqual({
      appid: merchant.appid,
      appSecret: merchant.appSecret,
      apiBaseUrl: SANDBOX_URL,
      push: { token: DEV_PUSH_TOKEN, aesKey: DEV_PUSH_AES_KEY },
    })
    expect(config.wechatpay).toEqual({
      apiVersion: 'v3',
      mchid: merchant.mchid,
      serialNo: merchant.merchantSerialNo,
      privateKey: merchant.merchantPrivateKey,
      apiV3Key: merchant.apiV3Key,
      apiV2Key: merchant.apiV2Key,
      publicKey: { id: merchant.platformPublicKeyId, pem: merchant.platformPublicKey },
      platformCertificates: false,
      baseUrl: SANDBOX_URL,
      backupBaseUrl: undefined,
    } satisfies Config['wechatpay'])
    expect(config.port).toBe(3000)
    expect(config.publicBaseUrl).toBe('http://127.0.0.1:3000')
    expect(config.production).toBe(false)
    expect(config.orderTtlSeconds).toBe(900)
    expect(config.jwtTtlSeconds).toBe(7200)
  })

  it('warns about JWT_SECRET and ADMIN_TOKEN and uses development defaults', async () => {
    const config = await loadConfig({ FEN_SANDBOX_URL: SANDBOX_URL }, fetchMerchant)
    expect(config.jwtSecret.length).toBeGreaterThanOrEqual(32)
    expect(config.adminToken.length).toBeGreaterThanOrEqual(16)
    expect(config.warnings).toHaveLength(2)
    expect(config.warnings.some((w) => w.startsWith('JWT_SECRET'))).toBe(true)
    expect(config.warnings.some((w) => w.startsWith('ADMIN_TOKEN'))).toBe(true)
  })

  it('uses JWT_SECRET and ADMIN_TOKEN when given, without warnings; explicit settings win', async () => {
    const config = await loadConfig(
      {
        FEN_SANDBOX_URL: SANDBOX_URL,
        JWT_SECRET,
        ADMIN_TOKEN,
        WECHAT_APPID: 'wx0123456789abcdef',
        PORT: '4321',
        PUBLIC_BASE_URL: 'http://127.0.0.1:4321/',
      },
      fetchMerchant,
    )
    expect(config.warnings).toEqual([])
    expect(config.jwtSecret).toBe(JWT_SECRET)
    expect(config.adminToken).toBe(ADMIN_TOKEN)
    expect(config.wechat.appid).toBe('wx0123456789abcdef')
    expect(config.port).toBe(4321)
    expect(config.publicBaseUrl).toBe('http://127.0.0.1:4321')
  })

  it('a certificate-only sandbox gives no public key (certificates are downloaded)', async () => {
    const config = await loadConfig({ FEN_SANDBOX_URL: SANDBOX_URL }, async () => ({
      ...merchant,
      platformMode: 'certificate' as const,
    }))
    expect(config.wechatpay.publicKey).toBeUndefined()
    expect(config.wechatpay.platformCertificates).toBe(true)
    expect(config.wechatpay.mchid).toBe(merchant.mchid)
  })

  it('a sandbox migrating (`both`) gives the public key and keeps the certificates', async () => {
    const config = await loadConfig({ FEN_SANDBOX_URL: SANDBOX_URL }, async () => ({
      ...merchant,
      platformMode: 'both' as const,
    }))
    expect(config.wechatpay.publicKey?.id).toBe(merchant.platformPublicKeyId)
    expect(config.wechatpay.platformCertificates).toBe(true)
    expect(platformKeys(config.wechatpay)).toEqual({
      publicKey: { id: merchant.platformPublicKeyId, key: merchant.platformPublicKey },
      certificates: 'download',
    })
  })

  it('names the sandbox URL when the merchant cannot be read', async () => {
    const message = await refused({ FEN_SANDBOX_URL: SANDBOX_URL }, async () => {
      throw new Error('connect ECONNREFUSED')
    })
    expect(message).toContain('FEN_SANDBOX_URL')
    expect(message).toContain(SANDBOX_URL)
  })
})

describe('without the sandbox', () => {
  it('a complete real configuration loads, with WeChat production URLs and no warnings', async () => {
    const config = await loadConfig(realEnv())
    expect(config.sandboxUrl).toBeUndefined()
    expect(config.warnings).toEqual([])
    expect(config.wechatpay.baseUrl).toBe('https://api.mch.weixin.qq.com')
    expect(config.wechat.apiBaseUrl).toBe('https://api.weixin.qq.com')
    expect(config.wechatpay.publicKey).toBeUndefined()
    expect(config.wechatpay.apiV3Key).toBe(REAL_APIV3_KEY)
    expect(platformKeys(config.wechatpay)).toEqual({ certificates: 'download' })
  })

  describe('WECHATPAY_PLATFORM_CERTIFICATES (moving from certificates to the public key)', () => {
    const withPublicKey = (extra: Record<string, string> = {}) =>
      realEnv({
        WECHATPAY_PUBLIC_KEY_ID: merchant.platformPublicKeyId,
        WECHATPAY_PUBLIC_KEY: merchant.platformPublicKey,
        ...extra,
      })

    it('with a public key, certificates are off by default', async () => {
      const config = await loadConfig(withPublicKey())
      expect(platformKeys(config.wechatpay)).toEqual({
        publicKey: { id: merchant.platformPublicKeyId, key: merchant.platformPublicKey },
      })
    })

    it('download keeps them beside the public key while migrating', async () => {
      const config = await loadConfig(
        withPublicKey({ WECHATPAY_PLATFORM_CERTIFICATES: 'download' }),
      )
      expect(platformKeys(config.wechatpay)).toEqual({
        publicKey: { id: merchant.platformPublicKeyId, key: merchant.platformPublicKey },
        certificates: 'download',
      })
    })

    it('off without a public key is refused: nothing could verify WeChat', async () => {
      const message = await refused(realEnv({ WECHATPAY_PLATFORM_CERTIFICATES: 'off' }))
      expect(message).toMatch(/^WECHATPAY_PLATFORM_CERTIFICATES: 'off' needs/m)
    })

    it('anything but download or off is refused', async () => {
      const message = await refused(realEnv({ WECHATPAY_PLATFORM_CERTIFICATES: 'yes' }))
      expect(message).toMatch(/^WECHATPAY_PLATFORM_CERTIFICATES:/m)
    })
  })

  it('names every missing required setting in one ConfigError', async () => {
    const message = await refused({})
    const lines = message.split('\n')
    for (const name of REQUIRED) {
      expect(
        lines.some((l) => l.startsWith(`${name}:`)),
        `${name} should be named in:\n${message}`,
      ).toBe(true)
    }
  })

  it('names one missing setting when only it is missing', async () => {
    for (const name of REQUIRED) {
      const message = await refused(
        realEnv({ [name]: undefined }),
        fetchMerchant,
        `loadConfig without ${name}`,
      )
      expect(
        message.split('\n').map((l) => l.split(':')[0]),
        `without ${name}`,
      ).toEqual([name])
    }
  })
})

describe('refused settings', () => {
  it('a typo of a required setting leaves it missing, and the typo is not quoted', async () => {
    const env = realEnv({ WECHATPAY_APIV3_KEY: undefined })
    const message = await refused({ ...env, WECHATPAY_APIV3KEY: REAL_APIV3_KEY })
    expect(message).toContain('WECHATPAY_APIV3_KEY: required')
    expect(message).not.toContain(REAL_APIV3_KEY)
  })

  it('a typo of a setting is a warning with a suggestion, not a refusal', async () => {
    const config = await loadConfig(
      { FEN_SANDBOX_URL: SANDBOX_URL, JWT_SECRET, ADMIN_TOKEN, WECHAT_APP_ID: 'wx0' },
      fetchMerchant,
    )
    expect(config.wechat.appid).toBe(merchant.appid)
    expect(config.warnings).toEqual([
      'WECHAT_APP_ID is not a setting of the Fen server: did you mean WECHAT_APPID? (ignored)',
    ])
  })

  it('PORT=abc is refused', async () => {
    const message = await refused(realEnv({ PORT: 'abc' }))
    expect(message).toMatch(/^PORT: /m)
  })

  it('reconciliation runs by default from 10:00; RECONCILE_AFTER must be HH:MM', async () => {
    expect((await loadConfig(realEnv(), fetchMerchant)).reconcile).toEqual({
      enabled: true,
      after: '10:00',
    })
    const set = await loadConfig(
      realEnv({ RECONCILE_ENABLED: 'false', RECONCILE_AFTER: '11:30' }),
      fetchMerchant,
    )
    expect(set.reconcile).toEqual({ enabled: false, after: '11:30' })
    const message = await refused(realEnv({ RECONCILE_AFTER: '9:30', RECONCILE_ENABLED: 'yes' }))
    expect(message).toMatch(/^RECONCILE_AFTER: .*HH:MM/m)
    expect(message).toMatch(/^RECONCILE_ENABLED: /m)
  })

  it("automatic refund approval: off by default; the budget defaults to one request's most, 3 approvals, not after shipping", async () => {
    expect((await loadConfig(realEnv(), fetchMerchant)).refundAutoApprove).toEqual({
      maxFen: 0,
      budgetFen: 0,
      maxCount: 3,
      afterShipping: false,
    })
    const on = await loadConfig(realEnv({ REFUND_AUTO_APPROVE_MAX_FEN: '3000' }), fetchMerchant)
    expect(on.refundAutoApprove).toMatchObject({ maxFen: 3000, budgetFen: 3000 })
    const message = await refused(
      realEnv({
        REFUND_AUTO_APPROVE_BUDGET_FEN: '-1',
        REFUND_AUTO_APPROVE_MAX_COUNT: '1.5',
        REFUND_AUTO_APPROVE_SHIPPED: 'yes',
      }),
    )
    expect(message).toMatch(/^REFUND_AUTO_APPROVE_BUDGET_FEN: .*0 to/m)
    expect(message).toMatch(/^REFUND_AUTO_APPROVE_MAX_COUNT: .*0 to 1000/m)
    expect(message).toMatch(/^REFUND_AUTO_APPROVE_SHIPPED: /m)
  })

  it('ORDER_MAX_UNITS_PER_PRODUCT: 20 by default, 0 turns the cap off, a negative is refused', async () => {
    expect((await loadConfig(realEnv(), fetchMerchant)).orderLimits.maxUnitsPerProduct).toBe(20)
    const off = await loadConfig(realEnv({ ORDER_MAX_UNITS_PER_PRODUCT: '0' }), fetchMerchant)
    expect(off.orderLimits.maxUnitsPerProduct).toBeUndefined()
    const message = await refused(realEnv({ ORDER_MAX_UNITS_PER_PRODUCT: '-1' }))
    expect(message).toMatch(/^ORDER_MAX_UNITS_PER_PRODUCT: .*0 to 100000/m)
  })

  it('ORDER_TTL_SECONDS=5 is refused (below a minute)', async () => {
    const message = await refused(realEnv({ ORDER_TTL_SECONDS: '5' }))
    expect(message).toMatch(/^ORDER_TTL_SECONDS: .*60/m)
  })

  it('a 16-byte APIv3 key is refused', async () => {
    const short = 'FENTEST' + 'a'.repeat(9)
    expect(Buffer.byteLength(short)).toBe(16)
    const message = await refused({ FEN_SANDBOX_URL: SANDBOX_URL, WECHATPAY_APIV3_KEY: short })
    expect(message).toMatch(/^WECHATPAY_APIV3_KEY: .*32 bytes/m)
    expect(message).not.toContain(short)
  })

  it('an APIv2 key of the wrong length is refused without quoting it', async () => {
    const v2 = 'FENTEST-not-thirty-two'
    const message = await refused({ FEN_SANDBOX_URL: SANDBOX_URL, WECHATPAY_APIV2_KEY: v2 })
    expect(message).toMatch(/^WECHATPAY_APIV2_KEY: /m)
    expect(message).not.toContain(v2)
  })

  it('a private key that is not an RSA PEM is refused without quoting it', async () => {
    const lines = merchant.merchantPrivateKey.trim().split('\n')
    const broken = [...lines.slice(0, 4), lines.at(-1)].join('\n')
    const message = await refused(realEnv({ WECHATPAY_PRIVATE_KEY: broken }))
    expect(message).toMatch(/^WECHATPAY_PRIVATE_KEY: /m)
    for (const line of pemBody(broken)) expect(message).not.toContain(line)
  })

  it('a non-hex serial number is refused', async () => {
    const message = await refused(realEnv({ WECHATPAY_SERIAL_NO: 'not-hex!' }))
    expect(message).toMatch(/^WECHATPAY_SERIAL_NO: /m)
  })
})

describe('WECHATPAY_PRIVATE_KEY as a file', () => {
  it('a path to a PEM file works', async () => {
    const file = join(dir, 'apiclient_key.pem')
    writeFileSync(file, merchant.merchantPrivateKey)
    const config = await loadConfig(realEnv({ WECHATPAY_PRIVATE_KEY: file }))
    expect(config.wechatpay.privateKey).toBe(merchant.merchantPrivateKey)
  })

  it('a PEM with escaped newlines (one env line) works', async () => {
    const oneLine = merchant.merchantPrivateKey.replaceAll('\n', '\\n')
    const config = await loadConfig(realEnv({ WECHATPAY_PRIVATE_KEY: oneLine }))
    expect(config.wechatpay.privateKey).toBe(merchant.merchantPrivateKey)
  })

  it('a path that does not exist is refused, naming the setting', async () => {
    const message = await refused(
      realEnv({ WECHATPAY_PRIVATE_KEY: join(dir, 'missing', 'apiclient_key.pem') }),
    )
    expect(message).toMatch(/^WECHATPAY_PRIVATE_KEY: .*file/m)
  })

  it('a path to a directory is refused as a ConfigError, naming the setting', async () => {
    const message = await refused(realEnv({ WECHATPAY_PRIVATE_KEY: dir }))
    expect(message).toMatch(/^WECHATPAY_PRIVATE_KEY: /m)
  })

  it('a file that holds no key is refused, naming the setting', async () => {
    const file = join(dir, 'not-a-key.pem')
    writeFileSync(file, 'hello\n')
    const message = await refused(realEnv({ WECHATPAY_PRIVATE_KEY: file }))
    expect(message).toMatch(/^WECHATPAY_PRIVATE_KEY: /m)
  })
})

describe('test keys and production never meet', () => {
  it('test keys with WECHATPAY_BASE_URL=https://api.mch.weixin.qq.com are refused', async () => {
    expect(merchant.apiV3Key.startsWith('FENTEST')).toBe(true)
    const message = await refused({
      FEN_SANDBOX_URL: SANDBOX_URL,
      WECHATPAY_BASE_URL: 'https://api.mch.weixin.qq.com',
    })
    expect(message).toMatch(/^WECHATPAY_BASE_URL: .*test/m)
    expect(message).not.toMatch(/^WECHAT_API_BASE_URL/m)
  })

  it('test keys with the production mini-program host are refused', async () => {
    const message = await refused({
      FEN_SANDBOX_URL: SANDBOX_URL,
      WECHAT_API_BASE_URL: 'https://api.weixin.qq.com',
    })
    expect(message).toMatch(/^WECHAT_API_BASE_URL: /m)
  })

  it('test keys without the sandbox (production URLs by default) are refused', async () => {
    const message = await refused(realEnv({ WECHATPAY_APIV3_KEY: merchant.apiV3Key }))
    expect(message).toMatch(/^WECHATPAY_BASE_URL: /m)
    expect(message).toMatch(/^WECHAT_API_BASE_URL: /m)
  })

  it('a test APIv2 key marks a test merchant too: refused with production URLs', async () => {
    const message = await refused(realEnv({ WECHATPAY_APIV2_KEY: merchant.apiV2Key }))
    expect(message).toMatch(/^WECHATPAY_BASE_URL: .*test/m)
    expect(message).not.toContain(merchant.apiV2Key)
  })

  it('non-test keys with an http://127.0.0.1 base URL are refused', async () => {
    const message = await refused(realEnv({ WECHATPAY_BASE_URL: 'http://127.0.0.1:3100' }))
    expect(message).toMatch(/^WECHATPAY_BASE_URL: .*real merchant keys/m)
    expect(message).toContain('http://127.0.0.1:3100')
  })

  it("keys other than the sandbox's, given with FEN_SANDBOX_URL, are refused", async () => {
    const message = await refused({
      FEN_SANDBOX_URL: SANDBOX_URL,
      WECHATPAY_APIV3_KEY: REAL_APIV3_KEY,
      WECHATPAY_APIV2_KEY: REAL_APIV2_KEY,
    })
    expect(message).toMatch(
      /^WECHATPAY_APIV3_KEY: with FEN_SANDBOX_URL, must be the sandbox's own/m,
    )
    expect(message).toMatch(
      /^WECHATPAY_APIV2_KEY: with FEN_SANDBOX_URL, must be the sandbox's own/m,
    )
    expect(message).not.toContain(REAL_APIV3_KEY)
  })
})

describe('production', () => {
  it('NODE_ENV=production without DATABASE_URL is refused', async () => {
    const message = await refused(realEnv({ NODE_ENV: 'production' }))
    expect(message.split('\n').map((l) => l.split(':')[0])).toEqual(['DATABASE_URL'])
  })

  it('NODE_ENV=production with DATABASE_URL loads', async () => {
    const config = await loadConfig(
      realEnv({ NODE_ENV: 'production', DATABASE_URL: 'postgres://fen@db.internal:5432/fen' }),
    )
    expect(config.production).toBe(true)
    expect(config.databaseUrl).toBe('postgres://fen@db.internal:5432/fen')
  })

  it('NODE_ENV=production with FEN_SANDBOX_URL is refused', async () => {
    const message = await refused({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://fen@db.internal:5432/fen',
      FEN_SANDBOX_URL: SANDBOX_URL,
      JWT_SECRET,
      ADMIN_TOKEN,
    })
    expect(message).toMatch(/^FEN_SANDBOX_URL: /m)
  })
})

describe('APIv2 and public-key settings', () => {
  it('WECHATPAY_API_VERSION=v2 without an APIv2 key is refused', async () => {
    const message = await refused(realEnv({ WECHATPAY_API_VERSION: 'v2' }))
    expect(message).toMatch(/^WECHATPAY_APIV2_KEY: .*v2/m)
  })

  it('WECHATPAY_API_VERSION=v2 with an APIv2 key loads', async () => {
    const config = await loadConfig(
      realEnv({ WECHATPAY_API_VERSION: 'v2', WECHATPAY_APIV2_KEY: REAL_APIV2_KEY }),
    )
    expect(config.wechatpay.apiVersion).toBe('v2')
    expect(config.wechatpay.apiV2Key).toBe(REAL_APIV2_KEY)
  })

  it('an unknown WECHATPAY_API_VERSION is refused', async () => {
    const message = await refused(realEnv({ WECHATPAY_API_VERSION: 'v4' }))
    expect(message).toMatch(/^WECHATPAY_API_VERSION: /m)
  })

  it('WECHATPAY_PUBLIC_KEY_ID without the PUB_KEY_ID_ prefix is refused', async () => {
    const message = await refused({
      FEN_SANDBOX_URL: SANDBOX_URL,
      WECHATPAY_PUBLIC_KEY_ID: merchant.platformPublicKeyId.replace('PUB_KEY_ID_', 'KEY_'),
    })
    expect(message).toMatch(/^WECHATPAY_PUBLIC_KEY_ID: .*PUB_KEY_ID_/m)
  })

  it('WECHATPAY_PUBLIC_KEY_ID without WECHATPAY_PUBLIC_KEY is refused', async () => {
    const message = await refused(
      realEnv({ WECHATPAY_PUBLIC_KEY_ID: merchant.platformPublicKeyId }),
    )
    expect(message).toMatch(/^WECHATPAY_PUBLIC_KEY: /m)
  })

  it('a public key pair given explicitly selects public-key mode', async () => {
    const config = await loadConfig(
      realEnv({
        WECHATPAY_PUBLIC_KEY_ID: merchant.platformPublicKeyId,
        WECHATPAY_PUBLIC_KEY: merchant.platformPublicKey,
      }),
    )
    expect(config.wechatpay.publicKey).toEqual({
      id: merchant.platformPublicKeyId,
      pem: merchant.platformPublicKey,
    })
  })
})

describe('secrets', () => {
  it('a secret too short is refused without quoting it', async () => {
    const message = await refused(
      realEnv({ JWT_SECRET: 'short-jwt-secret', ADMIN_TOKEN: 'short-admin' }),
    )
    expect(message).toMatch(/^JWT_SECRET: .*32/m)
    expect(message).toMatch(/^ADMIN_TOKEN: .*16/m)
    expect(message).not.toContain('short-jwt-secret')
    expect(message).not.toContain('short-admin')
  })

  it('no ConfigError message in this file contains a key, secret or token value', () => {
    expect(messages.length).toBeGreaterThan(20)
    const secrets = [
      merchant.apiV3Key,
      merchant.apiV2Key,
      merchant.appSecret,
      REAL_APIV3_KEY,
      REAL_APIV2_KEY,
      JWT_SECRET,
      ADMIN_TOKEN,
      ...pemBody(merchant.merchantPrivateKey),
    ]
    for (const message of messages) {
      for (const secret of secrets) expect(message).not.toContain(secret)
      expect(message).not.toContain('PRIVATE KEY-----')
    }
  })
})
