/**
 * Shipping management through the real sandbox (its stable_token, /wxa/sec/order/* and message
 * push): virtual goods shipped by the shipping job, the operator's express shipment, the shopper's
 * confirm-receipt checked with get_order, settlement pushes completing orders, uploads retried
 * under a lease until WeChat takes them, an access_token that expires mid-run, refunds and
 * shipping (a refunded order never ships; after-sales refunds of a shipped one), and the
 * database-backed token store ("newest wins").
 */
import type { AdminOrderDetail, ErrorBody, Order, PayResponse } from '@fen/shared'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { accessTokens, deliveries, products } from '../src/db/schema'
import { DbAccessTokenStore } from '../src/repositories/access-tokens'
import { startHarness, type ApiResponse, type Harness } from './harness'
import { pushTo } from './support/push'

let h: Harness
let shopper: string
let virtualProductId: number

interface SandboxShipping {
  out_trade_no: string
  order_state: number
  logistics_type: number
  finish_shipping: boolean
  finish_shipping_count: number
  uploads: number
  shipping_list: { tracking_no?: string; express_company?: string; item_desc?: string }[]
}

beforeAll(async () => {
  h = await startHarness()
  shopper = await h.login()
  const [p] = await h.database.db
    .insert(products)
    .values({ title: '咖啡会员月卡（电子券）', priceFen: 1990, stock: 1000, isVirtual: true })
    .returning()
  virtualProductId = p!.id
  await pushTo(h)
})
afterAll(() => h?.close())

function expectError(res: ApiResponse<unknown>, status: number, code: string): void {
  expect({ status: res.status, code: (res.body as ErrorBody).code }).toEqual({ status, code })
}

/** An order paid through JSAPI (the shipping system knows mini-program payments only). */
async function paidOrder(productId = 3, token = shopper): Promise<Order> {
  const created = await h.api<Order>('POST', '/api/orders', {
    token,
    body: { items: [{ productId, quantity: 1 }] },
  })
  expect(created.status).toBe(201)
  const no = created.body.orderNo
  const pay = await h.api<PayResponse>('POST', `/api/orders/${no}/pay`, {
    token,
    body: { channel: 'jsapi' },
  })
  if (pay.body.channel !== 'jsapi') throw new Error('expected jsapi')
  const cashier = await h.control<{ errMsg: string }>(
    'POST',
    '/__sandbox/request-payment',
    pay.body.params,
  )
  expect(cashier.body.errMsg).toBe('requestPayment:ok')
  return h.until(async () => {
    const o = await h.api<Order>('GET', `/api/orders/${no}`, { token })
    return o.body.status === 'PAID' && o.body
  })
}

function ship(orderNo: string, body: unknown): Promise<ApiResponse<AdminOrderDetail & ErrorBody>> {
  return h.admin('POST', `/api/admin/orders/${orderNo}/ship`, body)
}

async function detail(orderNo: string): Promise<AdminOrderDetail> {
  return (await h.admin<AdminOrderDetail>('GET', `/api/admin/orders/${orderNo}`)).body
}

async function wechatShipping(orderNo: string): Promise<SandboxShipping | undefined> {
  return (await h.control<SandboxShipping[]>('GET', `/__sandbox/shipping?out_trade_no=${orderNo}`))
    .body[0]
}

async function deliveryRow(orderNo: string) {
  const [row] = await h.database.db.select().from(deliveries).where(eq(deliveries.orderNo, orderNo))
  return row
}

async function metric(name: string): Promise<string> {
  const text = (await h.admin<string>('GET', '/metrics')).body
  return text
    .split('\n')
    .filter((l) => l.startsWith(name))
    .join('\n')
}

