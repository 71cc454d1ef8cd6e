// CommonJS: every published entry loads with require().
const { WechatPay, parseNotification, successReply, SignatureError } = require('@fen/wechatpay')
const { generateTestMerchant, buildNotification } = require('@fen/wechatpay/testing')
const { startSandbox, generateSandboxKeys } = require('@fen/sandbox')
const { formatFen } = require('@fen/shared')

const loaded = { WechatPay, parseNotification, successReply, SignatureError, generateTestMerchant }
for (const [name, value] of Object.entries({
  ...loaded,
  buildNotification,
  startSandbox,
  generateSandboxKeys,
})) {
  if (typeof value !== 'function') throw new Error(`require: ${name} is ${typeof value}`)
}
if (formatFen(2990) !== '¥29.90') throw new Error(`formatFen(2990) is ${formatFen(2990)}`)
console.log(
  `require ok: @fen/wechatpay, @fen/wechatpay/testing, @fen/sandbox, @fen/shared (formatFen(2990) = ${formatFen(2990)})`,
)
