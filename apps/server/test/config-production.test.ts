/**
 * Production mode is recognised however NODE_ENV is spelled (Production, PROD, prod), and in it
 * every development default or weak secret is refused with a message naming its setting.
 */
import { randomBytes } from 'node:crypto'
import { generateSandboxKeys, merchantView, type SandboxMerchant } from '@fen/sandbox'
import { beforeAll, describe, expect, it } from 'vitest'
import { DEV_PUSH_AES_KEY, DEV_PUSH_TOKEN, loadConfig } from '../src/config'
import { configRefusal, realMerchantEnv } from './support/config'

let merchant: SandboxMerchant
beforeAll(async () => {
  merchant = merchantView(await generateSandboxKeys())
})

/** A production configuration that loads; each test spoils one setting. */
function production(overrides: Record<string, string> = {}): Record<string, string> {
  return realMerchantEnv(merchant, {
    NODE_ENV: 'production',
    DATABASE_URL: 'postgres://fen@db.internal:5432/fen',
    WECHAT_PUSH_TOKEN: 'shopPushToken2026',
    WECHAT_PUSH_AES_KEY: randomBytes(32).toString('base64').slice(0, 43),
    ...overrides,
  })
}

const problems = configRefusal

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

describe('message push settings (WECHAT_PUSH_TOKEN, WECHAT_PUSH_AES_KEY)', () => {
  it('are required in production, each named', async () => {
    const env = production()
    delete env.WECHAT_PUSH_TOKEN
    delete env.WECHAT_PUSH_AES_KEY
    const message = await problems(env)
    expect(message).toMatch(/^WECHAT_PUSH_TOKEN: required in production/m)
    expect(message).toMatch(/^WECHAT_PUSH_AES_KEY: required in production/m)
  })

  it('the development defaults are refused in production', async () => {
    const message = await problems(
      production({ WECHAT_PUSH_TOKEN: DEV_PUSH_TOKEN, WECHAT_PUSH_AES_KEY: DEV_PUSH_AES_KEY }),
    )
    expect(message).toMatch(/^WECHAT_PUSH_TOKEN: the development default/m)
    expect(message).toMatch(/^WECHAT_PUSH_AES_KEY: the development default/m)
  })

  it("a Token or EncodingAESKey the console would not accept is refused, the key's text never quoted", async () => {
    const badKey = 'not-a-key-' + 'x'.repeat(33)
    const message = await problems(
      production({ WECHAT_PUSH_TOKEN: 'a b', WECHAT_PUSH_AES_KEY: badKey }),
    )
    expect(message).toMatch(/^WECHAT_PUSH_TOKEN: 3 to 32 letters and digits/m)
    expect(message).toMatch(/^WECHAT_PUSH_AES_KEY: EncodingAESKey must be the 43 characters/m)
    expect(message).not.toContain(badKey)
  })

  it('loaded as given', async () => {
    const env = production()
    const config = await loadConfig(env)
    expect(config.wechat.push).toEqual({
      token: env.WECHAT_PUSH_TOKEN,
      aesKey: env.WECHAT_PUSH_AES_KEY,
    })
  })

  it('outside production, both or neither: neither leaves the push endpoint off', async () => {
    const env = production({ NODE_ENV: 'development' })
    delete env.WECHAT_PUSH_TOKEN
    delete env.WECHAT_PUSH_AES_KEY
    expect((await loadConfig(env)).wechat.push).toBeUndefined()
    const { WECHAT_PUSH_AES_KEY: _key, ...tokenOnly } = production({ NODE_ENV: 'development' })
    expect(await problems(tokenOnly)).toMatch(
      /^WECHAT_PUSH_AES_KEY: required with WECHAT_PUSH_TOKEN/m,
    )
  })
})
