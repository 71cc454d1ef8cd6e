/**
 * `GET|POST /api/wechat/push` (消息推送, 安全模式): the URL check, signed and encrypted pushes built
 * with the SDK's `buildPush` as WeChat sends them (JSON and XML), settlement → COMPLETED once,
 * reminders logged and counted, and every unverified push refused with nothing applied.
 */
import type { AdminOrderDetail, ErrorBody, Order } from '@fen/shared'
import { buildPush, pushSignature } from '@fen/wechatpay'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pushReceipts } from '../src/db/schema'
import { claimPushReceipt } from '../src/repositories/push-receipts'
import { startHarness, type Harness } from './harness'

let h: Harness
let shopper: string

beforeAll(async () => {
  h = await startHarness()
  shopper = await h.login()
})
afterAll(() => h?.close())

async function paidOrder(): Promise<AdminOrderDetail> {
  const created = await h.api<Order>('POST', '/api/orders', {
    token: shopper,
    body: { items: [{ productId: 3, quantity: 1 }] },
  })
  expect(created.status).toBe(201)
  const no = created.body.orderNo
  expect(
    (await h.api('POST', `/api/orders/${no}/pay`, { token: shopper, body: { channel: 'native' } }))
      .status,
  ).toBe(200)
  expect((await h.control('POST', '/__sandbox/pay', { out_trade_no: no })).status).toBe(200)
  return h.until(async () => {
    const d = (await h.admin<AdminOrderDetail>('GET', `/api/admin/orders/${no}`)).body
    return d.status === 'PAID' && d
  })
}

async function shippedOrder(): Promise<AdminOrderDetail> {
  const o = await paidOrder()
  const res = await h.admin<AdminOrderDetail & ErrorBody>(
    'POST',
    `/api/admin/orders/${o.orderNo}/ship`,
    { logisticsType: 'pickup' },
  )
  expect(res.status).toBe(200)
  expect(res.body.status).toBe('SHIPPED')
  return { ...o, ...res.body }
}

/** A push as WeChat sends it in 安全模式, with our Token and key (or `spoil` them). */
function push(
  message: Record<string, string | number>,
  opts: { format?: 'json' | 'xml'; token?: string; encrypt?: boolean } = {},
) {
  const settings = h.config.wechat.push!
  const built = buildPush({
    token: opts.token ?? settings.token,
    message: {
      ToUserName: 'gh_fen_sandbox',
      FromUserName: 'o_wechat_system',
      CreateTime: Math.floor(Date.now() / 1000),
      MsgType: 'event',
      ...message,
    },
    format: opts.format ?? 'json',
    ...(opts.encrypt === false
      ? {}
      : { crypto: { encodingAESKey: settings.aesKey, appid: h.config.wechat.appid } }),
  })
  const query = new URLSearchParams(built.query).toString()
  return h.api<string>('POST', `/api/wechat/push?${query}`, {
    raw: built.body,
    headers: { 'content-type': built.contentType },
  })
}

function settlement(o: AdminOrderDetail, extra: Record<string, string | number> = {}) {
  return {
    Event: 'trade_manage_order_settlement',
    transaction_id: o.transactionId!,
    merchant_id: h.config.wechatpay.mchid,
    merchant_trade_no: o.orderNo,
    pay_time: Math.floor(Date.parse(o.paidAt!) / 1000),
    shipped_time: Math.floor(Date.now() / 1000),
    ...extra,
  }
}

async function detail(orderNo: string): Promise<AdminOrderDetail> {
  return (await h.admin<AdminOrderDetail>('GET', `/api/admin/orders/${orderNo}`)).body
}

async function metric(name: string): Promise<string[]> {
  const text = (await h.admin<string>('GET', '/metrics')).body
  return text.split('\n').filter((l) => l.startsWith(name))
}

