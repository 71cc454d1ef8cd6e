import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  formatBeijingTime,
  parsePush,
  verifyPushUrl,
  type MiniProgramClient,
  type PushMessage,
} from '@fen/wechatpay'
import { startSandbox, type RunningSandbox } from '../src/server'
import type { SandboxEvent } from '../src/events'
import { sandboxKeys } from './support/keys'
import { until } from './support/until'
import { advance, control, miniProgram, paidJsapiOrder, type Json } from './support/weixin'

/**
 * 消息推送 (wechat-ops-api.md §1.5, §3): the sandbox pushes shipping events to a developer server
 * the way WeChat does — signed, encrypted in 安全模式, JSON or XML, retried 3 times in all — and a
 * small listener here checks each one with the SDK's `parsePush`.
 */

const TOKEN = 'SandboxPushToken'
const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG' // 43 characters

let sb: RunningSandbox
let mp: MiniProgramClient
let listener: Server
let url: string
/** What the listener got, parsed by the SDK (or the error parsing threw). */
let received: {
  query: URLSearchParams
  body: string
  contentType?: string
  parsed?: PushMessage
  error?: string
}[]
/** What the listener answers next (one per request, then `success`). */
let replies: { status: number; body: string }[]
let events: SandboxEvent[]
let stopEvents: () => void
/** What reached this process, in order: `push` (the listener) and `answer` (see `rawShip`). */
let arrivals: string[]

