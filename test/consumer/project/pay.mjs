// A Native payment against the installed `fen-sandbox`, with the installed SDK, as a shop's own
// test would run it: prepay → the sandbox pays → its notification reaches this process's HTTP
// listener → parseNotification verifies the signature and decrypts the resource.
// Usage: node pay.mjs <sandbox URL>. Prints one line per step, then `RESULT <json>`.
import { createServer } from 'node:http'
import { WechatPay, successReply, failureReply } from '@fen/wechatpay'

const sandboxUrl = process.argv[2]
const control = async (method, path, body) => {
  const res = await fetch(`${sandboxUrl}/__sandbox/${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body && JSON.stringify(body),
  })
  if (!res.ok) throw new Error(`${method} /__sandbox/${path}: ${res.status} ${await res.text()}`)
  return res.json()
}

// The sandbox's test merchant, as a real merchant holds it (keys and certificates in PEM).
const m = await control('GET', 'merchant')
const wxpay = new WechatPay({
  baseUrl: sandboxUrl,
  mchid: m.mchid,
  appid: m.appid,
  serialNo: m.merchantSerialNo,
  privateKey: m.merchantPrivateKey,
  apiV3Key: m.apiV3Key,
  // Both kinds of platform key, so any SANDBOX_MODE verifies.
  platform: {
    publicKey: { id: m.platformPublicKeyId, key: m.platformPublicKey },
    certificates: m.platformCertificates.map((c) => c.certificate),
  },
})
console.log(`merchant ${m.mchid} (platform mode ${m.platformMode})`)

// The shop's notify endpoint: the raw body is what gets verified.
let settle
const notification = new Promise((resolve, reject) => (settle = { resolve, reject }))
const listener = createServer(async (req, res) => {
  const chunks = []
  for await (const chunk of req) chunks.push(chunk)
  const body = Buffer.concat(chunks)
  console.log(
    `notify   ${req.method} ${req.url} reached the listener (${body.length} bytes, Wechatpay-Serial ${req.headers['wechatpay-serial']})`,
  )
  try {
    const event = await wxpay.parseNotification(req.headers, body)
    const reply = successReply()
    res.writeHead(reply.status, reply.headers).end(reply.body)
    settle.resolve(event)
  } catch (e) {
    const reply = failureReply(401, e.message)
    res.writeHead(reply.status, reply.headers).end(reply.body)
    settle.reject(e)
  }
})
await new Promise((resolve) => listener.listen(0, '127.0.0.1', resolve))
const notifyUrl = `http://127.0.0.1:${listener.address().port}/pay/notify`

const outTradeNo = `FENC${Date.now()}`
const prepay = await wxpay.transactions.native({
  description: 'Fen 外部项目测试',
  out_trade_no: outTradeNo,
  notify_url: notifyUrl,
  amount: { total: 2990 },
})
console.log(`prepay   POST /v3/pay/transactions/native ${outTradeNo} → code_url ${prepay.code_url}`)

const paid = await control('POST', 'pay', { code_url: prepay.code_url })
console.log(
  `pay      POST /__sandbox/pay → ${paid.trade_state} (transaction ${paid.transaction_id})`,
)

const event = await notification
if (event.type !== 'transaction') throw new Error(`expected a transaction event, got ${event.type}`)
const t = event.transaction
console.log(
  `verify   parseNotification: signature verified, decrypted ${event.eventType}: ${t.out_trade_no} ${t.trade_state} ${t.amount.total} fen`,
)

const queried = await wxpay.transactions.queryByOutTradeNo(outTradeNo)
console.log(`query    GET /v3/pay/transactions/out-trade-no/${outTradeNo} → ${queried.trade_state}`)

listener.close()
console.log(
  'RESULT ' +
    JSON.stringify({
      outTradeNo,
      eventType: event.eventType,
      notified: {
        out_trade_no: t.out_trade_no,
        trade_state: t.trade_state,
        total: t.amount.total,
        transaction_id: t.transaction_id,
      },
      paidTransactionId: paid.transaction_id,
      queried: queried.trade_state,
    }),
)
