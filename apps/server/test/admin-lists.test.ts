/**
 * The admin lists' pages (limit, opaque cursor, stable while orders arrive), the order filters
 * (status, Beijing days, order number, openid suffix), the refund list and the dashboard summary.
 */
import {
  schemas,
  type AdminOrderPage,
  type AdminRefundPage,
  type AdminSummary,
  type ErrorBody,
  type Order,
} from '@fen/shared'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHarness, type Harness } from './harness'

let h: Harness
let alice: string
let bob: string
/** Orders in the order they were made, a minute apart on the server's clock. */
const made: Order[] = []

async function order(token: string): Promise<Order> {
  const res = await h.api<Order>('POST', '/api/orders', {
    token,
    body: { items: [{ productId: 1, quantity: 1 }] },
  })
  expect(res.status).toBe(201)
  h.advance(60)
  return res.body
}

async function pay(o: Order, token: string): Promise<void> {
  const prepay = await h.api('POST', `/api/orders/${o.orderNo}/pay`, {
    token,
    body: { channel: 'native' },
  })
  expect(prepay.status).toBe(200)
  await h.control('POST', '/__sandbox/pay', { out_trade_no: o.orderNo })
  await h.until(async () => {
    const res = await h.admin<{ status: string }>('GET', `/api/admin/orders/${o.orderNo}`)
    return res.body.status === 'PAID'
  })
}

/** Every order number of a filtered list, walking its pages of `limit`. */
async function walk(query: string, limit: number): Promise<string[]> {
  const nos: string[] = []
  let cursor: string | null = null
  do {
    const path = `/api/admin/orders?limit=${limit}${query}${cursor ? `&cursor=${cursor}` : ''}`
    const res = await h.admin<AdminOrderPage>('GET', path)
    expect(res.status).toBe(200)
    const page = schemas.AdminOrderPage.parse(res.body)
    expect(page.items.length).toBeLessThanOrEqual(limit)
    nos.push(...page.items.map((o) => o.orderNo))
    cursor = page.nextCursor
  } while (cursor)
  return nos
}

const beijingDay = (at: Date) => new Date(at.getTime() + 8 * 3_600_000).toISOString().slice(0, 10)

beforeAll(async () => {
  h = await startHarness({ env: { ORDER_MAX_OPEN_PER_USER: '20' } })
  alice = await h.login('oAlice_0000000000000abc-1')
  bob = await h.login('oBob_000000000000000xyz_2')
  for (let i = 0; i < 5; i++) made.push(await order(i % 2 === 0 ? alice : bob))
  await pay(made[1]!, bob)
})
afterAll(() => h.close())

const newestFirst = () => made.map((o) => o.orderNo).reverse()

describe('pages', () => {
  it('default limit 50, newest first, nextCursor null on the last page', async () => {
    const res = await h.admin<AdminOrderPage>('GET', '/api/admin/orders')
    expect(res.body.items.map((o) => o.orderNo)).toEqual(newestFirst())
    expect(res.body.nextCursor).toBeNull()
  })

  it('walking pages of 2 gives every order once, in order', async () => {
    expect(await walk('', 2)).toEqual(newestFirst())
    expect(await walk('', 1)).toEqual(newestFirst())
  })

  it('orders created while walking never shift the later pages', async () => {
    const first = await h.admin<AdminOrderPage>('GET', '/api/admin/orders?limit=2')
    const late = await order(alice)
    const rest = await h.admin<AdminOrderPage>(
      'GET',
      `/api/admin/orders?limit=10&cursor=${first.body.nextCursor}`,
    )
    expect([...first.body.items, ...rest.body.items].map((o) => o.orderNo)).toEqual(newestFirst())
    made.push(late)
    expect((await walk('', 3))[0]).toBe(late.orderNo)
  })

  it('a bad cursor or limit → 400 INVALID_INPUT', async () => {
    const notJson = Buffer.from('nope').toString('base64url')
    const wrongShape = Buffer.from(JSON.stringify({ at: 1 })).toString('base64url')
    const idCursor = Buffer.from(JSON.stringify([5])).toString('base64url')
    for (const q of [
      `cursor=${notJson}`,
      `cursor=${wrongShape}`,
      `cursor=${idCursor}`,
      'cursor=',
      'limit=0',
      'limit=201',
      'limit=1.5',
      'limit=abc',
      'limit=1&limit=2',
    ]) {
      const res = await h.admin<ErrorBody>('GET', `/api/admin/orders?${q}`)
      expect({ q, status: res.status, code: res.body.code }).toEqual({
        q,
        status: 400,
        code: 'INVALID_INPUT',
      })
    }
    const events = await h.admin<ErrorBody>('GET', `/api/admin/events?cursor=${wrongShape}`)
    expect([events.status, events.body.code]).toEqual([400, 'INVALID_INPUT'])
  })
})

