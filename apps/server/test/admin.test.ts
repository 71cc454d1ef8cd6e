/**
 * The admin API: its token, order lists and detail, refunds (validation, limits, Idempotency-Key,
 * reuse of out_refund_no after a WeChat failure), sync with WeChat, and the outbox events.
 */
import {
  schemas,
  type AdminOrderDetail,
  type AdminOrderPage,
  type ErrorBody,
  type Order,
  type OutboxEventPage,
  type Refund,
} from '@fen/shared'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_TOKEN, startHarness, type ApiResponse, type Harness } from './harness'
import { enqueueEvent } from '../src/repositories/events'

let h: Harness
let shopper: string
/** A paid order of 5900 fen (product 1). */
let paid: Order
/** A PENDING order, never prepaid. */
let pending: Order

interface SandboxRefund {
  out_refund_no: string
  status: string
  amount: { refund: number }
}

function expectError(res: ApiResponse<unknown>, status: number, code: string): void {
  expect({ status: res.status, code: (res.body as ErrorBody).code }).toEqual({ status, code })
  expect(Object.keys(res.body as object).sort()).toEqual(['code', 'message'])
  expect((res.body as ErrorBody).message).toEqual(expect.any(String))
  expect((res.body as ErrorBody).message.length).toBeGreaterThan(0)
}

async function newOrder(productId: number, quantity = 1): Promise<Order> {
  const res = await h.api<Order>('POST', '/api/orders', {
    token: shopper,
    body: { items: [{ productId, quantity }] },
  })
  expect(res.status).toBe(201)
  return res.body
}

/** Prepays (native) and pays at the sandbox; resolves once the order is PAID here. */
async function payOrder(order: Order, opts: { dropNotification?: boolean } = {}): Promise<void> {
  const pay = await h.api('POST', `/api/orders/${order.orderNo}/pay`, {
    token: shopper,
    body: { channel: 'native' },
  })
  expect(pay.status).toBe(200)
  if (opts.dropNotification) {
    await h.control('POST', '/__sandbox/faults', {
      target: 'notifications',
      kind: 'drop',
      count: 1,
    })
  }
  expect((await h.control('POST', '/__sandbox/pay', { out_trade_no: order.orderNo })).status).toBe(
    200,
  )
  if (opts.dropNotification) return
  await h.until(async () => (await detail(order.orderNo)).body.status === 'PAID')
}

function detail(orderNo: string): Promise<ApiResponse<AdminOrderDetail & ErrorBody>> {
  return h.admin('GET', `/api/admin/orders/${orderNo}`)
}

function refund(
  orderNo: string,
  body: unknown,
  headers?: Record<string, string>,
): Promise<ApiResponse<Refund & ErrorBody>> {
  return h.admin('POST', `/api/admin/orders/${orderNo}/refunds`, body, headers)
}

async function sandboxRefunds(orderNo: string): Promise<SandboxRefund[]> {
  const res = await h.control<{ orders: { out_trade_no: string; refunds: SandboxRefund[] }[] }>(
    'GET',
    '/__sandbox/state',
  )
  return res.body.orders.find((o) => o.out_trade_no === orderNo)?.refunds ?? []
}

beforeAll(async () => {
  h = await startHarness()
  shopper = await h.login('o-admin-shopper')
  paid = await newOrder(1)
  await payOrder(paid)
  pending = await newOrder(5)
})
afterAll(() => h.close())

