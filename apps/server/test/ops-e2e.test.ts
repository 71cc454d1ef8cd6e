/**
 * Issue #12's "Done when" end to end against the sandbox, where shipping.test.ts and
 * wechat-push.test.ts leave a gap (the virtual-goods loop and the reset-fault retry are there):
 * an express shipment completed by WeChat's settlement push, checked with the real `get_order`;
 * uploads refused with an errcode and retried by the job; a token invalidated mid-run (40001) and
 * refreshed once; and the whole payment loop with WeChat Pay's primary domain down.
 */
import type { AdminOrderDetail, Order, PayResponse, Refund } from '@fen/shared'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deliveries, products } from '../src/db/schema'
import { startHarness, type Harness } from './harness'
import { pushTo } from './support/push'

let h: Harness
let shopper: string
let virtualProductId: number

interface Call {
  seq: number
  path: string
  host?: 'backup'
  fault?: string
  status?: number
  out_trade_no?: string
  response_body?: string
}

beforeAll(async () => {
  // The sandbox plays WeChat Pay's backup host too.
  h = await startHarness({ sandbox: { backupPort: 0 } })
  shopper = await h.login()
  const [p] = await h.database.db
    .insert(products)
    .values({ title: '手冲课程（线上）', priceFen: 990, stock: 1000, isVirtual: true })
    .returning()
  virtualProductId = p!.id
  await pushTo(h)
})
afterAll(() => h?.close())

async function paidOrder(productId = 3): Promise<string> {
  const created = await h.api<Order>('POST', '/api/orders', {
    token: shopper,
    body: { items: [{ productId, quantity: 1 }] },
  })
  expect(created.status).toBe(201)
  const no = created.body.orderNo
  const pay = await h.api<PayResponse>('POST', `/api/orders/${no}/pay`, {
    token: shopper,
    body: { channel: 'jsapi' },
  })
  expect(pay.status).toBe(200)
  if (pay.body.channel !== 'jsapi') throw new Error('expected jsapi')
  const cashier = await h.control<{ errMsg: string }>(
    'POST',
    '/__sandbox/request-payment',
    pay.body.params,
  )
  expect(cashier.body.errMsg).toBe('requestPayment:ok')
  await h.until(async () => (await detail(no)).status === 'PAID')
  return no
}

async function detail(orderNo: string): Promise<AdminOrderDetail> {
  return (await h.admin<AdminOrderDetail>('GET', `/api/admin/orders/${orderNo}`)).body
}

/** WeChat's shipping state of the order, through the server's own client and the real get_order. */
async function getOrderState(orderNo: string): Promise<number> {
  const order = await h.services.ctx.miniProgram.shipping.getOrder({
    merchant_id: h.config.wechatpay.mchid,
    merchant_trade_no: orderNo,
  })
  return order.order_state
}

/** Calls the sandbox saw after `seq`, on paths starting with `prefix`. */
async function callsSince(seq: number, prefix = '/'): Promise<Call[]> {
  const all = (await h.control<Call[]>('GET', '/__sandbox/calls')).body
  return all.filter((c) => c.seq > seq && c.path.startsWith(prefix))
}
async function lastSeq(): Promise<number> {
  const all = (await h.control<Call[]>('GET', '/__sandbox/calls')).body
  return all.length === 0 ? 0 : all[all.length - 1]!.seq
}

describe('shipping by express, completed by the settlement push', () => {
  it("the shopper's wx.openBusinessView parameters: only once shipped, only for their own order", async () => {
    const no = await paidOrder()
    const early = await h.api('GET', `/api/orders/${no}/confirm-receipt`, { token: shopper })
    expect(early.status).toBe(409)
    expect(early.body).toMatchObject({ code: 'RECEIPT_NOT_CONFIRMED' })

    await h.admin('POST', `/api/admin/orders/${no}/ship`, {
      logisticsType: 'express',
      expressCompany: 'ZTO',
      trackingNo: 'ZT1234567890124',
    })
    const params = await h.api('GET', `/api/orders/${no}/confirm-receipt`, { token: shopper })
    expect(params.status).toBe(200)
    expect(params.body).toEqual({
      businessType: 'weappOrderConfirm',
      extraData: { merchant_id: h.config.wechatpay.mchid, merchant_trade_no: no },
    })
    const stranger = await h.login()
    const theirs = await h.api('GET', `/api/orders/${no}/confirm-receipt`, { token: stranger })
    expect(theirs.status).toBe(404)
  })

  it('pay → admin ships by express → get_order says 已发货 (2) → shopper confirms → push → COMPLETED', async () => {
    const no = await paidOrder()
    const shipped = await h.admin<AdminOrderDetail>('POST', `/api/admin/orders/${no}/ship`, {
      logisticsType: 'express',
      expressCompany: 'ZTO',
      trackingNo: 'ZT1234567890123',
    })
    expect(shipped.status).toBe(200)
    expect(shipped.body.status).toBe('SHIPPED')
    expect(shipped.body.delivery?.uploadedAt).toEqual(expect.any(String))
    expect(await getOrderState(no)).toBe(2)

    // The shopper confirms in WeChat (wx.openBusinessView); WeChat pushes the settlement.
    const confirmed = await h.control('POST', '/__sandbox/confirm-receipt', { out_trade_no: no })
    expect(confirmed.status).toBe(200)
    const done = await h.until(async () => {
      const d = await detail(no)
      return d.status === 'COMPLETED' && d
    })
    expect(done.completedAt).toEqual(expect.any(String))
    expect([3, 4, 6]).toContain(await getOrderState(no))
    // The mini-program's own confirm-receipt afterwards answers the completed order, once.
    const mine = await h.api<Order>('POST', `/api/orders/${no}/confirm-receipt`, {
      token: shopper,
    })
    expect(mine.status).toBe(200)
    expect(mine.body.status).toBe('COMPLETED')
    const events = (await detail(no)).events.map((e) => e.type)
    expect(events).toEqual(['order.paid', 'order.shipped', 'order.completed'])
  })
})

