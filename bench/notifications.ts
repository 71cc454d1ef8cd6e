/**
 * Payment notifications for the server benchmarks, built exactly as WeChat builds them, and the
 * SDK's own cost of checking one.
 */
import { PublicKeyVerifier, loadApiV3Key, parseNotification } from '@fen/wechatpay'
import { buildNotification } from '@fen/wechatpay/testing'
import type { SandboxKeys } from '@fen/sandbox'
import type { PreparedRequest } from './stack'

/** The amount of every benchmark order, fen. */
export const TOTAL_FEN = 2990
/** The shopper of every benchmark order. */
export const OPENID = 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o'

let transactionSeq = 0
/** A unique 28-digit transaction_id, as WeChat's look. */
export const nextTransactionId = () => `42000${String(++transactionSeq).padStart(23, '0')}`

/** TRANSACTION.SUCCESS notifications for these orders, signed now, as WeChat sends them. */
export function buildPaymentNotifications(
  keys: SandboxKeys,
  orderNos: string[],
): PreparedRequest[] {
  const timestamp = Math.floor(Date.now() / 1000)
  return orderNos.map((orderNo) => {
    const n = buildNotification({
      apiV3Key: keys.apiV3Key,
      privateKey: keys.platformPrivateKey,
      serial: keys.platformPublicKeyId,
      eventType: 'TRANSACTION.SUCCESS',
      timestamp,
      resource: {
        appid: keys.appid,
        mchid: keys.mchid,
        out_trade_no: orderNo,
        transaction_id: nextTransactionId(),
        trade_type: 'JSAPI',
        trade_state: 'SUCCESS',
        trade_state_desc: '支付成功',
        bank_type: 'OTHERS',
        attach: '',
        success_time: new Date().toISOString().replace(/\.\d+Z$/, '+00:00'),
        payer: { openid: OPENID },
        amount: {
          total: TOTAL_FEN,
          payer_total: TOTAL_FEN,
          currency: 'CNY',
          payer_currency: 'CNY',
        },
      },
    })
    return { method: 'POST', path: '/api/pay/notify', headers: n.headers, body: n.body }
  })
}

/** µs per SDK verify+decrypt of one of these notifications, in this process (one core). */
export async function verifyMicros(keys: SandboxKeys, n: PreparedRequest): Promise<number> {
  const verifier = new PublicKeyVerifier(keys.platformPublicKeyId, keys.platformPublicKey)
  const apiV3Key = loadApiV3Key(keys.apiV3Key)
  const headers = Object.fromEntries(
    Object.entries(n.headers).map(([k, v]) => [k.toLowerCase(), v]),
  )
  const body = Buffer.from(n.body!)
  const once = () =>
    parseNotification({ headers, body, verifier, apiV3Key, nowSeconds: Date.now() / 1000 })
  for (let i = 0; i < 200; i++) await once()
  let ops = 0
  const t0 = performance.now()
  while (performance.now() - t0 < 500) {
    for (let i = 0; i < 16; i++) await once()
    ops += 16
  }
  return ((performance.now() - t0) * 1000) / ops
}