describe('the admin token', () => {
  const routes = (): [string, string, unknown?][] => [
    ['GET', '/api/admin/orders'],
    ['GET', '/api/admin/orders?status=PAID'],
    ['GET', `/api/admin/orders/${paid.orderNo}`],
    ['POST', `/api/admin/orders/${paid.orderNo}/refunds`, { amountFen: 1, reason: '测试' }],
    ['POST', `/api/admin/orders/${paid.orderNo}/sync`],
    ['GET', '/api/admin/events'],
    ['GET', `/api/admin/events?orderNo=${paid.orderNo}`],
  ]

  it('every admin route without a token → 401 ADMIN_UNAUTHORIZED', async () => {
    for (const [method, path, body] of routes()) {
      const res = await h.api(method, path, body === undefined ? {} : { body })
      expect({ route: `${method} ${path}`, status: res.status }).toEqual({
        route: `${method} ${path}`,
        status: 401,
      })
      expectError(res, 401, 'ADMIN_UNAUTHORIZED')
    }
  })

  it('every admin route with a wrong token → 401 ADMIN_UNAUTHORIZED', async () => {
    const wrong = [
      'Bearer wrong',
      `Bearer ${ADMIN_TOKEN}x`,
      `Bearer ${ADMIN_TOKEN.slice(0, -1)}`,
      `Bearer ${ADMIN_TOKEN.slice(0, -1)}X`,
      ADMIN_TOKEN,
      `Basic ${ADMIN_TOKEN}`,
      `Bearer ${shopper}`,
    ]
    for (const [method, path, body] of routes()) {
      for (const authorization of wrong) {
        const res = await h.api(method, path, {
          ...(body === undefined ? {} : { body }),
          headers: { authorization },
        })
        expect({ route: `${method} ${path}`, authorization, status: res.status }).toEqual({
          route: `${method} ${path}`,
          authorization,
          status: 401,
        })
        expectError(res, 401, 'ADMIN_UNAUTHORIZED')
      }
    }
  })

  it('the refused calls changed nothing: no refund reached WeChat', async () => {
    expect(await sandboxRefunds(paid.orderNo)).toEqual([])
    expect((await detail(paid.orderNo)).body.refunds).toEqual([])
  })

  it('the admin token is not a shopper token', async () => {
    expectError(
      await h.api('GET', '/api/orders', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }),
      401,
      'UNAUTHORIZED',
    )
  })
})

describe('orders', () => {
  it('GET /api/admin/orders lists every order', async () => {
    const res = await h.admin<AdminOrderPage>('GET', '/api/admin/orders')
    expect(res.status).toBe(200)
    const list = schemas.AdminOrderPage.parse(res.body)
    expect(list.nextCursor).toBeNull()
    const nos = list.items.map((o) => o.orderNo)
    expect(nos).toContain(paid.orderNo)
    expect(nos).toContain(pending.orderNo)
  })

  it('?status=PAID filters', async () => {
    const res = await h.admin<AdminOrderPage>('GET', '/api/admin/orders?status=PAID')
    expect(res.status).toBe(200)
    const items = res.body.items
    expect(items.length).toBeGreaterThan(0)
    expect(items.every((o) => o.status === 'PAID')).toBe(true)
    expect(items.map((o) => o.orderNo)).toContain(paid.orderNo)
    expect(items.map((o) => o.orderNo)).not.toContain(pending.orderNo)

    const pendings = await h.admin<AdminOrderPage>('GET', '/api/admin/orders?status=PENDING')
    expect(pendings.body.items.map((o) => o.orderNo)).toEqual(
      expect.arrayContaining([pending.orderNo]),
    )
    expect(pendings.body.items.every((o) => o.status === 'PENDING')).toBe(true)

    const none = await h.admin<AdminOrderPage>('GET', '/api/admin/orders?status=REFUNDED')
    expect(none.status).toBe(200)
    expect(none.body).toEqual({ items: [], nextCursor: null })
  })

  it('a bad status → 400 INVALID_INPUT', async () => {
    for (const q of ['paid', 'BOGUS', '', 'PAID&status=PENDING']) {
      expectError(await h.admin('GET', `/api/admin/orders?status=${q}`), 400, 'INVALID_INPUT')
    }
  })

  it('detail has the order, its payments, refunds, notifications and events', async () => {
    const res = await detail(paid.orderNo)
    expect(res.status).toBe(200)
    const d = schemas.AdminOrderDetail.parse(res.body)
    expect(d).toMatchObject({
      orderNo: paid.orderNo,
      status: 'PAID',
      totalFen: 5900,
      refundedFen: 0,
      apiVersion: 'v3',
      channel: 'native',
      userId: expect.any(Number),
    })
    expect(d.transactionId).toEqual(expect.any(String))
    expect(d.payments).toEqual([
      {
        transactionId: d.transactionId,
        amountFen: 5900,
        paidAt: d.paidAt,
        source: 'notify',
      },
    ])
    expect(d.refunds).toEqual([])
    expect(d.notifications).toHaveLength(1)
    expect(d.notifications[0]).toMatchObject({
      eventType: 'TRANSACTION.SUCCESS',
      outcome: 'applied',
    })
    expect(d.events.map((e) => e.type)).toEqual(['order.paid'])
    expect(d.events[0]!.deliveredAt).toBeNull()

    await h.dispatch()
    const after = await detail(paid.orderNo)
    expect(after.body.events[0]!.deliveredAt).toEqual(expect.any(String))
  })

  it('detail of an unknown order → 404 ORDER_NOT_FOUND; a malformed orderNo → 400', async () => {
    expectError(await detail('FEN2024010100000000000000'), 404, 'ORDER_NOT_FOUND')
    expectError(await detail('bad'), 400, 'INVALID_INPUT')
  })
})