describe('virtual goods', () => {
  it('paid → shipped by the shipping job (virtual) → shopper confirms at WeChat → settlement push → COMPLETED', async () => {
    const o = await paidOrder(virtualProductId)
    // Not shipped inside the payment: the order is PAID until the job runs.
    expect((await detail(o.orderNo)).status).toBe('PAID')
    const run = await h.shipJob()
    expect(run).toMatchObject({ virtualShipped: 1, uploaded: 1, failed: 0, errors: 0 })

    const shipped = await detail(o.orderNo)
    expect(shipped.status).toBe('SHIPPED')
    expect(shipped.delivery).toMatchObject({
      logisticsType: 'virtual',
      itemDesc: '咖啡会员月卡（电子券）',
      uploadedAt: expect.any(String),
      shippedAt: expect.any(String),
    })
    expect(await wechatShipping(o.orderNo)).toMatchObject({
      order_state: 2,
      logistics_type: 3,
      finish_shipping: true,
    })
    // A second run finds nothing to do.
    expect(await h.shipJob()).toMatchObject({ virtualShipped: 0, uploaded: 0 })

    const confirmed = await h.control('POST', '/__sandbox/confirm-receipt', {
      out_trade_no: o.orderNo,
    })
    expect(confirmed.status).toBe(200)
    const done = await h.until(async () => {
      const d = await detail(o.orderNo)
      return d.status === 'COMPLETED' && d
    })
    expect(done.completedAt).toEqual(expect.any(String))
    expect(done.events.map((e) => e.type)).toEqual([
      'order.paid',
      'order.shipped',
      'order.completed',
    ])
    const mine = await h.api<Order>('GET', `/api/orders/${o.orderNo}`, { token: shopper })
    expect(mine.body).toMatchObject({ status: 'COMPLETED', delivery: { logisticsType: 'virtual' } })
  })

  it('an order with a physical line is left for the operator', async () => {
    const created = await h.api<Order>('POST', '/api/orders', {
      token: shopper,
      body: {
        items: [
          { productId: virtualProductId, quantity: 1 },
          { productId: 3, quantity: 1 },
        ],
      },
    })
    const no = created.body.orderNo
    const pay = await h.api<PayResponse>('POST', `/api/orders/${no}/pay`, {
      token: shopper,
      body: { channel: 'jsapi' },
    })
    if (pay.body.channel !== 'jsapi') throw new Error('expected jsapi')
    await h.control('POST', '/__sandbox/request-payment', pay.body.params)
    await h.until(async () => (await detail(no)).status === 'PAID')
    expect((await h.shipJob()).virtualShipped).toBe(0)
    expect((await detail(no)).status).toBe('PAID')
  })
})

describe('the operator ships by express', () => {
  it('→ SHIPPED with the delivery, reported to WeChat (已发货); confirm-receipt is refused until WeChat says 确认收货, then COMPLETED', async () => {
    const o = await paidOrder()
    const res = await ship(o.orderNo, {
      logisticsType: 'express',
      expressCompany: 'YTO',
      trackingNo: 'YT7500123456789',
    })
    expect(res.status).toBe(200)
    expect(res.body.status).toBe('SHIPPED')
    expect(res.body.delivery).toMatchObject({
      logisticsType: 'express',
      expressCompany: 'YTO',
      trackingNo: 'YT7500123456789',
      itemDesc: '陶瓷马克杯',
      uploadedAt: expect.any(String),
    })
    const wx = await wechatShipping(o.orderNo)
    expect(wx).toMatchObject({ order_state: 2, logistics_type: 1, finish_shipping_count: 1 })
    expect(wx!.shipping_list[0]).toMatchObject({
      tracking_no: 'YT7500123456789',
      express_company: 'YTO',
    })

    // The client says "confirmed"; WeChat does not: refused, nothing changes.
    const early = await h.api<ErrorBody>('POST', `/api/orders/${o.orderNo}/confirm-receipt`, {
      token: shopper,
    })
    expectError(early, 409, 'RECEIPT_NOT_CONFIRMED')
    expect((await detail(o.orderNo)).status).toBe('SHIPPED')

    // Without the push (switched off), confirm-receipt alone completes it, checked with get_order.
    await h.control('POST', '/__sandbox/settings', { push: null })
    try {
      await h.control('POST', '/__sandbox/confirm-receipt', { out_trade_no: o.orderNo })
      expect((await detail(o.orderNo)).status).toBe('SHIPPED')
      const other = await h.login('o_someone_else_0001')
      expectError(
        await h.api('POST', `/api/orders/${o.orderNo}/confirm-receipt`, { token: other }),
        404,
        'ORDER_NOT_FOUND',
      )
      const ok = await h.api<Order>('POST', `/api/orders/${o.orderNo}/confirm-receipt`, {
        token: shopper,
      })
      expect(ok.status).toBe(200)
      expect(ok.body.status).toBe('COMPLETED')
      expect(ok.body.completedAt).toEqual(expect.any(String))
      // Idempotent: again → the same, one order.completed.
      const again = await h.api<Order>('POST', `/api/orders/${o.orderNo}/confirm-receipt`, {
        token: shopper,
      })
      expect(again.body.status).toBe('COMPLETED')
      const d = await detail(o.orderNo)
      expect(d.events.filter((e) => e.type === 'order.completed')).toHaveLength(1)
    } finally {
      await pushTo(h)
    }
    expect(await metric('fen_shipping_actions_total')).toMatch(
      /action="completed_by_confirm_receipt"\} 1/,
    )
  })

  it('a repeat of the same ship request answers the order; other details → 409 ORDER_ALREADY_SHIPPED; WeChat saw one upload', async () => {
    const o = await paidOrder()
    const body = { logisticsType: 'express', expressCompany: 'ZTO', trackingNo: '7300000000001' }
    expect((await ship(o.orderNo, body)).status).toBe(200)
    const repeat = await ship(o.orderNo, body)
    expect(repeat.status).toBe(200)
    expect(repeat.body.status).toBe('SHIPPED')
    expectError(
      await ship(o.orderNo, { ...body, trackingNo: '7300000000002' }),
      409,
      'ORDER_ALREADY_SHIPPED',
    )
    expect((await wechatShipping(o.orderNo))!.uploads).toBe(1)
    expect((await detail(o.orderNo)).events.filter((e) => e.type === 'order.shipped')).toHaveLength(
      1,
    )
  })

  it('SF (顺丰) needs the shopper’s contact: without an address phone → 400, nothing shipped', async () => {
    const o = await paidOrder()
    expectError(
      await ship(o.orderNo, {
        logisticsType: 'express',
        expressCompany: 'SF',
        trackingNo: 'SF1400000000001',
      }),
      400,
      'INVALID_INPUT',
    )
    expect((await detail(o.orderNo)).status).toBe('PAID')
    expect(await deliveryRow(o.orderNo)).toBeUndefined()
  })

  it('bad requests: express without a tracking number → 400; an unpaid order → 409 ORDER_NOT_SHIPPABLE; unknown → 404', async () => {
    const o = await paidOrder()
    expectError(
      await ship(o.orderNo, { logisticsType: 'express', expressCompany: 'YTO' }),
      400,
      'INVALID_INPUT',
    )
    expectError(await ship(o.orderNo, { logisticsType: 'drone' }), 400, 'INVALID_INPUT')
    const unpaid = await h.api<Order>('POST', '/api/orders', {
      token: shopper,
      body: { items: [{ productId: 3, quantity: 1 }] },
    })
    expectError(
      await ship(unpaid.body.orderNo, { logisticsType: 'pickup' }),
      409,
      'ORDER_NOT_SHIPPABLE',
    )
    expectError(await ship('FEN000000000000', { logisticsType: 'pickup' }), 404, 'ORDER_NOT_FOUND')
    expect((await detail(o.orderNo)).status).toBe('PAID')
  })
})