beforeAll(async () => {
  sb = await startSandbox({ keys: await sandboxKeys(), port: 0 })
  mp = miniProgram(sb)
  received = []
  replies = []
  arrivals = []
  listener = createServer((req, res) => {
    arrivals.push('push')
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x')
      if (req.method === 'GET') {
        try {
          res.end(verifyPushUrl(u.searchParams, TOKEN))
        } catch {
          res.writeHead(401).end('bad signature')
        }
        return
      }
      const body = Buffer.concat(chunks).toString('utf8')
      const entry: (typeof received)[number] = {
        query: u.searchParams,
        body,
        ...(req.headers['content-type'] ? { contentType: req.headers['content-type'] } : {}),
      }
      received.push(entry)
      const encrypted = u.searchParams.get('encrypt_type') === 'aes'
      parsePush({
        query: u.searchParams,
        body,
        token: TOKEN,
        ...(encrypted ? { crypto: { encodingAESKey: AES_KEY, appid: sb.merchant.appid } } : {}),
      }).then(
        (parsed) => {
          entry.parsed = parsed
          const reply = replies.shift() ?? { status: 200, body: 'success' }
          res.writeHead(reply.status).end(reply.body)
        },
        (e: unknown) => {
          entry.error = String(e)
          res.writeHead(400).end('refused')
        },
      )
    })
  })
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(listener.address() as AddressInfo).port}/api/wechat/push`
  events = []
  stopEvents = sb.sandbox.events.on((e) => events.push(e))
})
afterAll(async () => {
  stopEvents?.()
  await sb?.close()
  listener?.closeAllConnections()
  await new Promise<void>((resolve) => listener?.close(() => resolve()))
})
afterEach(async () => {
  await control(sb, 'POST', '/__sandbox/reset')
  received.length = 0
  replies.length = 0
  events.length = 0
  arrivals.length = 0
})

const configure = (push: object | null) => control(sb, 'POST', '/__sandbox/settings', { push })
const secure = (format: 'json' | 'xml' = 'json') =>
  configure({ url, token: TOKEN, encodingAESKey: AES_KEY, format })

async function ship(o: { outTradeNo: string; openid: string }): Promise<void> {
  await mp.shipping.uploadShippingInfo({
    order_key: { order_number_type: 1, mchid: sb.merchant.mchid, out_trade_no: o.outTradeNo },
    logistics_type: 1,
    delivery_mode: 1,
    shipping_list: [{ tracking_no: 'YT1', express_company: 'YTO', item_desc: '测试商品' }],
    upload_time: formatBeijingTime(sb.sandbox.clock.now(), { milliseconds: true }),
    payer: { openid: o.openid },
  })
}

/**
 * `ship` over plain node:http, noting in `arrivals` the moment the answer's head arrives (the SDK
 * resolves only once it has read and parsed the whole answer).
 */
async function rawShip(o: { outTradeNo: string; openid: string }): Promise<void> {
  const token = await mp.accessToken.get()
  const body = JSON.stringify({
    order_key: { order_number_type: 1, mchid: sb.merchant.mchid, out_trade_no: o.outTradeNo },
    logistics_type: 4,
    delivery_mode: 1,
    shipping_list: [{ item_desc: '测试商品' }],
    upload_time: formatBeijingTime(sb.sandbox.clock.now(), { milliseconds: true }),
    payer: { openid: o.openid },
  })
  const path = `/wxa/sec/order/upload_shipping_info?access_token=${encodeURIComponent(token)}`
  await new Promise<void>((resolve, reject) => {
    const req = request(
      sb.url + path,
      { method: 'POST', headers: { 'Content-Type': 'application/json' } },
      (res) => {
        arrivals.push('answer')
        res.resume()
        res.on('end', resolve)
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

describe('trade_manage_order_settlement', () => {
  it('reaches the developer server after the answer to the upload that caused it', async () => {
    // A merchant's server marks the order shipped from either; which came first decides what it
    // records (the push first once overtook answers: 9 of 10 uploads, after a change to the
    // sandbox's request pipeline). Several uploads, as the order was a race.
    await configure({ url, token: TOKEN })
    for (let i = 0; i < 5; i++) {
      arrivals.length = 0
      await rawShip(await paidJsapiOrder(sb))
      await until(
        () => arrivals.length,
        (n) => n === 2,
      )
      expect(arrivals).toEqual(['answer', 'push'])
    }
  })

  it('is pushed, encrypted (安全模式), when shipping completes and again at settlement after the shopper confirms', async () => {
    await secure()
    const o = await paidJsapiOrder(sb)
    await ship(o)
    await until(
      () => received.length,
      (n) => n === 1,
    )
    const first = received[0]!
    expect(first.error).toBeUndefined()
    expect(first.query.get('encrypt_type')).toBe('aes')
    expect(first.query.get('msg_signature')).toMatch(/^[0-9a-f]{40}$/)
    expect(first.contentType).toBe('application/json')
    expect(JSON.parse(first.body)).toEqual({
      ToUserName: expect.stringMatching(/^gh_/),
      Encrypt: expect.any(String),
    })
    const shipped = first.parsed!
    expect(shipped).toMatchObject({
      type: 'trade_manage_order_settlement',
      stage: 'shipped',
      MsgType: 'event',
      FromUserName: o.openid,
      transaction_id: o.transactionId,
      merchant_id: sb.merchant.mchid,
      merchant_trade_no: o.outTradeNo,
    })
    if (shipped.type !== 'trade_manage_order_settlement') throw new Error('typed above')
    // Express: 10 days to automatic confirmation, settlement at once after it.
    expect(shipped.estimated_settlement_time! - shipped.shipped_time!).toBe(10 * 86400)

    await control(sb, 'POST', '/__sandbox/confirm-receipt', { out_trade_no: o.outTradeNo })
    await until(
      () => received.length,
      (n) => n === 2,
    )
    const settled = received[1]!.parsed!
    expect(settled).toMatchObject({
      type: 'trade_manage_order_settlement',
      stage: 'settled',
      confirm_receive_method: 2,
      transaction_id: o.transactionId,
    })
    const pushes = (await control(sb, 'GET', `/__sandbox/pushes?out_trade_no=${o.outTradeNo}`)).body
    expect(pushes.map((p: Json) => [p.event, p.status, p.attempts.length])).toEqual([
      ['trade_manage_order_settlement', 'delivered', 1],
      ['trade_manage_order_settlement', 'delivered', 1],
    ])
    // The event stream showed the shipping changes and the push attempts.
    const kinds = events.map((e) => (e.type === 'shipping' ? `shipping:${e.data.action}` : e.type))
    expect(kinds).toEqual(
      expect.arrayContaining([
        'shipping:shipped',
        'shipping:confirmed',
        'shipping:settled',
        'push',
      ]),
    )
  })

  it('at automatic confirmation (confirm_receive_method 1), in XML', async () => {
    await secure('xml')
    await control(sb, 'POST', '/__sandbox/settings', { autoConfirmDays: 2 })
    try {
      const o = await paidJsapiOrder(sb)
      await ship(o)
      await advance(sb, 2 * 86400)
      await until(
        () => received.length,
        (n) => n === 2,
      )
      expect(received[1]!.contentType).toBe('text/xml')
      expect(received[1]!.body).toMatch(/^<xml>/)
      expect(received[1]!.parsed).toMatchObject({ stage: 'settled', confirm_receive_method: 1 })
    } finally {
      await control(sb, 'POST', '/__sandbox/settings', { autoConfirmDays: null })
    }
  })

  it('in 明文模式 (no EncodingAESKey): signature over Token, timestamp, nonce; the message in the clear', async () => {
    await configure({ url, token: TOKEN })
    const o = await paidJsapiOrder(sb)
    await ship(o)
    await until(
      () => received.length,
      (n) => n === 1,
    )
    expect(received[0]!.query.get('encrypt_type')).toBeNull()
    expect(JSON.parse(received[0]!.body)).toMatchObject({
      Event: 'trade_manage_order_settlement',
      merchant_trade_no: o.outTradeNo,
    })
    expect(received[0]!.parsed).toMatchObject({ stage: 'shipped' })
  })
})

describe('retries and the control API', () => {
  it('tries 3 times in all while the server does not answer success', async () => {
    await secure()
    replies.push({ status: 200, body: 'fail' }, { status: 500, body: '' })
    const pushed = await control(sb, 'POST', '/__sandbox/push', {
      event: 'trade_manage_remind_access_api',
    })
    expect(pushed.status).toBe(200)
    expect(pushed.body.status).toBe('delivered')
    expect(pushed.body.attempts.map((a: Json) => [a.status, a.ok])).toEqual([
      [200, false],
      [500, false],
      [200, true],
    ])
    expect(received).toHaveLength(3)
    // Every attempt carries the same message (same CreateTime): dedupe on FromUserName + CreateTime.
    expect(new Set(received.map((r) => r.parsed!.CreateTime)).size).toBe(1)

    replies.push(
      { status: 200, body: 'no' },
      { status: 200, body: 'no' },
      { status: 200, body: 'no' },
    )
    const failed = await control(sb, 'POST', '/__sandbox/push', {
      event: 'trade_manage_remind_access_api',
    })
    expect(failed.body.status).toBe('failed')
    expect(failed.body.attempts).toHaveLength(3)
  })

  it('sends any of the three events on demand, with the order fields for the order events', async () => {
    await secure()
    const o = await paidJsapiOrder(sb)
    const remind = await control(sb, 'POST', '/__sandbox/push', {
      event: 'trade_manage_remind_shipping',
      out_trade_no: o.outTradeNo,
    })
    expect(remind.body.status).toBe('delivered')
    expect(received.at(-1)!.parsed).toMatchObject({
      type: 'trade_manage_remind_shipping',
      transaction_id: o.transactionId,
      merchant_trade_no: o.outTradeNo,
      msg: expect.any(String),
    })
    await control(sb, 'POST', '/__sandbox/push', {
      event: 'trade_manage_remind_access_api',
      fields: { msg: '接入提醒' },
    })
    expect(received.at(-1)!.parsed).toMatchObject({
      type: 'trade_manage_remind_access_api',
      msg: '接入提醒',
    })
    await control(sb, 'POST', '/__sandbox/push', {
      event: 'trade_manage_order_settlement',
      out_trade_no: o.outTradeNo,
      stage: 'settled',
    })
    expect(received.at(-1)!.parsed).toMatchObject({
      type: 'trade_manage_order_settlement',
      stage: 'settled',
    })
    expect(
      (await control(sb, 'POST', '/__sandbox/push', { event: 'trade_manage_remind_shipping' }))
        .status,
    ).toBe(400)
  })

  it('refuses a push with none configured, and an EncodingAESKey that is not 43 characters', async () => {
    await configure(null)
    expect(
      (await control(sb, 'POST', '/__sandbox/push', { event: 'trade_manage_remind_access_api' }))
        .body.code,
    ).toBe('PUSH_NOT_CONFIGURED')
    const bad = await configure({ url, token: TOKEN, encodingAESKey: 'short' })
    expect(bad.status).toBe(400)
    // The settings show the mode, never the Token or key.
    await secure()
    const shown = (await control(sb, 'GET', '/__sandbox/settings')).body
    expect(shown.push).toEqual({ url, format: 'json', mode: 'secure' })
  })

  it("/__sandbox/merchant reports the Token and EncodingAESKey (the developer's own, as the console shows them), none while push is off", async () => {
    await configure(null)
    const off = (await control(sb, 'GET', '/__sandbox/merchant')).body
    expect(off).not.toHaveProperty('pushToken')
    expect(off).not.toHaveProperty('pushEncodingAESKey')
    await secure()
    expect((await control(sb, 'GET', '/__sandbox/merchant')).body).toMatchObject({
      pushToken: TOKEN,
      pushEncodingAESKey: AES_KEY,
    })
    await configure({ url, token: TOKEN })
    const plain = (await control(sb, 'GET', '/__sandbox/merchant')).body
    expect(plain.pushToken).toBe(TOKEN)
    expect(plain).not.toHaveProperty('pushEncodingAESKey')
    await secure()
  })

  it('the URL check: a GET with signature, timestamp, nonce and echostr, which the server echoes', async () => {
    await secure()
    const ok = await control(sb, 'POST', '/__sandbox/push/verify')
    expect(ok.body).toMatchObject({ ok: true, status: 200 })
    await configure({ url, token: 'another-token' })
    const refused = await control(sb, 'POST', '/__sandbox/push/verify')
    expect(refused.body).toMatchObject({ ok: false, status: 401 })
  })
})
