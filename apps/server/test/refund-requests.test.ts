/**
 * 申请退款 (issue #13): the shopper's refund requests and the operator's decision, through the real
 * sandbox. Approving starts the refund once however often it is asked (and in a race with a
 * rejection exactly one wins); rejecting says why; one pending request per order; the amount is
 * what is left refundable at most; another shopper's order is 404; bad input is a 4xx with nothing
 * written; REFUND_AUTO_APPROVE_MAX_FEN approves small requests at once.
 */
import type { AdminOrderDetail, ErrorBody, Order, RefundRequestView } from '@fen/shared'
import { count } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { refundRequests, refunds } from '../src/db/schema'
import { startHarness, type ApiResponse, type Harness } from './harness'

let h: Harness
let alice: string
let bob: string

beforeAll(async () => {
  h = await startHarness()
  alice = await h.login('o-refund-requests-alice')
  bob = await h.login('o-refund-requests-bob')
})
afterAll(() => h?.close())

type Answer<T> = ApiResponse<T & ErrorBody>

function expectError(res: ApiResponse<unknown>, status: number, code: string): void {
  expect({ status: res.status, code: (res.body as ErrorBody).code }).toEqual({ status, code })
  expect((res.body as ErrorBody).message.length).toBeGreaterThan(0)
}

/** Orders product 1 (5900 fen) as `token` and pays it at the sandbox; returns the PAID order. */
async function paidOrder(on: Harness = h, token = alice): Promise<Order> {
  const created = await on.api<Order>('POST', '/api/orders', {
    token,
    body: { items: [{ productId: 1, quantity: 1 }] },
  })
  expect(created.status).toBe(201)
  const no = created.body.orderNo
  expect(
    (await on.api('POST', `/api/orders/${no}/pay`, { token, body: { channel: 'native' } })).status,
  ).toBe(200)
  await on.control('POST', '/__sandbox/pay', { out_trade_no: no })
  return on.until(async () => {
    const o = await on.api<Order>('GET', `/api/orders/${no}`, { token })
    return o.body.status === 'PAID' && o.body
  })
}

function ask(
  orderNo: string,
  body: unknown,
  token = alice,
  on: Harness = h,
  headers: Record<string, string> = {},
): Promise<Answer<RefundRequestView>> {
  return on.api('POST', `/api/orders/${orderNo}/refund-requests`, { token, body, headers })
}

function approve(id: number | string, on: Harness = h): Promise<Answer<RefundRequestView>> {
  return on.admin('POST', `/api/admin/refund-requests/${id}/approve`)
}

function reject(id: number | string, body: unknown): Promise<Answer<RefundRequestView>> {
  return h.admin('POST', `/api/admin/refund-requests/${id}/reject`, body)
}

/** The order's refunds as WeChat (the sandbox) has them. */
async function sandboxRefunds(orderNo: string, on: Harness = h): Promise<{ amount: number }[]> {
  const state = await on.control<{
    orders: { out_trade_no: string; refunds: { amount: { refund: number } }[] }[]
  }>('GET', '/__sandbox/state')
  const refunds = state.body.orders.find((o) => o.out_trade_no === orderNo)?.refunds ?? []
  return refunds.map((r) => ({ amount: r.amount.refund }))
}

async function rows(on: Harness = h) {
  const [a] = await on.database.db.select({ n: count() }).from(refundRequests)
  const [b] = await on.database.db.select({ n: count() }).from(refunds)
  return { requests: a!.n, refunds: b!.n }
}