describe('uploads WeChat does not take at once', () => {
  it('an upload that fails twice is retried by the job after its backoff, and the order is reported once', async () => {
    const o = await paidOrder()
    await h.control('POST', '/__sandbox/faults', {
      target: '/wxa/sec/order/upload_shipping_info',
      kind: 'reset',
      count: 2,
    })
    const res = await ship(o.orderNo, { logisticsType: 'same_city' })
    // Shipped here whatever WeChat said: the report is retried, never lost.
    expect(res.status).toBe(200)
    expect(res.body.status).toBe('SHIPPED')
    expect(res.body.delivery!.uploadedAt).toBeUndefined()
    expect(await deliveryRow(o.orderNo)).toMatchObject({ uploadAttempts: 1 })

    // Not due yet: the job leaves it alone.
    expect(await h.shipJob()).toMatchObject({ uploaded: 0, failed: 0 })
    h.advance(31)
    expect(await h.shipJob()).toMatchObject({ uploaded: 0, failed: 1 })
    expect(await deliveryRow(o.orderNo)).toMatchObject({ uploadAttempts: 2 })
    expect(await metric('fen_shipping_uploads_pending')).toMatch(/ [1-9]\d*$/)
    h.advance(121)
    expect(await h.shipJob()).toMatchObject({ uploaded: 1, failed: 0 })

    const d = await detail(o.orderNo)
    expect(d.delivery!.uploadedAt).toEqual(expect.any(String))
    expect(await deliveryRow(o.orderNo)).toMatchObject({
      uploadAttempts: 3,
      uploadLeaseUntil: null,
    })
    expect(await wechatShipping(o.orderNo)).toMatchObject({
      order_state: 2,
      logistics_type: 2,
      uploads: 1,
      finish_shipping_count: 1,
    })
  })

  it('WeChat refusing the report for good (10060004) stops the retries and shows in the metrics', async () => {
    const o = await paidOrder()
    await h.control('POST', '/__sandbox/faults', {
      target: '/wxa/sec/order/upload_shipping_info',
      kind: 'errcode',
      errcode: 10060004,
      count: 1,
    })
    const res = await ship(o.orderNo, { logisticsType: 'pickup' })
    expect(res.status).toBe(200)
    expect(res.body.delivery!.uploadedAt).toBeUndefined()
    expect((await deliveryRow(o.orderNo))!.uploadGaveUpAt).toBeInstanceOf(Date)
    h.advance(3600)
    expect(await h.shipJob()).toMatchObject({ uploaded: 0, failed: 0 })
    expect(await metric('fen_shipping_uploads_refused')).toMatch(/ 1$/)
  })

  it('an access_token that expires mid-run is refreshed once, and the upload goes through', async () => {
    const first = await paidOrder()
    expect(
      (await ship(first.orderNo, { logisticsType: 'pickup' })).body.delivery!.uploadedAt,
    ).toEqual(expect.any(String))
    const [before] = await h.database.db.select().from(accessTokens)
    expect(before).toBeDefined()
    type Call = { seq: number; path: string }
    const seen = Math.max(
      ...(await h.control<Call[]>('GET', '/__sandbox/calls')).body.map((c) => c.seq),
    )

    const spoiled = await h.control<{ access_token: string; status: string }>(
      'POST',
      '/__sandbox/access-token/expire',
      { how: 'expired' },
    )
    expect(spoiled.status).toBe(200)
    expect(spoiled.body.access_token).toBe(before!.accessToken)

    const next = await paidOrder()
    const res = await ship(next.orderNo, { logisticsType: 'pickup' })
    expect(res.body.delivery!.uploadedAt).toEqual(expect.any(String))
    const [after] = await h.database.db.select().from(accessTokens)
    expect(after!.accessToken).not.toBe(before!.accessToken)
    const overview = await h.control<{ stable: { access_token: string; status: string } }>(
      'GET',
      '/__sandbox/access-token',
    )
    expect(overview.body.stable).toMatchObject({ access_token: after!.accessToken, status: 'ok' })
    // Exactly one refresh: the calls with the expired token, then one stable_token, then the retry.
    // One refresh: the upload with the expired token (42001), one stable_token, the upload again.
    const since = (await h.control<Call[]>('GET', '/__sandbox/calls')).body.filter(
      (c) => c.seq > seen && (c.path.startsWith('/wxa/') || c.path.startsWith('/cgi-bin/')),
    )
    expect(since.map((c) => c.path)).toEqual([
      '/wxa/sec/order/upload_shipping_info',
      '/cgi-bin/stable_token',
      '/wxa/sec/order/upload_shipping_info',
    ])
  })
})

