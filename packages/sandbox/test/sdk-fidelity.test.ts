/**
 * @fen/wechatpay follows where the sandbox now answers as WeChat does (issue 11 B): signed 4xx
 * answers verify (`signed: true`), a gateway refusal stays unsigned (`signed: false`); the
 * fund-flow bill is applied for and downloaded with its SHA1 checked; APIv2 unifiedorder takes
 * MWEB (`mweb_url`) and APP. The SDK talks HTTP to an in-process sandbox; nothing is stubbed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SignatureError, WechatPay, WechatPayV2, isApiError } from '@fen/wechatpay'
import { generateSandboxKeys, startSandbox, type RunningSandbox, type SandboxKeys } from '../src'

let keys: SandboxKeys
let sb: RunningSandbox
let wxpay: WechatPay
let v2: WechatPayV2

function client(privateKey = sb.merchant.merchantPrivateKey): WechatPay {
  const m = sb.merchant
  return new WechatPay({
    baseUrl: sb.url,
    mchid: m.mchid,
    appid: m.appid,
    serialNo: m.merchantSerialNo,
    privateKey,
    apiV3Key: m.apiV3Key,
    platform: { publicKey: { id: m.platformPublicKeyId, key: m.platformPublicKey } },
    maxRetries: 0,
  })
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p
  } catch (e) {
    return e
  }
  throw new Error('expected a rejection')
}

async function control(path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${sb.url}/__sandbox/${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  })
  expect(res.status).toBe(200)
  return (await res.json()) as Record<string, unknown>
}

beforeAll(async () => {
  keys = await generateSandboxKeys()
  sb = await startSandbox({ keys, port: 0 })
  wxpay = client()
  v2 = new WechatPayV2({
    baseUrl: sb.url,
    mchid: sb.merchant.mchid,
    appid: sb.merchant.appid,
    apiV2Key: sb.merchant.apiV2Key,
  })
})
afterAll(() => sb?.close())

const no = () => `FENSDK${Date.now()}${Math.floor(Math.random() * 1e6)}`

describe('error answers through the SDK', () => {
  it('a 404 ORDER_NOT_EXIST is signed and verified', async () => {
    const e = await rejection(wxpay.transactions.queryByOutTradeNo(no()))
    expect(isApiError(e, 'ORDER_NOT_EXIST')).toBe(true)
    expect(e).toMatchObject({ status: 404, signed: true })
  })

  it('a 401 SIGN_ERROR (the request was not authenticated) is unsigned', async () => {
    // Signed with a key that is not the merchant's: the sandbox cannot verify the request, and
    // does not sign its answer.
    const e = await rejection(client(keys.platformPrivateKey).transactions.queryByOutTradeNo(no()))
    expect(isApiError(e, 'SIGN_ERROR')).toBe(true)
    expect(e).toMatchObject({ status: 401, signed: false })
    expect(e).not.toBeInstanceOf(SignatureError)
  })
})

describe('the fund-flow bill through the SDK', () => {
  it('is applied for and downloaded, its SHA1 checked', async () => {
    const out_trade_no = no()
    await wxpay.transactions.native({
      description: '资金账单测试',
      out_trade_no,
      notify_url: 'https://example.com/notify',
      amount: { total: 1234, currency: 'CNY' },
    })
    const paid = await control('pay', { out_trade_no })
    const date = String(paid.success_time).slice(0, 10)
    const early = await rejection(wxpay.bills.fundFlowBill({ bill_date: date }))
    expect(isApiError(early, 'STATEMENT_CREATING')).toBe(true)
    await control('clock', { advanceSeconds: 2 * 86_400 })

    const bill = await wxpay.bills.fundFlowBill({
      bill_date: date,
      account_type: 'BASIC',
      tar_type: 'GZIP',
    })
    const csv = (await wxpay.bills.download(bill)).toString('utf8')
    expect(csv.startsWith('\uFEFF记账时间,')).toBe(true)
    expect(csv).toContain('`' + out_trade_no)
    expect(csv).toContain('`12.34')
    const none = await rejection(
      wxpay.bills.fundFlowBill({ bill_date: date, account_type: 'FEES' }),
    )
    expect(isApiError(none, 'NO_STATEMENT_EXIST')).toBe(true)
    const special = await wxpay.bills.tradeBill({ bill_date: date, bill_type: 'ALL_SPECIAL' })
    expect((await wxpay.bills.download(special)).toString('utf8')).toContain('`' + out_trade_no)
  })
})

describe('APIv2 unifiedOrder through the SDK', () => {
  it('MWEB answers mweb_url; APP a prepay_id', async () => {
    const base = {
      body: '测试商品',
      total_fee: 100,
      spbill_create_ip: '203.0.113.7',
      notify_url: 'https://example.com/notify',
    }
    const h5 = await v2.unifiedOrder({
      ...base,
      out_trade_no: no(),
      trade_type: 'MWEB',
      scene_info: JSON.stringify({ h5_info: { type: 'Wap', wap_url: 'https://shop.example' } }),
    })
    expect(h5.trade_type).toBe('MWEB')
    expect(h5.mweb_url).toMatch(/\/__sandbox\/h5pay\?prepay_id=wx\w+$/)
    const app = await v2.unifiedOrder({ ...base, out_trade_no: no(), trade_type: 'APP' })
    expect(app.trade_type).toBe('APP')
    expect(app.prepay_id).toMatch(/^wx\w+$/)
    expect(app.mweb_url).toBeUndefined()
    // closeOrder of an unknown order resolves.
    await expect(v2.closeOrder(no())).resolves.toBeUndefined()
  })
})