describe('a request, approved', () => {
  it('full by default → pending; approved → the refund starts, once; settled → 已退款', async () => {
    const o = await paidOrder()
    const res = await ask(o.orderNo, { reason: '不想要了' })
    expect(res.status).toBe(201)
    const req = res.body
    expect(req).toEqual({
      id: expect.any(Number),
      orderNo: o.orderNo,
      amountFen: 5900,
      reason: '不想要了',
      status: 'pending',
      createdAt: expect.any(String),
    })
    // The shopper sees it on the order and in the list.
    const mine = await h.api<Order>('GET', `/api/orders/${o.orderNo}`, { token: alice })
    expect(mine.body.refundRequests).toEqual([req])
    expect(mine.body.timeline.map((t) => t.kind)).toEqual(['created', 'paid', 'refund_requested'])
    const list = await h.api<RefundRequestView[]>(
      'GET',
      `/api/orders/${o.orderNo}/refund-requests`,
      { token: alice },
    )
    expect(list.body).toEqual([req])
    // One pending request per order.
    expectError(await ask(o.orderNo, { reason: '再申请一次' }), 409, 'REFUND_REQUEST_PENDING')

    const pending = await h.admin<RefundRequestView[]>(
      'GET',
      '/api/admin/refund-requests?status=pending',
    )
    expect(pending.body[0]).toEqual(req)

    const approved = await approve(req.id)
    expect(approved.status).toBe(200)
    expect(approved.body).toMatchObject({
      id: req.id,
      status: 'approved',
      refundNo: `${o.orderNo}-R1`,
      decidedAt: expect.any(String),
    })
    expect(approved.body).not.toHaveProperty('automatic')
    expect(await sandboxRefunds(o.orderNo)).toEqual([expect.objectContaining({ amount: 5900 })])
    // Approving again changes nothing: no second refund.
    const again = await approve(req.id)
    expect(again.status).toBe(200)
    expect(again.body).toEqual(approved.body)
    expect(await sandboxRefunds(o.orderNo)).toHaveLength(1)
    expectError(await reject(req.id, { reason: '晚了' }), 409, 'REFUND_REQUEST_DECIDED')

    await h.control('POST', `/__sandbox/refunds/${o.orderNo}-R1`, { status: 'SUCCESS' })
    const done = await h.until(async () => {
      const d = await h.api<Order>('GET', `/api/orders/${o.orderNo}`, { token: alice })
      return d.body.status === 'REFUNDED' && d.body
    })
    expect(done.refundedFen).toBe(5900)
    expect(done.refundRequests).toEqual([approved.body])
    expect(done.timeline.map((t) => t.kind)).toEqual([
      'created',
      'paid',
      'refund_requested',
      'refunded',
    ])
    // Nothing left to ask for.
    expectError(await ask(o.orderNo, { reason: '还要退' }), 409, 'REFUND_NOT_ALLOWED')
  })

  it('partial: the amount asked is refunded; more than is left → 409', async () => {
    const o = await paidOrder()
    expectError(
      await ask(o.orderNo, { amountFen: 5901, reason: '多退' }),
      409,
      'REFUND_NOT_ALLOWED',
    )
    const req = (await ask(o.orderNo, { amountFen: 1000, reason: '少发了一件' })).body
    expect(req.amountFen).toBe(1000)
    expect((await approve(req.id)).body.status).toBe('approved')
    expect(await sandboxRefunds(o.orderNo)).toEqual([expect.objectContaining({ amount: 1000 })])
    const d = await h.admin<AdminOrderDetail>('GET', `/api/admin/orders/${o.orderNo}`)
    expect(d.body.refunds).toMatchObject([{ amountFen: 1000, reason: '少发了一件' }])
    expect(d.body.refundRequests).toMatchObject([{ id: req.id, status: 'approved' }])
  })

  it('5 approvals at once → one refund; an approval racing a rejection → exactly one wins', async () => {
    const o = await paidOrder()
    const req = (await ask(o.orderNo, { reason: '并发' })).body
    const answers = await Promise.all(Array.from({ length: 5 }, () => approve(req.id)))
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200])
    expect(new Set(answers.map((a) => a.body.refundNo))).toEqual(new Set([`${o.orderNo}-R1`]))
    expect(await sandboxRefunds(o.orderNo)).toHaveLength(1)

    const other = await paidOrder()
    const raced = (await ask(other.orderNo, { reason: '竞争' })).body
    const [a, r] = await Promise.all([approve(raced.id), reject(raced.id, { reason: '不符合' })])
    const list = await h.api<RefundRequestView[]>(
      'GET',
      `/api/orders/${other.orderNo}/refund-requests`,
      { token: alice },
    )
    if (list.body[0]!.status === 'approved') {
      expect([a.status, r.status]).toEqual([200, 409])
      expect(await sandboxRefunds(other.orderNo)).toHaveLength(1)
    } else {
      expect(list.body[0]!.status).toBe('rejected')
      expect([a.status, r.status]).toEqual([409, 200])
      expect(await sandboxRefunds(other.orderNo)).toHaveLength(0)
      expect(
        (await h.admin<AdminOrderDetail>('GET', `/api/admin/orders/${other.orderNo}`)).body.refunds,
      ).toEqual([])
    }
  })
})