describe('refunds and shipping', () => {
  it('an order refunded in full, or being so, cannot be shipped (409 ORDER_NOT_SHIPPABLE)', async () => {
    const full = await paidOrder()
    const r = await h.admin<{ outRefundNo: string }>(
      'POST',
      `/api/admin/orders/${full.orderNo}/refunds`,
      { amountFen: full.totalFen, reason: '缺货' },
    )
    expect(r.status).toBe(201)
    expect((await detail(full.orderNo)).status).toBe('REFUNDING')
    expect((await detail(full.orderNo)).actions).toEqual([])
    expectError(await ship(full.orderNo, { logisticsType: 'pickup' }), 409, 'ORDER_NOT_SHIPPABLE')
    await h.control('POST', `/__sandbox/refunds/${r.body.outRefundNo}`, { status: 'SUCCESS' })
    await h.until(async () => (await detail(full.orderNo)).status === 'REFUNDED')
    expectError(await ship(full.orderNo, { logisticsType: 'pickup' }), 409, 'ORDER_NOT_SHIPPABLE')
    expect(await deliveryRow(full.orderNo)).toBeUndefined()
    expect(await wechatShipping(full.orderNo)).toMatchObject({ uploads: 0 })
  })

  it('a partly refunded order ships (issue #24): the rest goes out, reported to WeChat, its refund status kept', async () => {
    const part = await paidOrder()
    const pr = await h.admin<{ outRefundNo: string }>(
      'POST',
      `/api/admin/orders/${part.orderNo}/refunds`,
      { amountFen: 100, reason: '少发一件赠品' },
    )
    await h.control('POST', `/__sandbox/refunds/${pr.body.outRefundNo}`, { status: 'SUCCESS' })
    await h.until(async () => (await detail(part.orderNo)).status === 'PARTIALLY_REFUNDED')
    const before = await detail(part.orderNo)
    expect(before.actions).toEqual(['ship', 'refund'])
    expect(before.fulfilment).toBe('to_ship')
    expect(before.refundableFen).toBe(part.totalFen - 100)
    const res = await ship(part.orderNo, { logisticsType: 'pickup' })
    expect(res.status).toBe(200)
    const after = await detail(part.orderNo)
    expect(after).toMatchObject({
      status: 'PARTIALLY_REFUNDED',
      fulfilment: 'shipped',
      actions: ['refund'],
    })
    expect(after.delivery?.uploadedAt).toBeDefined()
    expect(await wechatShipping(part.orderNo)).toMatchObject({ uploads: 1 })
    await h.dispatch()
    expect(h.delivered.filter((e) => e.orderNo === part.orderNo).map((e) => e.type)).toContain(
      'order.shipped',
    )

    // A partial refund still under way does not hold the rest back either.
    const open = await paidOrder()
    expect(
      (
        await h.admin('POST', `/api/admin/orders/${open.orderNo}/refunds`, {
          amountFen: 100,
          reason: '一杯缺货',
        })
      ).status,
    ).toBe(201)
    expect((await detail(open.orderNo)).status).toBe('REFUNDING')
    expect((await ship(open.orderNo, { logisticsType: 'pickup' })).status).toBe(200)
    expect((await detail(open.orderNo)).fulfilment).toBe('shipped')
  })

  it('after-sales: a shipped order is refundable; a refund that fails puts it back to SHIPPED, one that succeeds makes it PARTIALLY_REFUNDED with its delivery kept', async () => {
    const o = await paidOrder()
    expect((await ship(o.orderNo, { logisticsType: 'pickup' })).status).toBe(200)
    const closed = await h.admin<{ outRefundNo: string }>(
      'POST',
      `/api/admin/orders/${o.orderNo}/refunds`,
      { amountFen: 500, reason: '包装破损' },
    )
    expect(closed.status).toBe(201)
    expect((await detail(o.orderNo)).status).toBe('REFUNDING')
    await h.control('POST', `/__sandbox/refunds/${closed.body.outRefundNo}`, { status: 'CLOSED' })
    await h.until(async () => (await detail(o.orderNo)).status === 'SHIPPED')

    const ok = await h.admin<{ outRefundNo: string }>(
      'POST',
      `/api/admin/orders/${o.orderNo}/refunds`,
      { amountFen: 500, reason: '包装破损，补偿' },
    )
    await h.control('POST', `/__sandbox/refunds/${ok.body.outRefundNo}`, { status: 'SUCCESS' })
    const d = await h.until(async () => {
      const x = await detail(o.orderNo)
      return x.status === 'PARTIALLY_REFUNDED' && x
    })
    expect(d.refundedFen).toBe(500)
    expect(d.delivery).toMatchObject({ logisticsType: 'pickup' })
    // Already shipped: a second ship stays refused as "already shipped", not re-shipped.
    expectError(
      await ship(o.orderNo, { logisticsType: 'express', expressCompany: 'YTO', trackingNo: 'YT1' }),
      409,
      'ORDER_ALREADY_SHIPPED',
    )
  })
})

