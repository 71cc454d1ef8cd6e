/**
 * Production mode is recognised however NODE_ENV is spelled (Production, PROD, prod), and in it
 * every development default or weak secret is refused with a message naming its setting.
 */
import { randomBytes } from 'node:crypto'
import { generateSandboxKeys, merchantView, type SandboxMerchant } from '@fen/sandbox'
import { beforeAll, describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../src/config'

let merchant: SandboxMerchant
beforeAll(async () => {
  merchant = merchantView(await generateSandboxKeys())
})

/** A production configuration that loads; each test spoils one setting. */
function production(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'production',
    DATABASE_URL: 'postgres://fen@db.internal:5432/fen',
    WECHAT_APPID: merchant.appid,
    WECHAT_APPSECRET: merchant.appSecret,
    WECHATPAY_MCHID: merchant.mchid,
    WECHATPAY_SERIAL_NO: merchant.merchantSerialNo,
    WECHATPAY_PRIVATE_KEY: merchant.merchantPrivateKey,
    WECHATPAY_APIV3_KEY: 'R' + randomBytes(24).toString('hex').slice(0, 31),
    JWT_SECRET: randomBytes(24).toString('base64url'),
    ADMIN_TOKEN: randomBytes(16).toString('base64url'),
    PUBLIC_BASE_URL: 'https://shop.example.com',
    ...overrides,
  }
}

async function problems(env: Record<string, string>): Promise<string> {
  const e = await loadConfig(env).then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(e).toBeInstanceOf(ConfigError)
  return (e as ConfigError).message
}

describe('NODE_ENV', () => {
  it('a production configuration loads', async () => {
    expect((await loadConfig(production())).production).toBe(true)
  })

  it.each(['Production', 'PRODUCTION', 'prod', 'Prod', ' production '])(
    'NODE_ENV=%j is production too (here: refused without DATABASE_URL)',
    async (value) => {
      const env = production({ NODE_ENV: value })
      delete env.DATABASE_URL
      expect(await problems(env)).toMatch(/^DATABASE_URL: required in production/m)
    },
  )

  it('development and test are not production', async () => {
    for (const value of ['development', 'test']) {
      expect((await loadConfig(production({ NODE_ENV: value }))).production).toBe(false)
    }
  })
})

describe('refused in production, each naming its setting', () => {
  it('sandbox (test) keys, even pointed at a sandbox by hand', async () => {
    const message = await problems(
      production({
        WECHATPAY_APIV3_KEY: merchant.apiV3Key,
        WECHATPAY_BASE_URL: 'http://sandbox.internal:3100',
        WECHAT_API_BASE_URL: 'http://sandbox.internal:3100',
      }),
    )
    expect(message).toMatch(/^WECHATPAY_APIV3_KEY: .*sandbox/m)
  })

  it('the development JWT secret', async () => {
    const message = await problems(
      production({ JWT_SECRET: 'fen-dev-jwt-secret-not-for-production-use-0123456789' }),
    )
    expect(message).toMatch(/^JWT_SECRET: .*development/m)
  })

  it('the development admin token', async () => {
    const message = await problems(production({ ADMIN_TOKEN: 'fen-dev-admin-token' }))
    expect(message).toMatch(/^ADMIN_TOKEN: .*development/m)
  })

  it.each([
    ['JWT_SECRET', 'a'.repeat(32)],
    ['JWT_SECRET', 'ab'.repeat(20)],
    ['JWT_SECRET', '0123456789012345678901234567890123'],
    ['ADMIN_TOKEN', 'x'.repeat(16)],
    ['ADMIN_TOKEN', 'abcdabcdabcdabcd'],
  ])('a weak %s (%s)', async (name, value) => {
    const message = await problems(production({ [name]: value }))
    expect(message).toMatch(new RegExp(`^${name}: .*weak`, 'm'))
    expect(message).not.toContain(value)
  })

  it('an http:// PUBLIC_BASE_URL (WeChat posts notifications over HTTPS only)', async () => {
    const message = await problems(production({ PUBLIC_BASE_URL: 'http://shop.example.com' }))
    expect(message).toMatch(/^PUBLIC_BASE_URL: .*https/m)
  })
})
