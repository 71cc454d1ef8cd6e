// A TypeScript consumer, type-checked (never run) as typed.ts (CommonJS under node16: the
// packages' .d.cts) and typed.mts (ESM: their .d.ts), with moduleResolution node16 and bundler.
import { ApiError, WechatPay, type NotificationEvent, type Transaction } from '@fen/wechatpay'
import { buildNotification, generateTestMerchant } from '@fen/wechatpay/testing'
import { startSandbox, type RunningSandbox } from '@fen/sandbox'
import { formatFen, type OrderStatus } from '@fen/shared'

export async function pay(sandbox: RunningSandbox): Promise<string> {
  const m = sandbox.merchant
  const wxpay = new WechatPay({
    baseUrl: sandbox.url,
    mchid: m.mchid,
    appid: m.appid,
    serialNo: m.merchantSerialNo,
    privateKey: m.merchantPrivateKey,
    apiV3Key: m.apiV3Key,
    platform: { publicKey: { id: m.platformPublicKeyId, key: m.platformPublicKey } },
  })
  const { code_url } = await wxpay.transactions.native({
    description: 'Fen',
    out_trade_no: 'FEN0001',
    notify_url: 'https://shop.example.com/notify',
    amount: { total: 1 },
  })
  await wxpay.transactions.native({
    description: 'x',
    out_trade_no: 'x',
    notify_url: 'x',
    // @ts-expect-error amounts are integer fen, typed as numbers
    amount: { total: '1' },
  })
  const paid: Transaction = await wxpay.transactions.queryByOutTradeNo('FEN0001')
  const status: OrderStatus = 'PAID'
  return `${code_url} ${paid.trade_state} ${formatFen(paid.amount?.total ?? 0)} ${status}`
}

export async function notified(wxpay: WechatPay, headers: Record<string, string>, body: string) {
  const event: NotificationEvent = await wxpay.parseNotification(headers, body)
  if (event.type === 'transaction') return event.transaction.out_trade_no
  // @ts-expect-error a refund event has no transaction
  return event.transaction
}

export async function helpers(): Promise<unknown> {
  const merchant = await generateTestMerchant()
  const sandbox = await startSandbox({ port: 0 })
  await sandbox.close()
  const error: unknown = new Error('x')
  if (error instanceof ApiError) return error.code
  return { merchant: merchant.mchid, build: typeof buildNotification }
}