describe('DbAccessTokenStore (the SDK store on PostgreSQL)', () => {
  it('newest wins: a token expiring later is kept against an older one saved after it', async () => {
    const store = new DbAccessTokenStore(h.database.db)
    const appid = 'wx_store_test_0001'
    expect(await store.get(appid)).toBeUndefined()
    const newer = { accessToken: 'token-newer', expiresAt: Date.UTC(2030, 0, 1, 2) }
    const older = { accessToken: 'token-older', expiresAt: Date.UTC(2030, 0, 1, 1) }
    expect(await store.save(appid, newer)).toEqual(newer)
    expect(await store.save(appid, older)).toEqual(newer)
    expect(await store.get(appid)).toEqual(newer)
    // A tie goes to the later save.
    const tie = { accessToken: 'token-tie', expiresAt: newer.expiresAt }
    expect(await store.save(appid, tie)).toEqual(tie)
    const [a, b] = await Promise.all([
      store.save(appid, { accessToken: 'token-a', expiresAt: Date.UTC(2030, 0, 1, 3) }),
      store.save(appid, { accessToken: 'token-b', expiresAt: Date.UTC(2030, 0, 1, 4) }),
    ])
    expect(b).toEqual({ accessToken: 'token-b', expiresAt: Date.UTC(2030, 0, 1, 4) })
    expect(a.expiresAt).toBeLessThanOrEqual(b.expiresAt)
    expect(await store.get(appid)).toEqual(b)
  })
})