describe('URL check (GET)', () => {
  it('echoes echostr when signed with our Token', async () => {
    const timestamp = String(Math.floor(Date.now() / 1000))
    const nonce = '123456789'
    const signature = pushSignature(h.config.wechat.push!.token, timestamp, nonce)
    const res = await h.api<string>(
      'GET',
      `/api/wechat/push?signature=${signature}&timestamp=${timestamp}&nonce=${nonce}&echostr=fen-echo-42`,
    )
    expect(res.status).toBe(200)
    expect(res.body).toBe('fen-echo-42')
  })

  it('another Token’s signature → 401, nothing echoed', async () => {
    const timestamp = String(Math.floor(Date.now() / 1000))
    const signature = pushSignature('someoneElsesToken', timestamp, '1')
    const res = await h.api<string>(
      'GET',
      `/api/wechat/push?signature=${signature}&timestamp=${timestamp}&nonce=1&echostr=fen-echo-42`,
    )
    expect(res.status).toBe(401)
    expect(res.body).not.toContain('fen-echo-42')
  })
})

describe('trade_manage_order_settlement', () => {
  it('at settlement (receipt confirmed) the shipped order becomes COMPLETED, with order.completed; a repeat changes nothing', async () => {
    const o = await shippedOrder()
    const confirmedAt = Math.floor(Date.now() / 1000)
    const message = settlement(o, {
      confirm_receive_method: 1,
      confirm_receive_time: confirmedAt,
      settlement_time: confirmedAt,
    })
    const res = await push(message)
    expect(res.status).toBe(200)
    expect(res.body).toBe('success')
    let d = await detail(o.orderNo)
    expect(d.status).toBe('COMPLETED')
    expect(d.completedAt).toBe(new Date(confirmedAt * 1000).toISOString())
    expect(d.events.filter((e) => e.type === 'order.completed')).toHaveLength(1)

    // WeChat retries a push it did not hear back about: answered again, applied once.
    const again = await push(message, { format: 'xml' })
    expect(again.status).toBe(200)
    expect(again.body).toBe('success')
    d = await detail(o.orderNo)
    expect(d.status).toBe('COMPLETED')
    expect(d.events.filter((e) => e.type === 'order.completed')).toHaveLength(1)

    const shopperView = await h.api<Order>('GET', `/api/orders/${o.orderNo}`, { token: shopper })
    expect(shopperView.body.status).toBe('COMPLETED')
    expect(shopperView.body.delivery).toMatchObject({ logisticsType: 'pickup' })
  })

  it('at shipping completion (no confirmation yet) the order stays SHIPPED', async () => {
    const o = await shippedOrder()
    const res = await push(settlement(o, { estimated_settlement_time: 1_900_000_000 }))
    expect(res.status).toBe(200)
    expect(res.body).toBe('success')
    expect((await detail(o.orderNo)).status).toBe('SHIPPED')
  })

  it("another merchant's, or another transaction's, settlement is not applied", async () => {
    const o = await shippedOrder()
    const done = { confirm_receive_time: 1_800_000_000, settlement_time: 1_800_000_000 }
    expect((await push(settlement(o, { ...done, merchant_id: '1900000000' }))).status).toBe(200)
    expect(
      (await push(settlement(o, { ...done, transaction_id: '4200000000202612020000000000' })))
        .status,
    ).toBe(200)
    const d = await detail(o.orderNo)
    expect(d.status).toBe('SHIPPED')
    expect(d.completedAt).toBeUndefined()
    expect((await metric('fen_wechat_pushes_total')).join('\n')).toMatch(
      /event="trade_manage_order_settlement",outcome="rejected"\} 2/,
    )
  })

  it('an order not yet shipped is not completed by a settlement push', async () => {
    const o = await paidOrder()
    await push(
      settlement(o, { confirm_receive_time: 1_800_000_000, settlement_time: 1_800_000_000 }),
    )
    expect((await detail(o.orderNo)).status).toBe('PAID')
  })
})

describe('refused pushes: nothing applied', () => {
  it('a push signed with another Token → 401', async () => {
    const o = await shippedOrder()
    const res = await push(
      settlement(o, { confirm_receive_time: 1_800_000_000, settlement_time: 1_800_000_000 }),
      { token: 'someoneElsesToken' },
    )
    expect(res.status).toBe(401)
    expect((await detail(o.orderNo)).status).toBe('SHIPPED')
  })

  it('a plaintext push (安全模式 expects encryption: a plaintext signature does not cover the body) → 401', async () => {
    const o = await shippedOrder()
    const res = await push(
      settlement(o, { confirm_receive_time: 1_800_000_000, settlement_time: 1_800_000_000 }),
      { encrypt: false },
    )
    expect(res.status).toBe(401)
    expect((await detail(o.orderNo)).status).toBe('SHIPPED')
  })

  it('a body that is neither JSON nor XML, signed → 400', async () => {
    const timestamp = String(Math.floor(Date.now() / 1000))
    const signature = pushSignature(h.config.wechat.push!.token, timestamp, '7')
    const res = await h.api<string>(
      'POST',
      `/api/wechat/push?signature=${signature}&timestamp=${timestamp}&nonce=7`,
      { raw: 'not a push', headers: { 'content-type': 'text/plain' } },
    )
    expect(res.status).toBe(400)
  })

  it('no timestamp or nonce → 401', async () => {
    const res = await h.api<string>('POST', '/api/wechat/push', {
      raw: '{}',
      headers: { 'content-type': 'application/json' },
    })
    expect(res.status).toBe(401)
  })
})