describe('a request, rejected', () => {
  it('rejected with a reason; the same rejection again is a no-op; approving it → 409; a new request may follow', async () => {
    const o = await paidOrder()
    const req = (await ask(o.orderNo, { reason: '颜色不喜欢' })).body
    const rejected = await reject(req.id, { reason: '商品已使用，不支持退款' })
    expect(rejected.status).toBe(200)
    expect(rejected.body).toMatchObject({
      status: 'rejected',
      rejectReason: '商品已使用，不支持退款',
      decidedAt: expect.any(String),
    })
    expect(rejected.body).not.toHaveProperty('refundNo')
    expect((await reject(req.id, { reason: '商品已使用，不支持退款' })).body).toEqual(rejected.body)
    expectError(await reject(req.id, { reason: '换个理由' }), 409, 'REFUND_REQUEST_DECIDED')
    expectError(await approve(req.id), 409, 'REFUND_REQUEST_DECIDED')
    expect(await sandboxRefunds(o.orderNo)).toHaveLength(0)
    const order = await h.api<Order>('GET', `/api/orders/${o.orderNo}`, { token: alice })
    expect(order.body.status).toBe('PAID')

    const second = await ask(o.orderNo, { reason: '再次申请' })
    expect(second.status).toBe(201)
    const list = await h.api<RefundRequestView[]>(
      'GET',
      `/api/orders/${o.orderNo}/refund-requests`,
      { token: alice },
    )
    expect(list.body.map((r) => r.status)).toEqual(['pending', 'rejected'])
  })
})

describe('refused requests: a 4xx, nothing written', () => {
  let paid: Order
  let pendingOrder: Order
  beforeAll(async () => {
    paid = await paidOrder()
    const created = await h.api<Order>('POST', '/api/orders', {
      token: alice,
      body: { items: [{ productId: 5, quantity: 1 }] },
    })
    pendingOrder = created.body
  })

  const cases: [string, () => Promise<ApiResponse<unknown>>, number, string][] = [
    [
      "another shopper's order (POST)",
      () => ask(paid.orderNo, { reason: '别人的' }, bob),
      404,
      'ORDER_NOT_FOUND',
    ],
    [
      "another shopper's order (GET)",
      () => h.api('GET', `/api/orders/${paid.orderNo}/refund-requests`, { token: bob }),
      404,
      'ORDER_NOT_FOUND',
    ],
    [
      'an unknown order',
      () => ask('FEN2024010100000000000000', { reason: '无' }),
      404,
      'ORDER_NOT_FOUND',
    ],
    ['a malformed order number', () => ask('abc', { reason: '无' }), 400, 'INVALID_INPUT'],
    [
      'no token',
      () =>
        h.api('POST', `/api/orders/${paid.orderNo}/refund-requests`, { body: { reason: '无' } }),
      401,
      'UNAUTHORIZED',
    ],
    [
      'an unpaid order',
      () => ask(pendingOrder.orderNo, { reason: '未付款' }),
      409,
      'REFUND_NOT_ALLOWED',
    ],
    ['amount 0', () => ask(paid.orderNo, { amountFen: 0, reason: '零' }), 400, 'INVALID_INPUT'],
    [
      'a negative amount',
      () => ask(paid.orderNo, { amountFen: -1, reason: '负' }),
      400,
      'INVALID_INPUT',
    ],
    [
      'a fractional amount',
      () => ask(paid.orderNo, { amountFen: 1.5, reason: '小数' }),
      400,
      'INVALID_INPUT',
    ],
    [
      'an amount as a string',
      () => ask(paid.orderNo, { amountFen: '100', reason: '字符串' }),
      400,
      'INVALID_INPUT',
    ],
    [
      'more than was paid',
      () => ask(paid.orderNo, { amountFen: 5901, reason: '多' }),
      409,
      'REFUND_NOT_ALLOWED',
    ],
    ['no reason', () => ask(paid.orderNo, {}), 400, 'INVALID_INPUT'],
    ['an empty reason', () => ask(paid.orderNo, { reason: '' }), 400, 'INVALID_INPUT'],
    [
      'an 81-character reason',
      () => ask(paid.orderNo, { reason: '退'.repeat(81) }),
      400,
      'INVALID_INPUT',
    ],
    [
      'an emoji in the reason (WeChat refuses it)',
      () => ask(paid.orderNo, { reason: '退款😀' }),
      400,
      'INVALID_INPUT',
    ],
    [
      'a bad Idempotency-Key',
      () => ask(paid.orderNo, { reason: '键' }, alice, h, { 'idempotency-key': 'a b' }),
      400,
      'INVALID_INPUT',
    ],
    [
      'admin list: unknown status',
      () => h.admin('GET', '/api/admin/refund-requests?status=done'),
      400,
      'INVALID_INPUT',
    ],
    [
      'admin list: limit 0',
      () => h.admin('GET', '/api/admin/refund-requests?limit=0'),
      400,
      'INVALID_INPUT',
    ],
    [
      'admin list: limit 201',
      () => h.admin('GET', '/api/admin/refund-requests?limit=201'),
      400,
      'INVALID_INPUT',
    ],
    [
      'admin list: no token',
      () => h.api('GET', '/api/admin/refund-requests'),
      401,
      'ADMIN_UNAUTHORIZED',
    ],
    [
      "admin list: a shopper's token",
      () => h.api('GET', '/api/admin/refund-requests', { token: alice }),
      401,
      'ADMIN_UNAUTHORIZED',
    ],
    ['approve: an unknown id', () => approve(999_999), 404, 'REFUND_REQUEST_NOT_FOUND'],
    ['approve: a malformed id', () => approve('abc'), 400, 'INVALID_INPUT'],
    [
      'approve: no token',
      () => h.api('POST', '/api/admin/refund-requests/1/approve'),
      401,
      'ADMIN_UNAUTHORIZED',
    ],
    [
      'approve: GET',
      () => h.admin('GET', '/api/admin/refund-requests/1/approve'),
      405,
      'METHOD_NOT_ALLOWED',
    ],
    [
      'reject: an unknown id',
      () => reject(999_999, { reason: '无' }),
      404,
      'REFUND_REQUEST_NOT_FOUND',
    ],
    ['reject: no reason', () => reject(1, {}), 400, 'INVALID_INPUT'],
    ['reject: an empty reason', () => reject(1, { reason: '' }), 400, 'INVALID_INPUT'],
  ]
  it.each(cases)('%s', async (_, send, status, code) => {
    const before = await rows()
    expectError(await send(), status, code)
    expect(await rows()).toEqual(before)
  })
})

