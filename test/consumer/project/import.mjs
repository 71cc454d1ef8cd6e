// ESM: every published entry loads with import, named exports included.
import { WechatPay, parseNotification, successReply, SignatureError } from '@fen/wechatpay'
import { generateTestMerchant, buildNotification } from '@fen/wechatpay/testing'
import { startSandbox, generateSandboxKeys } from '@fen/sandbox'
import { formatFen } from '@fen/shared'

const loaded = { WechatPay, parseNotification, successReply, SignatureError, generateTestMerchant }
for (const [name, value] of Object.entries({
  ...loaded,
  buildNotification,
  startSandbox,
  generateSandboxKeys,
})) {
  if (typeof value !== 'function') throw new Error(`import: ${name} is ${typeof value}`)
}
if (formatFen(2990) !== '¥29.90') throw new Error(`formatFen(2990) is ${formatFen(2990)}`)
console.log(
  `import ok: @fen/wechatpay, @fen/wechatpay/testing, @fen/sandbox, @fen/shared (formatFen(2990) = ${formatFen(2990)})`,
)
