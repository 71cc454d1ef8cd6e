/**
 * No URL setting carries credentials (`user:password@`). Node's fetch refuses such a URL, so a
 * webhook with one failed for a day while the password went to the warn log, `lastError` and the
 * admin API; a base URL with one would hand it to every host it names. Refused in every mode,
 * naming the setting, the password never quoted.
 */
import { randomBytes } from 'node:crypto'
import { generateSandboxKeys, merchantView, type SandboxMerchant } from '@fen/sandbox'
import { beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config'
import { configRefusal, realMerchantEnv } from './support/config'

const PASSWORD = 'S3cretPassw0rd'
const SECRET = 'whsec-test-0123456789abcdefghijklmnop'

let merchant: SandboxMerchant
beforeAll(async () => {
  merchant = merchantView(await generateSandboxKeys())
})

function env(overrides: Record<string, string>): Record<string, string> {
  return realMerchantEnv(merchant, { WEBHOOK_SECRET: SECRET, ...overrides })
}

describe('URLs with credentials', () => {
  it.each(['development', 'production'])(
    'a webhook URL with user:password@ is refused (NODE_ENV=%s), naming which one',
    async (mode) => {
      const message = await configRefusal(
        env({
          NODE_ENV: mode,
          DATABASE_URL: 'postgres://fen@db.internal:5432/fen',
          WECHAT_PUSH_TOKEN: 'shopPushToken2026',
          WECHAT_PUSH_AES_KEY: randomBytes(32).toString('base64').slice(0, 43),
          WEBHOOK_URLS: `https://hooks.example.com/a,https://hook:${PASSWORD}@hooks.example.com/b`,
        }),
      )
      expect(message).toMatch(/^WEBHOOK_URLS: 2\. .*user:password@/m)
      expect(message).not.toContain(PASSWORD)
    },
  )

  it.each([
    ['WECHATPAY_BASE_URL', `https://mch:${PASSWORD}@api.mch.weixin.qq.com`],
    ['WECHAT_API_BASE_URL', `https://app:${PASSWORD}@api.weixin.qq.com`],
    ['WECHATPAY_BACKUP_BASE_URL', `https://mch:${PASSWORD}@api2.mch.weixin.qq.com`],
    ['PUBLIC_BASE_URL', `https://shop:${PASSWORD}@shop.example.com`],
  ])('%s with user:password@ is refused', async (name, value) => {
    const message = await configRefusal(env({ [name]: value }))
    expect(message).toMatch(new RegExp(`^${name}: .*user:password@`, 'm'))
    expect(message).not.toContain(PASSWORD)
  })

  it('a user name alone is refused too', async () => {
    const message = await configRefusal(env({ WEBHOOK_URLS: 'https://token@hooks.example.com/' }))
    expect(message).toMatch(/^WEBHOOK_URLS: 1\. .*user:password@/m)
  })

  it("NATS keeps its credentials in the URL (NATS's own way to log in)", async () => {
    const config = await loadConfig(env({ EVENTS_NATS_URL: `tls://fen:${PASSWORD}@nats.internal` }))
    expect(config.events.nats?.url).toBe(`tls://fen:${PASSWORD}@nats.internal`)
  })
})
