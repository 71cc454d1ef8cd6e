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

describe('insecure destinations (issue #23 item 8)', () => {
  it.each([
    ['WECHAT_API_BASE_URL', 'http://api.weixin.qq.com'],
    ['WECHATPAY_BASE_URL', 'http://api.mch.weixin.qq.com'],
    ['WECHATPAY_BACKUP_BASE_URL', 'http://api2.mch.weixin.qq.com'],
  ])('an http:// %s (the AppSecret, signed requests and answers in clear)', async (name, value) => {
    const message = await problems(production({ [name]: value }))
    expect(message).toMatch(new RegExp(`^${name}: must be https:// in production`, 'm'))
    // Elsewhere (a proxy on the same host, say) it loads.
    await loadConfig(production({ [name]: value, NODE_ENV: 'development' }))
  })

  const hooks = { WEBHOOK_SECRET: 'whsec-prod-8f3kQ2xLr9ZpT4vN7bYc1mWd6sHj0aEu' }
  it.each([
    ['https://127.0.0.1/fen', 'loopback'],
    ['https://169.254.169.254/latest/meta-data', 'link-local'],
    ['https://10.1.2.3/fen', 'private'],
    ['https://100.64.0.7/fen', 'shared address space'],
    ['https://[::1]/fen', 'loopback'],
    ['https://[fd00::5]/fen', 'private'],
    ['https://[::ffff:169.254.169.254]/fen', 'link-local'],
    ['https://0.0.0.0/fen', 'unspecified'],
  ])('a webhook to %s (%s) unless WEBHOOK_ALLOW_PRIVATE=true', async (url, range) => {
    const message = await problems(production({ ...hooks, WEBHOOK_URLS: url }))
    expect(message).toMatch(/^WEBHOOK_URLS: 1\. .*WEBHOOK_ALLOW_PRIVATE/m)
    expect(message).toContain(`(${range})`)
    const allowed = await loadConfig(
      production({ ...hooks, WEBHOOK_URLS: url, WEBHOOK_ALLOW_PRIVATE: 'true' }),
    )
    expect(allowed.events.allowPrivate).toBe(true)
  })

  it('webhook hosts are checked again at each delivery: private ones refused by default', async () => {
    const env = { ...hooks, WEBHOOK_URLS: 'https://hooks.example.com/fen' }
    expect((await loadConfig(production(env))).events.allowPrivate).toBe(false)
    expect(
      (await loadConfig(production({ ...env, NODE_ENV: 'development' }))).events.allowPrivate,
    ).toBe(true)
    expect(await problems(production({ ...env, WEBHOOK_ALLOW_PRIVATE: 'yes' }))).toMatch(
      /^WEBHOOK_ALLOW_PRIVATE: /m,
    )
  })

  it('NATS without TLS, unless EVENTS_NATS_ALLOW_PLAINTEXT=true', async () => {
    const plain = { EVENTS_NATS_URL: 'nats://nats.internal:4222' }
    expect(await problems(production(plain))).toMatch(
      /^EVENTS_NATS_URL: must be tls:\/\/ in production .*EVENTS_NATS_ALLOW_PLAINTEXT/m,
    )
    await loadConfig(production({ ...plain, EVENTS_NATS_ALLOW_PLAINTEXT: 'true' }))
    await loadConfig(production({ EVENTS_NATS_URL: 'tls://nats.internal:4222' }))
    await loadConfig(production({ ...plain, NODE_ENV: 'development' }))
  })
})
