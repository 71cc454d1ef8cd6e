import { randomBytes } from 'node:crypto'
import type { SandboxMerchant } from '@fen/sandbox'
import { expect } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config'

/** A real merchant's configuration (no sandbox, an APIv3 key without the FENTEST prefix). */
export function realMerchantEnv(
  merchant: SandboxMerchant,
  overrides: Record<string, string> = {},
): Record<string, string> {
  return {
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

/** The message of the ConfigError that `env` is refused with (failing the test if it loads). */
export async function configRefusal(env: Record<string, string>): Promise<string> {
  const e = await loadConfig(env).then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(e).toBeInstanceOf(ConfigError)
  return (e as ConfigError).message
}