describe('refunds', () => {
  it('an unpaid order → 409 REFUND_NOT_ALLOWED', async () => {
    expectError(
      await refund(pending.orderNo, { amountFen: 1, reason: '测试' }),
      409,
      'REFUND_NOT_ALLOWED',
    )
    expect((await detail(pending.orderNo)).body.refunds).toEqual([])
  })

  it('a closed order → 409 REFUND_NOT_ALLOWED', async () => {
    const order = await newOrder(5)
    const cancel = await h.api('POST', `/api/orders/${order.orderNo}/cancel`, { token: shopper })
    expect(cancel.status).toBe(200)
    expectError(
      await refund(order.orderNo, { amountFen: 1, reason: '测试' }),
      409,
      'REFUND_NOT_ALLOWED',
    )
  })

  it('an unknown order → 404 ORDER_NOT_FOUND', async () => {
    expectError(
      await refund('FEN2024010100000000000000', { amountFen: 1, reason: '测试' }),
      404,
      'ORDER_NOT_FOUND',
    )
  })

  it('more than the total → 409 REFUND_NOT_ALLOWED', async () => {
    expectError(
      await refund(paid.orderNo, { amountFen: 5901, reason: '测试' }),
      409,
      'REFUND_NOT_ALLOWED',
    )
    expect(await sandboxRefunds(paid.orderNo)).toEqual([])
  })

  it('invalid amounts and reasons → 400 INVALID_INPUT', async () => {
    const cases: [string, unknown][] = [
      ['amount 0', { amountFen: 0, reason: '测试' }],
      ['amount -100', { amountFen: -100, reason: '测试' }],
      ['amount 1.5', { amountFen: 1.5, reason: '测试' }],
      ['amount as a string', { amountFen: '100', reason: '测试' }],
      ['amount missing', { reason: '测试' }],
      ['reason missing', { amountFen: 100 }],
      ['reason empty', { amountFen: 100, reason: '' }],
      ['reason of 81 characters', { amountFen: 100, reason: '退'.repeat(81) }],
      ['reason with an emoji', { amountFen: 100, reason: '商品破损😢' }],
      ['no body', undefined],
    ]
    for (const [name, body] of cases) {
      const res = await refund(paid.orderNo, body)
      expect({ name, status: res.status, code: res.body.code }).toEqual({
        name,
        status: 400,
        code: 'INVALID_INPUT',
      })
    }
    expect(await sandboxRefunds(paid.orderNo)).toEqual([])
    expect((await detail(paid.orderNo)).body.status).toBe('PAID')
  })

  it('a partial refund: 201 PROCESSING, R1, the order REFUNDING; an 80-character reason is fine', async () => {
    const reason = '部'.repeat(80)
    const res = await refund(
      paid.orderNo,
      { amountFen: 1000, reason },
      {
        'idempotency-key': 'refund-key-1',
      },
    )
    expect(res.status).toBe(201)
    const r = schemas.Refund.parse(res.body)
    expect(r).toMatchObject({
      outRefundNo: `${paid.orderNo}-R1`,
      amountFen: 1000,
      reason,
      status: 'PROCESSING',
      automatic: false,
    })
    expect(r.refundId).toEqual(expect.any(String))
    expect(await sandboxRefunds(paid.orderNo)).toMatchObject([
      { out_refund_no: `${paid.orderNo}-R1`, status: 'PROCESSING', amount: { refund: 1000 } },
    ])
    expect((await detail(paid.orderNo)).body.status).toBe('REFUNDING')
  })

  it('the same Idempotency-Key returns the same refund; WeChat is asked once', async () => {
    const again = await refund(
      paid.orderNo,
      { amountFen: 1000, reason: '部'.repeat(80) },
      {
        'idempotency-key': 'refund-key-1',
      },
    )
    expect(again.status).toBe(201)
    expect(again.body.outRefundNo).toBe(`${paid.orderNo}-R1`)
    expect(await sandboxRefunds(paid.orderNo)).toHaveLength(1)
    expect((await detail(paid.orderNo)).body.refunds).toHaveLength(1)
  })

  it('the same Idempotency-Key for another amount → 409 IDEMPOTENCY_KEY_REUSED', async () => {
    expectError(
      await refund(
        paid.orderNo,
        { amountFen: 2000, reason: '部'.repeat(80) },
        {
          'idempotency-key': 'refund-key-1',
        },
      ),
      409,
      'IDEMPOTENCY_KEY_REUSED',
    )
    expect(await sandboxRefunds(paid.orderNo)).toHaveLength(1)
  })

  it('open refunds count against the refundable amount: more than the rest → 409', async () => {
    // 5900 paid, 1000 PROCESSING: 4900 left.
    const res = await refund(paid.orderNo, { amountFen: 4901, reason: '超额' })
    expectError(res, 409, 'REFUND_NOT_ALLOWED')
    expect(res.body.message).toContain('49.00')
    expect(await sandboxRefunds(paid.orderNo)).toHaveLength(1)
  })

  it('a refund settled at WeChat: the order becomes PARTIALLY_REFUNDED, with order.refunded', async () => {
    const no = `${paid.orderNo}-R1`
    expect(
      (await h.control('POST', `/__sandbox/refunds/${no}`, { status: 'SUCCESS' })).status,
    ).toBe(200)
    const d = await h.until(async () => {
      const res = await detail(paid.orderNo)
      return res.body.status === 'PARTIALLY_REFUNDED' && res.body
    })
    expect(d.refundedFen).toBe(1000)
    expect(d.refunds[0]).toMatchObject({ outRefundNo: no, status: 'SUCCESS' })
    expect(d.refunds[0]!.settledAt).toEqual(expect.any(String))
    expect(d.notifications.map((n) => n.eventType)).toEqual(
      expect.arrayContaining(['TRANSACTION.SUCCESS', 'REFUND.SUCCESS']),
    )
    expect(d.events.map((e) => e.type)).toEqual(['order.paid', 'order.refunded'])
  })

  it('a refund WeChat could not take stays SUBMITTING; the retry reuses its out_refund_no', async () => {
    await h.control('POST', '/__sandbox/faults', {
      target: '/v3/refund/domestic/refunds',
      kind: 'error500',
      count: 3,
    })
    const first = await refund(paid.orderNo, { amountFen: 500, reason: '重试' })
    expect(first.status).toBe(201)
    expect(first.body).toMatchObject({ outRefundNo: `${paid.orderNo}-R2`, status: 'SUBMITTING' })
    expect(await sandboxRefunds(paid.orderNo)).toHaveLength(1)

    const retry = await refund(paid.orderNo, { amountFen: 500, reason: '重试' })
    expect(retry.status).toBe(201)
    expect(retry.body).toMatchObject({ outRefundNo: `${paid.orderNo}-R2`, status: 'PROCESSING' })
    expect((await sandboxRefunds(paid.orderNo)).map((r) => r.out_refund_no)).toEqual([
      `${paid.orderNo}-R1`,
      `${paid.orderNo}-R2`,
    ])
  })
})

