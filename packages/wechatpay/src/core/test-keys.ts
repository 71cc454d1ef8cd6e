/**
 * Every APIv3 and APIv2 key made by `generateTestMerchant` (and so by the Fen sandbox) starts with
 * this. A server can then refuse to start with test keys against WeChat's production hosts, or
 * with real keys against anything else.
 */
export const TEST_KEY_PREFIX = 'FENTEST'

/** True for a key made by the test helpers. */
export function isTestKey(key: string): boolean {
  return key.startsWith(TEST_KEY_PREFIX)
}

/** WeChat's production API hosts (merchant APIs and mini-program APIs). */
export const PRODUCTION_HOSTS = [
  'api.mch.weixin.qq.com',
  'api2.mch.weixin.qq.com',
  'api.wechatpay.cn',
  'api2.wechatpay.cn',
  'api.weixin.qq.com',
] as const

/** True when `url` points at one of WeChat's production hosts. */
export function isProductionUrl(url: string): boolean {
  try {
    return (PRODUCTION_HOSTS as readonly string[]).includes(new URL(url).hostname)
  } catch {
    return false
  }
}