describe('filters', () => {
  it('status, across pages', async () => {
    expect(await walk('&status=PAID', 1)).toEqual([made[1]!.orderNo])
    expect(await walk('&status=PENDING', 2)).toEqual(
      newestFirst().filter((no) => no !== made[1]!.orderNo),
    )
  })

  it('orderNo: that order only', async () => {
    expect(await walk(`&orderNo=${made[2]!.orderNo}`, 50)).toEqual([made[2]!.orderNo])
    expect(await walk('&orderNo=FEN2024010100000000000000', 50)).toEqual([])
  })

  it('openidSuffix: the orders of shoppers whose openid ends so; LIKE wildcards taken literally', async () => {
    const alices = made.filter((_, i) => i % 2 === 0 || i === 5).map((o) => o.orderNo)
    expect(await walk('&openidSuffix=abc-1', 2)).toEqual(alices.reverse())
    expect(await walk('&openidSuffix=xyz_2', 50)).toEqual([made[3]!.orderNo, made[1]!.orderNo])
    // `_` is a LIKE wildcard: unescaped, "z_2" would match "c-1"'s neighbour patterns too.
    expect(await walk('&openidSuffix=c_1', 50)).toEqual([])
    expect(await walk('&openidSuffix=abc', 50)).toEqual([])
    const bad = await h.admin<ErrorBody>('GET', '/api/admin/orders?openidSuffix=a%25')
    expect([bad.status, bad.body.code]).toEqual([400, 'INVALID_INPUT'])
  })

  it('from/to: Beijing days, both included', async () => {
    const today = beijingDay(h.now())
    const yesterday = beijingDay(new Date(h.now().getTime() - 86_400_000))
    expect(await walk(`&from=${today}&to=${today}`, 50)).toEqual(newestFirst())
    expect(await walk(`&to=${yesterday}`, 50)).toEqual([])
    h.advance(86_400)
    bob = await h.login('oBob_000000000000000xyz_2') // the day outlived the session
    const tomorrow = await order(bob)
    expect(await walk(`&from=${beijingDay(h.now())}`, 50)).toEqual([tomorrow.orderNo])
    expect(await walk(`&from=${today}&to=${today}`, 50)).toEqual(newestFirst())
    made.push(tomorrow)
    for (const q of ['from=2024-13-01', 'to=20240101', 'from=yesterday']) {
      const res = await h.admin<ErrorBody>('GET', `/api/admin/orders?${q}`)
      expect([q, res.status, res.body.code]).toEqual([q, 400, 'INVALID_INPUT'])
    }
  })
})

describe('refunds and summary', () => {
  it('GET /api/admin/refunds: a cursor list with the order number, filtered by status', async () => {
    const paid = made[1]!
    for (const amountFen of [100, 200]) {
      const res = await h.admin('POST', `/api/admin/orders/${paid.orderNo}/refunds`, {
        amountFen,
        reason: '部分退款',
      })
      expect(res.status).toBe(201)
    }
    const first = await h.admin<AdminRefundPage>('GET', '/api/admin/refunds?limit=1')
    const page = schemas.AdminRefundPage.parse(first.body)
    expect(page.items).toHaveLength(1)
    expect(page.items[0]).toMatchObject({ orderNo: paid.orderNo, amountFen: 200 })
    const next = await h.admin<AdminRefundPage>(
      'GET',
      `/api/admin/refunds?limit=1&cursor=${page.nextCursor}`,
    )
    expect(next.body.items.map((r) => r.amountFen)).toEqual([100])
    expect(next.body.nextCursor).toBeNull()
    const processing = await h.admin<AdminRefundPage>('GET', '/api/admin/refunds?status=PROCESSING')
    expect(processing.body.items.map((r) => r.amountFen)).toEqual([200, 100])
    const none = await h.admin<AdminRefundPage>('GET', '/api/admin/refunds?status=SUCCESS')
    expect(none.body).toEqual({ items: [], nextCursor: null })
    const bad = await h.admin<ErrorBody>('GET', '/api/admin/refunds?status=DONE')
    expect([bad.status, bad.body.code]).toEqual([400, 'INVALID_INPUT'])
  })

  it('GET /api/admin/summary: today (Beijing), orders by status, backlog and failures', async () => {
    const res = await h.admin<AdminSummary>('GET', '/api/admin/summary')
    expect(res.status).toBe(200)
    const s = schemas.AdminSummary.parse(res.body)
    // The clock moved a day on: only `tomorrow`'s order is today's; the payment was yesterday.
    expect(s.today).toEqual({ orders: 1, paidFen: 0, refundedFen: 0 })
    expect(s.byStatus).toMatchObject({ PENDING: made.length - 1, PARTIALLY_REFUNDED: 0, PAID: 0 })
    expect(s.byStatus.PAID + s.byStatus.REFUNDING).toBe(1)
    expect(s.outboxBacklog).toBeGreaterThanOrEqual(1)
    expect(s.notificationFailures).toBe(0)
    expect(s.signatureFailures).toBe(0)
    expect(s.reconciliation).toBeNull()
    expect((await h.api('GET', '/api/admin/summary')).status).toBe(401)

    // Once a day is reconciled, the summary carries its result.
    const date = beijingDay(new Date(h.now().getTime() - 5 * 86_400_000))
    const run = await h.admin('POST', '/api/admin/reconciliation', { date })
    expect(run.status).toBe(200)
    const after = await h.admin<AdminSummary>('GET', '/api/admin/summary')
    expect(after.body.reconciliation).toEqual(run.body)
    expect(after.body.reconciliation).toMatchObject({ date, status: 'no_bill' })
  })
})
