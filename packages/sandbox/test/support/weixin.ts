import { MiniProgramClient, WechatPay, type MiniProgramClientOptions } from '@fen/wechatpay'
import type { RunningSandbox } from '../../src/server'

/** Helpers of the mini-program side's tests (tokens, shipping, pushes): the real SDK over HTTP. */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any

/** A control-API call: status and parsed body. */
export async function control(
  sb: RunningSandbox,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Json }> {
  const res = await fetch(sb.url + path, {
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } }),
  })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : undefined }
}

/** A raw `api.weixin.qq.com` call to the sandbox: the parsed answer. */
export async function weixin(
  sb: RunningSandbox,
  path: string,
  body: unknown,
  accessToken?: string,
): Promise<Json> {
  const q = accessToken === undefined ? '' : `?access_token=${encodeURIComponent(accessToken)}`
  const res = await fetch(`${sb.url}${path}${q}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  return res.json()
}

/** The SDK's mini-program client against the sandbox; retries wait nowhere (recorded in `sleeps`). */
export function miniProgram(
  sb: RunningSandbox,
  extra: Partial<MiniProgramClientOptions> & { sleeps?: number[] } = {},
): MiniProgramClient {
  const { sleeps, ...rest } = extra
  return new MiniProgramClient({
    appid: sb.merchant.appid,
    secret: sb.merchant.appSecret,
    baseUrl: sb.url,
    sleep: async (ms) => {
      sleeps?.push(ms)
    },
    ...rest,
  })
}

export function merchantClient(sb: RunningSandbox): WechatPay {
  const m = sb.merchant
  return new WechatPay({
    mchid: m.mchid,
    appid: m.appid,
    serialNo: m.merchantSerialNo,
    privateKey: m.merchantPrivateKey,
    apiV3Key: m.apiV3Key,
    baseUrl: sb.url,
    maxRetries: 0,
    platform: { publicKey: { id: m.platformPublicKeyId, key: m.platformPublicKey } },
  })
}

let seq = 0

/** A JSAPI order, paid by `openid`: its out_trade_no and transaction_id. */
export async function paidJsapiOrder(
  sb: RunningSandbox,
  options: { openid?: string; total?: number; description?: string; pay?: boolean } = {},
): Promise<{ outTradeNo: string; transactionId: string; openid: string }> {
  const openid = options.openid ?? 'oShopper000000000000000000001'
  const outTradeNo = `S${Date.now()}${String(++seq).padStart(4, '0')}`
  await merchantClient(sb).transactions.jsapi({
    appid: sb.merchant.appid,
    description: options.description ?? '测试商品',
    out_trade_no: outTradeNo,
    // Nothing listens there: notifications fail and retry on the sandbox clock, harmlessly.
    notify_url: 'http://127.0.0.1:9/notify',
    amount: { total: options.total ?? 100 },
    payer: { openid },
  })
  if (options.pay === false) return { outTradeNo, transactionId: '', openid }
  const paid = await control(sb, 'POST', '/__sandbox/pay', { out_trade_no: outTradeNo })
  if (paid.status !== 200) throw new Error(`pay failed: ${JSON.stringify(paid.body)}`)
  return { outTradeNo, transactionId: paid.body.transaction_id, openid }
}

/** Advances the sandbox clock. */
export async function advance(sb: RunningSandbox, seconds: number): Promise<void> {
  const r = await control(sb, 'POST', '/__sandbox/clock', { advanceSeconds: seconds })
  if (r.status !== 200) throw new Error(JSON.stringify(r.body))
}

/** The calls the sandbox saw on `path`. */
export async function callsTo(sb: RunningSandbox, path: string): Promise<Json[]> {
  const r = await control(sb, 'GET', '/__sandbox/calls')
  return (r.body as Json[]).filter((c) => c.path === path)
}