describe('sync', () => {
  it('a payment whose notification was lost: sync makes the order PAID from a query', async () => {
    const order = await newOrder(2)
    await payOrder(order, { dropNotification: true })
    expect((await detail(order.orderNo)).body.status).toBe('PENDING')

    const res = await h.admin<AdminOrderDetail>('POST', `/api/admin/orders/${order.orderNo}/sync`)
    expect(res.status).toBe(200)
    const d = schemas.AdminOrderDetail.parse(res.body)
    expect(d.status).toBe('PAID')
    expect(d.payments).toHaveLength(1)
    expect(d.payments[0]).toMatchObject({ amountFen: 8900, source: 'query' })
    expect(d.notifications).toEqual([])
    expect(d.events.map((e) => e.type)).toEqual(['order.paid'])
  })

  it('a refund settled at WeChat whose notification was lost: sync settles it', async () => {
    const no = `${paid.orderNo}-R2`
    await h.control('POST', '/__sandbox/faults', {
      target: 'notifications',
      kind: 'drop',
      count: 1,
    })
    expect(
      (await h.control('POST', `/__sandbox/refunds/${no}`, { status: 'SUCCESS' })).status,
    ).toBe(200)
    expect((await detail(paid.orderNo)).body.refunds[1]!.status).toBe('PROCESSING')

    const res = await h.admin<AdminOrderDetail>('POST', `/api/admin/orders/${paid.orderNo}/sync`)
    expect(res.status).toBe(200)
    expect(res.body.refunds.map((r) => [r.outRefundNo, r.status])).toEqual([
      [`${paid.orderNo}-R1`, 'SUCCESS'],
      [no, 'SUCCESS'],
    ])
    expect(res.body.status).toBe('PARTIALLY_REFUNDED')
    expect(res.body.refundedFen).toBe(1500)
  })

  it('a PENDING order never prepaid: sync changes nothing', async () => {
    const res = await h.admin<AdminOrderDetail>('POST', `/api/admin/orders/${pending.orderNo}/sync`)
    expect(res.status).toBe(200)
    expect(res.body.status).toBe('PENDING')
    expect(res.body.payments).toEqual([])
  })

  it('WeChat failing → 503 WECHAT_UNAVAILABLE', async () => {
    await h.control('POST', '/__sandbox/faults', {
      target: '/v3/pay/transactions',
      kind: 'error500',
      count: 3,
    })
    expectError(
      await h.admin('POST', `/api/admin/orders/${pending.orderNo}/sync`),
      503,
      'WECHAT_UNAVAILABLE',
    )
    const faults = await h.control<unknown[]>('GET', '/__sandbox/faults')
    expect(faults.body).toEqual([])
  })

  it('an unknown order → 404 ORDER_NOT_FOUND; a malformed orderNo → 400', async () => {
    expectError(
      await h.admin('POST', '/api/admin/orders/FEN2024010100000000000000/sync'),
      404,
      'ORDER_NOT_FOUND',
    )
    expectError(await h.admin('POST', '/api/admin/orders/no!/sync'), 400, 'INVALID_INPUT')
  })
})

