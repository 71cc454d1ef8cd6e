/**
 * Test helpers for code that uses `@fen/wechatpay`: generate a test merchant, build signed and
 * encrypted notifications, sign responses. Import from `@fen/wechatpay/testing`, never in
 * production code. Everything here makes TEST KEYS ONLY.
 */
export { createCertificate, type CertificateOptions } from './certificate'
export {
  generateTestMerchant,
  type GenerateTestMerchantOptions,
  type TestMerchant,
} from './merchant'
export { buildNotification, signResponse, type BuildNotificationInput } from './notification'
export { buildV2Notification } from './v2'