describe('the admin list', () => {
  it('newest first, filtered by status, at most `limit`', async () => {
    const all = await h.admin<RefundRequestView[]>('GET', '/api/admin/refund-requests?limit=200')
    expect(all.status).toBe(200)
    expect(all.body.length).toBeGreaterThan(3)
    const times = all.body.map((r) => r.createdAt)
    expect(times).toEqual([...times].sort().reverse())
    const one = await h.admin<RefundRequestView[]>('GET', '/api/admin/refund-requests?limit=1')
    expect(one.body).toEqual([all.body[0]])
    const rejected = await h.admin<RefundRequestView[]>(
      'GET',
      '/api/admin/refund-requests?status=rejected',
    )
    expect(rejected.body.length).toBeGreaterThan(0)
    expect(rejected.body.every((r) => r.status === 'rejected')).toBe(true)
  })
})

describe('REFUND_AUTO_APPROVE_MAX_FEN', () => {
  let auto: Harness
  let carol: string
  beforeAll(async () => {
    auto = await startHarness({ env: { REFUND_AUTO_APPROVE_MAX_FEN: '3000' } })
    carol = await auto.login('o-refund-requests-carol')
  })
  afterAll(() => auto?.close())

  it('a request up to it is approved at once, its refund started; a retry with the key is the same request', async () => {
    const o = await paidOrder(auto, carol)
    const key = { 'idempotency-key': 'refund-request-1' }
    const res = await ask(o.orderNo, { amountFen: 3000, reason: '少了一杯' }, carol, auto, key)
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({
      status: 'approved',
      automatic: true,
      refundNo: `${o.orderNo}-R1`,
      amountFen: 3000,
    })
    expect(await sandboxRefunds(o.orderNo, auto)).toEqual([
      expect.objectContaining({ amount: 3000 }),
    ])
    const retry = await ask(o.orderNo, { amountFen: 3000, reason: '少了一杯' }, carol, auto, key)
    expect(retry.status).toBe(201)
    expect(retry.body).toEqual(res.body)
    expect(await sandboxRefunds(o.orderNo, auto)).toHaveLength(1)
    expectError(
      await ask(o.orderNo, { amountFen: 2000, reason: '换个金额' }, carol, auto, key),
      409,
      'IDEMPOTENCY_KEY_REUSED',
    )
  })

  it('a request above it waits for an operator', async () => {
    const o = await paidOrder(auto, carol)
    const res = await ask(o.orderNo, { reason: '整单退' }, carol, auto)
    expect(res.body).toMatchObject({ status: 'pending', amountFen: 5900 })
    expect(await sandboxRefunds(o.orderNo, auto)).toHaveLength(0)
    expect((await approve(res.body.id, auto)).body.status).toBe('approved')
  })
})