describe('events', () => {
  it('GET /api/admin/events?orderNo= lists that order’s events only', async () => {
    const res = await h.admin<OutboxEventPage>('GET', `/api/admin/events?orderNo=${paid.orderNo}`)
    expect(res.status).toBe(200)
    const events = schemas.OutboxEventPage.parse(res.body).items
    expect(events.map((e) => e.type)).toEqual(['order.refunded', 'order.refunded', 'order.paid'])
    expect(events.every((e) => e.orderNo === paid.orderNo)).toBe(true)
    expect(events.map((e) => e.id)).toEqual([...events.map((e) => e.id)].sort((a, b) => b - a))
  })

  it('without orderNo: every order’s events, newest first', async () => {
    const res = await h.admin<OutboxEventPage>('GET', '/api/admin/events?limit=200')
    expect(res.status).toBe(200)
    const events = schemas.OutboxEventPage.parse(res.body).items
    const orders = new Set(events.map((e) => e.orderNo))
    expect(orders.size).toBeGreaterThanOrEqual(3) // paid, the cancelled one, the synced one
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['order.closed']))
    expect(events.map((e) => e.id)).toEqual([...events.map((e) => e.id)].sort((a, b) => b - a))
  })

  it('past a page of events: the newest `limit`, then the next page from the cursor', async () => {
    for (let i = 0; i < 205; i++) {
      const orderNo = `MANY${String(i).padStart(6, '0')}`
      await enqueueEvent(h.database.db, {
        type: 'order.paid',
        orderNo,
        dedupeKey: orderNo,
        payload: {},
        at: h.now(),
      })
    }
    const res = await h.admin<OutboxEventPage>('GET', '/api/admin/events?limit=200')
    const first = schemas.OutboxEventPage.parse(res.body)
    expect(first.items).toHaveLength(200)
    expect(first.items[0]!.orderNo).toBe('MANY000204')
    expect(first.items[199]!.orderNo).toBe('MANY000005')
    const next = await h.admin<OutboxEventPage>(
      'GET',
      `/api/admin/events?limit=5&cursor=${first.nextCursor}`,
    )
    expect(next.body.items.map((e) => e.orderNo)).toEqual([
      'MANY000004',
      'MANY000003',
      'MANY000002',
      'MANY000001',
      'MANY000000',
    ])
  })

  it('an order with no events → no items; a malformed orderNo → 400', async () => {
    const res = await h.admin('GET', `/api/admin/events?orderNo=${pending.orderNo}`)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ items: [], nextCursor: null })
    expectError(await h.admin('GET', '/api/admin/events?orderNo=x'), 400, 'INVALID_INPUT')
  })
})