describe('an upload WeChat refuses twice with an errcode', () => {
  it('is retried by the shipping job and shipped; WeChat sees one report', async () => {
    const no = await paidOrder()
    // 45009 (a quota reached): not retried inside the call, not a refusal for good.
    const armed = await h.control('POST', '/__sandbox/faults', {
      target: '/wxa/sec/order/upload_shipping_info',
      kind: 'errcode',
      errcode: 45009,
      count: 2,
    })
    expect(armed.status).toBe(200)
    const res = await h.admin<AdminOrderDetail>('POST', `/api/admin/orders/${no}/ship`, {
      logisticsType: 'pickup',
    })
    expect(res.status).toBe(200)
    expect(res.body.status).toBe('SHIPPED')
    expect(res.body.delivery?.uploadedAt).toBeUndefined()
    const row = async () =>
      (await h.database.db.select().from(deliveries).where(eq(deliveries.orderNo, no)))[0]
    expect(await row()).toMatchObject({ uploadAttempts: 1, uploadGaveUpAt: null })

    h.advance(31)
    expect(await h.shipJob()).toMatchObject({ uploaded: 0, failed: 1 })
    h.advance(121)
    expect(await h.shipJob()).toMatchObject({ uploaded: 1, failed: 0 })
    expect(await row()).toMatchObject({ uploadAttempts: 3, uploadGaveUpAt: null })
    expect((await detail(no)).delivery?.uploadedAt).toEqual(expect.any(String))
    expect(await getOrderState(no)).toBe(2)
    const wx = await h.control<{ uploads: number }[]>(
      'GET',
      `/__sandbox/shipping?out_trade_no=${no}`,
    )
    expect(wx.body[0]).toMatchObject({ uploads: 1 })
  })
})

describe('an access_token invalidated mid-run (40001)', () => {
  it('is refreshed once: one stable_token call, the get_order repeated, the order completed', async () => {
    const no = await paidOrder(virtualProductId)
    expect(await h.shipJob()).toMatchObject({ virtualShipped: 1, uploaded: 1 })
    // Without the push, only the shopper's confirm-receipt (checked with get_order) completes it.
    await h.control('POST', '/__sandbox/settings', { push: null })
    try {
      expect(
        (await h.control('POST', '/__sandbox/confirm-receipt', { out_trade_no: no })).status,
      ).toBe(200)
      const spoiled = await h.control('POST', '/__sandbox/access-token/expire', {
        how: 'invalid',
      })
      expect(spoiled.status).toBe(200)
      const seen = await lastSeq()
      const res = await h.api<Order>('POST', `/api/orders/${no}/confirm-receipt`, {
        token: shopper,
      })
      expect(res.status).toBe(200)
      expect(res.body.status).toBe('COMPLETED')
      expect((await callsSince(seen, '/cgi-bin/stable_token')).length).toBe(1)
      const gets = await callsSince(seen, '/wxa/sec/order/get_order')
      expect(gets.map((c) => JSON.parse(c.response_body!).errcode)).toEqual([40001, 0])
      // The refreshed token is the one stored for every instance, and WeChat's current one.
      const overview = await h.control<{ stable: { status: string } }>(
        'GET',
        '/__sandbox/access-token',
      )
      expect(overview.body.stable.status).toBe('ok')
    } finally {
      await pushTo(h)
    }
  })
})

describe("WeChat Pay's primary domain down", () => {
  it('pay, query (sync) and a refund all succeed on the backup; every primary try got no answer', async () => {
    const armed = await h.control('POST', '/__sandbox/faults', {
      target: '/v3/',
      kind: 'unreachable',
      rate: 1,
    })
    expect(armed.status).toBe(200)
    try {
      const no = await paidOrder()
      const synced = await h.admin<AdminOrderDetail>('POST', `/api/admin/orders/${no}/sync`)
      expect(synced.body.status).toBe('PAID')
      const refund = await h.admin<Refund>('POST', `/api/admin/orders/${no}/refunds`, {
        amountFen: 100,
        reason: '备用域名测试',
      })
      expect(refund.status).toBe(201)
      expect(['PROCESSING', 'SUCCESS']).toContain(refund.body.status)

      const calls = (await h.control<Call[]>('GET', `/__sandbox/calls?out_trade_no=${no}`)).body
      const pay = calls.filter((c) => c.path.startsWith('/v3/'))
      // Prepay, query and refund at least: each a primary try with no answer, then the backup.
      expect(pay.length).toBeGreaterThanOrEqual(6)
      for (let i = 0; i < pay.length; i += 2) {
        expect([pay[i]!.host ?? 'primary', pay[i]!.fault]).toEqual(['primary', 'unreachable'])
        expect([pay[i + 1]!.host, pay[i + 1]!.path]).toEqual(['backup', pay[i]!.path])
        expect(pay[i + 1]!.status).toBeLessThan(300)
      }
      expect(pay.some((c) => c.path.startsWith('/v3/refund/'))).toBe(true)
    } finally {
      await h.control('DELETE', '/__sandbox/faults')
    }
  })
})