describe('replays (the attacks: test/hostile/push.test.ts)', () => {
  it('a push is remembered for the window only: older receipts go as new pushes come', async () => {
    const db = h.database.db
    const old = new Date(Date.now() - 301_000)
    expect(await claimPushReceipt(db, { key: 'push:from-6-minutes-ago', signedAt: old }, old)).toBe(
      true,
    )
    expect((await push({ Event: 'weapp_audit_success' })).status).toBe(200)
    const keys = (await db.select().from(pushReceipts)).map((r) => r.key)
    expect(keys).not.toContain('push:from-6-minutes-ago')
    expect(keys.some((k) => k.startsWith('push:'))).toBe(true)
  })
})

describe('reminders', () => {
  it('trade_manage_remind_shipping and trade_manage_remind_access_api are acknowledged and counted', async () => {
    const o = await paidOrder()
    const remind = await push({
      Event: 'trade_manage_remind_shipping',
      transaction_id: o.transactionId!,
      merchant_id: h.config.wechatpay.mchid,
      merchant_trade_no: o.orderNo,
      pay_time: Math.floor(Date.parse(o.paidAt!) / 1000),
      msg: '请尽快发货',
    })
    expect(remind.status).toBe(200)
    expect(remind.body).toBe('success')
    const access = await push({
      Event: 'trade_manage_remind_access_api',
      msg: '请接入发货信息管理',
    })
    expect(access.body).toBe('success')
    const lines = (await metric('fen_wechat_pushes_total')).join('\n')
    expect(lines).toMatch(/event="trade_manage_remind_shipping",outcome="applied"\} 1/)
    expect(lines).toMatch(/event="trade_manage_remind_access_api",outcome="applied"\} 1/)
    expect((await detail(o.orderNo)).status).toBe('PAID')
  })
})

describe('a sandbox with message push settings of its own (issue #23, item 12)', () => {
  // As `fen-sandbox start --push-url … --push-token … --push-aes-key …` would set them.
  const own = {
    token: 'ownPushToken2026',
    encodingAESKey: 'b3duLXB1c2gta2V5LW9mLWEtZGV2ZWxvcGVyLTIwMjY',
  }
  let mine: Harness
  beforeAll(async () => {
    mine = await startHarness({
      sandbox: {
        // The server's URL is known only once it listens: re-pointed below, Token and key kept.
        weixin: { push: { url: 'http://127.0.0.1:9/not-yet', format: 'json', ...own } },
      },
    })
  })
  afterAll(() => mine?.close())

  it("the server takes the sandbox's Token and EncodingAESKey from /__sandbox/merchant, and its pushes are applied", async () => {
    expect(mine.config.wechat.push).toEqual({ token: own.token, aesKey: own.encodingAESKey })
    const pointed = await mine.control('POST', '/__sandbox/settings', {
      push: { url: `${mine.url}/api/wechat/push`, format: 'json', ...own },
    })
    expect(pointed.status).toBe(200)
    const pushed = await mine.control<{
      status: string
      attempts: { status: number; reply: string }[]
    }>('POST', '/__sandbox/push', {
      event: 'trade_manage_remind_access_api',
    })
    expect(pushed.status).toBe(200)
    expect(pushed.body.attempts).toEqual([
      expect.objectContaining({ status: 200, reply: 'success' }),
    ])
    expect(pushed.body.status).toBe('delivered')
    const text = (await mine.admin<string>('GET', '/metrics')).body
    expect(text).toMatch(/event="trade_manage_remind_access_api",outcome="applied"\} 1/)
  })
})
