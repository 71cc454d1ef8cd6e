/**
 * Shared setup of the fidelity suites (issue 11 part B: where the sandbox answers as WeChat does):
 * one sandbox per file, an independent APIv3 client (wechatpay-axios-plugin primitives), and the
 * few calls every such suite makes — prepay, pay, query, refund, an APIv2 call.
 */
import { afterAll, beforeAll, beforeEach, expect } from 'vitest'
import { Formatter, Rsa } from 'wechatpay-axios-plugin'
import {
  generateSandboxKeys,
  startSandbox,
  type RunningSandbox,
  type StartSandboxOptions,
} from '../../src'
import {
  V3Client,
  control,
  getMerchant,
  parseV2,
  postV2,
  uniqueNo,
  v2Xml,
  verifySignature,
  type Answer,
  type ErrorBody,
  type MerchantView,
  type Refund,
  type Transaction,
  type V2Fields,
} from './independent-client'

export const JSAPI = '/v3/pay/transactions/jsapi'
export const REFUNDS = '/v3/refund/domestic/refunds'
const OPENID = 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o'

/** A started sandbox with its merchant and a client; `reset` before each test. */
export interface Fidelity {
  sb: RunningSandbox
  m: MerchantView
  v3: V3Client
  /** A JSAPI (or other channel's) prepay for a fresh order; returns its out_trade_no. */
  prepay(over?: Record<string, unknown>, path?: string): Promise<string>
  /** `POST /__sandbox/pay`: the shopper pays (or fails). */
  pay(no: string, body?: Record<string, unknown>): Promise<Answer<Transaction & ErrorBody>>
  query(no: string): Promise<Answer<Transaction & ErrorBody>>
  refund(no: string, fen: number, total?: number): Promise<Answer<Refund & ErrorBody>>
  /** A signed APIv2 call (MD5) with the merchant's appid, mch_id and a nonce added. */
  v2(path: string, fields: Record<string, string | number>): Promise<V2Fields>
  /** Moves the sandbox clock. */
  advance(seconds: number): Promise<void>
  /** Sandbox time (ms). */
  now(): Promise<number>
  /** True when the answer carries a valid signature by the sandbox's public key. */
  signed(a: Answer<unknown>): boolean
  /** `wx.requestPayment` through the sandbox's cashier, correctly signed, for an order. */
  requestPayment(no: string, result?: string): Promise<Answer<{ errMsg: string }>>
}

/** Registers beforeAll/afterAll/beforeEach for one sandbox; read the fields inside tests. */
export function useFidelitySandbox(options: StartSandboxOptions = {}): Fidelity {
  const f = {} as Fidelity
  beforeAll(async () => {
    f.sb = await startSandbox({
      keys: await generateSandboxKeys(),
      port: 0,
      refundSettleSeconds: false,
      ...options,
    })
    f.m = await getMerchant(f.sb.url)
    f.v3 = new V3Client(f.sb.url, f.m)
  })
  afterAll(async () => {
    await f.sb?.close()
  })
  beforeEach(async () => {
    expect((await control(f.sb.url, 'POST', '/reset')).status).toBe(204)
  })
  f.prepay = async (over = {}, path = JSAPI) => {
    const no = uniqueNo()
    const a = await f.v3.post(path, {
      appid: f.m.appid,
      mchid: f.m.mchid,
      description: '测试商品',
      out_trade_no: no,
      notify_url: 'https://example.com/notify',
      amount: { total: 100, currency: 'CNY' },
      ...(path === JSAPI ? { payer: { openid: OPENID } } : {}),
      ...over,
    })
    expect(a.status).toBe(200)
    return no
  }
  f.pay = (no, body = {}) =>
    control<Transaction & ErrorBody>(f.sb.url, 'POST', '/pay', { out_trade_no: no, ...body })
  f.query = (no) =>
    f.v3.get<Transaction & ErrorBody>(`/v3/pay/transactions/out-trade-no/${no}?mchid=${f.m.mchid}`)
  f.refund = (no, fen, total = 100) =>
    f.v3.post<Refund & ErrorBody>(REFUNDS, {
      out_trade_no: no,
      out_refund_no: uniqueNo('R'),
      amount: { refund: fen, total, currency: 'CNY' },
    })
  f.v2 = async (path, fields) => {
    const xml = v2Xml(
      { appid: f.m.appid, mch_id: f.m.mchid, nonce_str: uniqueNo('N'), ...fields },
      f.m.apiV2Key,
    )
    const a = await postV2(f.sb.url, path, xml)
    expect(a.status).toBe(200)
    return parseV2(a.text)
  }
  f.advance = async (seconds) => {
    expect((await control(f.sb.url, 'POST', '/clock', { advanceSeconds: seconds })).status).toBe(
      200,
    )
  }
  f.now = async () =>
    Date.parse((await control<{ now: string }>(f.sb.url, 'GET', '/clock')).json.now)
  f.signed = (a) =>
    verifySignature(a.headers, a.text, (serial) =>
      serial === f.m.platformPublicKeyId ? f.m.platformPublicKey : undefined,
    )
  f.requestPayment = async (no, result) => {
    const state = await control<{ orders: { out_trade_no: string; prepay_id: string }[] }>(
      f.sb.url,
      'GET',
      '/state',
    )
    const pkg = `prepay_id=${state.json.orders.find((o) => o.out_trade_no === no)!.prepay_id}`
    const timeStamp = String(Formatter.timestamp())
    return control<{ errMsg: string }>(f.sb.url, 'POST', '/request-payment', {
      appId: f.m.appid,
      timeStamp,
      nonceStr: 'n1',
      package: pkg,
      signType: 'RSA',
      paySign: Rsa.sign(
        Formatter.joinedByLineFeed(f.m.appid, timeStamp, 'n1', pkg),
        f.m.merchantPrivateKey,
      ),
      ...(result === undefined ? {} : { result }),
    })
  }
  return f
}
