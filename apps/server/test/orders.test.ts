/**
 * The catalogue and the shopper's orders: pricing from the catalogue, stock reservation,
 * Idempotency-Key, concurrency, paying (Native and JSAPI) through the sandbox with its faults, and
 * cancelling.
 */
import { schemas, type ErrorBody, type Order, type PayResponse, type Product } from '@fen/shared'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { products } from '../src/db/schema'
import { startHarness, type ApiResponse, type Harness } from './harness'

let h: Harness
let alice: string
let bob: string

beforeAll(async () => {
  h = await startHarness()
  alice = await h.login('o-orders-alice')
  bob = await h.login('o-orders-bob')
})
afterAll(() => h.close())

interface SandboxOrder {
  out_trade_no: string
  trade_type: string
  trade_state: string
  total: number
  prepay_id?: string
  code_url?: string
  notify_url: string
}

function create(
  token: string,
  items: unknown,
  headers: Record<string, string> = {},
  extra: Record<string, unknown> = {},
): Promise<ApiResponse<Order & ErrorBody>> {
  return h.api('POST', '/api/orders', { token, body: { items, ...extra }, headers })
}

function pay(
  token: string,
  orderNo: string,
  channel: unknown,
): Promise<ApiResponse<PayResponse & ErrorBody>> {
  return h.api('POST', `/api/orders/${orderNo}/pay`, { token, body: { channel } })
}

function get(token: string, orderNo: string): Promise<ApiResponse<Order & ErrorBody>> {
  return h.api('GET', `/api/orders/${orderNo}`, { token })
}

function cancel(token: string, orderNo: string): Promise<ApiResponse<Order & ErrorBody>> {
  return h.api('POST', `/api/orders/${orderNo}/cancel`, { token })
}

function expectError(res: ApiResponse<unknown>, status: number, code: string): void {
  expect({ status: res.status, code: (res.body as ErrorBody).code }).toEqual({ status, code })
  expect(Object.keys(res.body as object).sort()).toEqual(['code', 'message'])
  expect((res.body as ErrorBody).message).toEqual(expect.any(String))
  expect((res.body as ErrorBody).message.length).toBeGreaterThan(0)
}

async function stock(productId: number): Promise<number> {
  const [row] = await h.database.db
    .select({ stock: products.stock })
    .from(products)
    .where(eq(products.id, productId))
  return row!.stock
}

async function setStock(productId: number, value: number): Promise<void> {
  await h.database.db.update(products).set({ stock: value }).where(eq(products.id, productId))
}

async function allStock(): Promise<Record<number, number>> {
  const rows = await h.database.db.select({ id: products.id, stock: products.stock }).from(products)
  return Object.fromEntries(rows.map((r) => [r.id, r.stock]))
}

async function myOrders(token: string): Promise<Order[]> {
  const res = await h.api<Order[]>('GET', '/api/orders', { token })
  expect(res.status).toBe(200)
  return res.body
}

async function sandboxOrders(outTradeNo?: string): Promise<SandboxOrder[]> {
  const res = await h.control<{ orders: SandboxOrder[] }>('GET', '/__sandbox/state')
  expect(res.status).toBe(200)
  return outTradeNo ? res.body.orders.filter((o) => o.out_trade_no === outTradeNo) : res.body.orders
}

async function armedFaults(): Promise<{ target: string; kind: string; remaining: number }[]> {
  return (
    await h.control<{ target: string; kind: string; remaining: number }[]>(
      'GET',
      '/__sandbox/faults',
    )
  ).body
}

async function newOrder(token: string, productId = 5, quantity = 1): Promise<Order> {
  const res = await create(token, [{ productId, quantity }])
  expect(res.status).toBe(201)
  return res.body
}

/** The shopper pays at WeChat (sandbox), and the notification makes the order PAID. */
async function payAtWechat(token: string, orderNo: string): Promise<Order> {
  const paid = await h.control('POST', '/__sandbox/pay', { out_trade_no: orderNo })
  expect(paid.status).toBe(200)
  return h.until(async () => {
    const o = await get(token, orderNo)
    return o.body.status === 'PAID' && o.body
  })
}

describe('the catalogue', () => {
  it('GET /api/products lists the seeded products with integer priceFen', async () => {
    const res = await h.api<Product[]>('GET', '/api/products')
    expect(res.status).toBe(200)
    const list = schemas.ProductList.parse(res.body)
    expect(list.map((p) => p.id).slice(0, 5)).toEqual([1, 2, 3, 4, 5])
    expect(list.map((p) => p.priceFen).slice(0, 5)).toEqual([5900, 8900, 3900, 2990, 1])
    for (const p of list) {
      expect(Number.isInteger(p.priceFen)).toBe(true)
      expect(Number.isInteger(p.stock)).toBe(true)
      expect(p.title.length).toBeGreaterThan(0)
    }
  })
})

describe('creating an order', () => {
  it('prices it from the catalogue: totalFen and priceFen in the request are ignored', async () => {
    const res = await create(
      alice,
      [{ productId: 4, quantity: 2, priceFen: 1, unitPriceFen: 1, totalFen: 1 }],
      {},
      { totalFen: 1, priceFen: 1 },
    )
    expect(res.status).toBe(201)
    const order = schemas.Order.parse(res.body)
    expect(order.totalFen).toBe(2 * 2990)
    expect(order.status).toBe('PENDING')
    expect(order.refundedFen).toBe(0)
    expect(order.items).toEqual([
      {
        productId: 4,
        title: '挂耳咖啡 10 包',
        quantity: 2,
        unitPriceFen: 2990,
        imageUrl: '/static/products/drip-bags.svg',
      },
    ])
    expect(Date.parse(order.expiresAt) - Date.parse(order.createdAt)).toBe(
      h.config.orderTtlSeconds * 1000,
    )
  })

  it('reserves stock: GET /api/products shows it lower', async () => {
    const before = (await h.api<Product[]>('GET', '/api/products')).body
    const res = await create(alice, [
      { productId: 1, quantity: 3 },
      { productId: 2, quantity: 1 },
    ])
    expect(res.status).toBe(201)
    const after = (await h.api<Product[]>('GET', '/api/products')).body
    const stockOf = (list: Product[], id: number) => list.find((p) => p.id === id)!.stock
    expect(stockOf(after, 1)).toBe(stockOf(before, 1) - 3)
    expect(stockOf(after, 2)).toBe(stockOf(before, 2) - 1)
    expect(stockOf(after, 3)).toBe(stockOf(before, 3))
  })

  it('sorts the lines by product', async () => {
    const res = await create(alice, [
      { productId: 3, quantity: 1 },
      { productId: 1, quantity: 2 },
      { productId: 2, quantity: 1 },
    ])
    expect(res.status).toBe(201)
    expect(res.body.items.map((i) => i.productId)).toEqual([1, 2, 3])
    expect(res.body.totalFen).toBe(2 * 5900 + 8900 + 3900)
  })

  it('an unknown product → 404 PRODUCT_NOT_FOUND and nothing reserved', async () => {
    const before = await allStock()
    const count = (await myOrders(alice)).length
    expectError(
      await create(alice, [
        { productId: 1, quantity: 1 },
        { productId: 999, quantity: 1 },
      ]),
      404,
      'PRODUCT_NOT_FOUND',
    )
    expect(await allStock()).toEqual(before)
    expect(await myOrders(alice)).toHaveLength(count)
  })

  it('a product no longer for sale → 404 PRODUCT_NOT_FOUND', async () => {
    await h.database.db
      .insert(products)
      .values({ id: 90, title: '下架商品', priceFen: 100, stock: 10, active: false })
    expectError(await create(alice, [{ productId: 90, quantity: 1 }]), 404, 'PRODUCT_NOT_FOUND')
    expect(await stock(90)).toBe(10)
    const listed = (await h.api<Product[]>('GET', '/api/products')).body
    expect(listed.map((p) => p.id)).not.toContain(90)
  })

  it('not enough stock → 409 OUT_OF_STOCK and no line reserved', async () => {
    const before = await allStock()
    expect(before[2]).toBeLessThan(99)
    const count = (await myOrders(alice)).length
    // Lines are reserved in product order: product 1 is taken first, then product 2 fails.
    expectError(
      await create(alice, [
        { productId: 1, quantity: 2 },
        { productId: 2, quantity: 99 },
      ]),
      409,
      'OUT_OF_STOCK',
    )
    expect(await allStock()).toEqual(before)
    expect(await myOrders(alice)).toHaveLength(count)
  })

  it('invalid lines → 400 INVALID_INPUT, nothing reserved', async () => {
    const before = await allStock()
    const count = (await myOrders(alice)).length
    const cases: [string, unknown][] = [
      ['quantity 0', [{ productId: 1, quantity: 0 }]],
      ['quantity -1', [{ productId: 1, quantity: -1 }]],
      ['quantity 1.5', [{ productId: 1, quantity: 1.5 }]],
      ['quantity 100', [{ productId: 1, quantity: 100 }]],
      ['quantity as a string', [{ productId: 1, quantity: '1' }]],
      ['quantity missing', [{ productId: 1 }]],
      ['productId as a string', [{ productId: '1', quantity: 1 }]],
      ['productId 0', [{ productId: 0, quantity: 1 }]],
      [
        'duplicate productIds',
        [
          { productId: 1, quantity: 1 },
          { productId: 1, quantity: 2 },
        ],
      ],
      ['21 lines', Array.from({ length: 21 }, (_, i) => ({ productId: i + 1, quantity: 1 }))],
      ['empty items', []],
      ['items not an array', { productId: 1, quantity: 1 }],
    ]
    for (const [name, items] of cases) {
      const res = await create(alice, items)
      expect({ name, status: res.status, code: res.body.code }).toEqual({
        name,
        status: 400,
        code: 'INVALID_INPUT',
      })
    }
    expectError(
      await h.api('POST', '/api/orders', { token: alice, body: {} }),
      400,
      'INVALID_INPUT',
    )
    expect(await allStock()).toEqual(before)
    expect(await myOrders(alice)).toHaveLength(count)
  })

  it('needs a login, checked before the body and path', async () => {
    expectError(
      await h.api('POST', '/api/orders', { body: { items: [{ productId: 1, quantity: 1 }] } }),
      401,
      'UNAUTHORIZED',
    )
    expectError(await h.api('POST', '/api/orders', { body: { items: [] } }), 401, 'UNAUTHORIZED')
    expectError(await h.api('GET', '/api/orders/bad'), 401, 'UNAUTHORIZED')
    expectError(await h.api('GET', '/api/orders'), 401, 'UNAUTHORIZED')
  })
})

describe('Idempotency-Key', () => {
  it('the same request twice → the same order, stock taken once', async () => {
    const before = await stock(1)
    const key = { 'idempotency-key': 'same-twice-1' }
    const first = await create(alice, [{ productId: 1, quantity: 2 }], key)
    const second = await create(alice, [{ productId: 1, quantity: 2 }], key)
    expect([first.status, second.status]).toEqual([201, 201])
    expect(second.body.orderNo).toBe(first.body.orderNo)
    expect(second.body).toEqual(first.body)
    expect(await stock(1)).toBe(before - 2)
  })

  it('the same lines in another order count as the same request', async () => {
    const key = { 'idempotency-key': 'same-lines-reordered' }
    const first = await create(
      alice,
      [
        { productId: 1, quantity: 1 },
        { productId: 3, quantity: 1 },
      ],
      key,
    )
    const second = await create(
      alice,
      [
        { productId: 3, quantity: 1 },
        { productId: 1, quantity: 1 },
      ],
      key,
    )
    expect([first.status, second.status]).toEqual([201, 201])
    expect(second.body.orderNo).toBe(first.body.orderNo)
  })

  it('the same key with other items → 409 IDEMPOTENCY_KEY_REUSED, nothing reserved', async () => {
    const key = { 'idempotency-key': 'reused-key-1' }
    const first = await create(alice, [{ productId: 1, quantity: 1 }], key)
    expect(first.status).toBe(201)
    const before = await allStock()
    expectError(
      await create(alice, [{ productId: 1, quantity: 2 }], key),
      409,
      'IDEMPOTENCY_KEY_REUSED',
    )
    expectError(
      await create(alice, [{ productId: 2, quantity: 1 }], key),
      409,
      'IDEMPOTENCY_KEY_REUSED',
    )
    expect(await allStock()).toEqual(before)
  })

  it('keys belong to a user: another user with the same key gets an order of their own', async () => {
    const key = { 'idempotency-key': 'shared-between-users' }
    const a = await create(alice, [{ productId: 5, quantity: 1 }], key)
    const b = await create(bob, [{ productId: 5, quantity: 1 }], key)
    expect([a.status, b.status]).toEqual([201, 201])
    expect(b.body.orderNo).not.toBe(a.body.orderNo)
  })

  it('a malformed key → 400 INVALID_INPUT', async () => {
    for (const key of ['has space', 'x'.repeat(129), 'tab\there']) {
      expectError(
        await create(alice, [{ productId: 5, quantity: 1 }], { 'idempotency-key': key }),
        400,
        'INVALID_INPUT',
      )
    }
  })

  it('10 concurrent POSTs with one key → one order, stock taken once', async () => {
    const before = await stock(4)
    const count = (await myOrders(alice)).length
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        create(alice, [{ productId: 4, quantity: 3 }], { 'idempotency-key': 'concurrent-key-1' }),
      ),
    )
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(201))
    expect(new Set(results.map((r) => r.body.orderNo)).size).toBe(1)
    expect(await stock(4)).toBe(before - 3)
    expect(await myOrders(alice)).toHaveLength(count + 1)
  })

  it('20 concurrent orders for a product with stock 5 → exactly 5 succeed, stock ends at 0', async () => {
    await setStock(3, 5)
    const results = await Promise.all(
      Array.from({ length: 20 }, () => create(bob, [{ productId: 3, quantity: 1 }])),
    )
    const ok = results.filter((r) => r.status === 201)
    const refused = results.filter((r) => r.status !== 201)
    expect(ok).toHaveLength(5)
    expect(new Set(ok.map((r) => r.body.orderNo)).size).toBe(5)
    expect(refused).toHaveLength(15)
    for (const r of refused) expectError(r, 409, 'OUT_OF_STOCK')
    expect(await stock(3)).toBe(0)
    const bobs = (await myOrders(bob)).filter((o) => o.items.some((i) => i.productId === 3))
    expect(bobs).toHaveLength(5)
    await setStock(3, 200)
  })
})

describe('reading orders', () => {
  it('GET /api/orders lists only mine, newest first', async () => {
    const mine = await newOrder(alice)
    const theirs = await newOrder(bob)
    const aliceList = await myOrders(alice)
    const bobList = await myOrders(bob)
    schemas.OrderList.parse(aliceList)
    expect(aliceList.map((o) => o.orderNo)).toContain(mine.orderNo)
    expect(aliceList.map((o) => o.orderNo)).not.toContain(theirs.orderNo)
    expect(bobList.map((o) => o.orderNo)).toContain(theirs.orderNo)
    expect(bobList.map((o) => o.orderNo)).not.toContain(mine.orderNo)
    expect(aliceList[0]!.orderNo).toBe(mine.orderNo)
    const created = aliceList.map((o) => Date.parse(o.createdAt))
    expect(created).toEqual([...created].sort((a, b) => b - a))
  })

  it("another user's order is 404 ORDER_NOT_FOUND: read, pay, cancel", async () => {
    const theirs = await newOrder(bob)
    expectError(await get(alice, theirs.orderNo), 404, 'ORDER_NOT_FOUND')
    expectError(await pay(alice, theirs.orderNo, 'native'), 404, 'ORDER_NOT_FOUND')
    expectError(await cancel(alice, theirs.orderNo), 404, 'ORDER_NOT_FOUND')
    expect((await get(bob, theirs.orderNo)).body.status).toBe('PENDING')
  })

  it('GET /api/orders/:orderNo with a malformed orderNo → 400 INVALID_INPUT', async () => {
    for (const bad of ['abc', 'x'.repeat(33), 'FEN 2024 0001', 'FEN#123456', 'FEN.1234567']) {
      expectError(await get(alice, encodeURIComponent(bad)), 400, 'INVALID_INPUT')
    }
  })

  it('an unknown, well-formed orderNo → 404 ORDER_NOT_FOUND', async () => {
    expectError(await get(alice, 'FEN2024010100000000000000'), 404, 'ORDER_NOT_FOUND')
  })
})

describe('paying', () => {
  it('native: codeUrl (weixin://wxpay/bizpayurl?pr=…) and expiresAt; the sandbox has the order', async () => {
    const order = await newOrder(alice, 2, 1)
    const res = await pay(alice, order.orderNo, 'native')
    expect(res.status).toBe(200)
    const body = schemas.PayResponse.parse(res.body)
    if (body.channel !== 'native') throw new Error('expected native')
    expect(body.codeUrl).toMatch(/^weixin:\/\/wxpay\/bizpayurl\?pr=\w+$/)
    expect(Date.parse(body.expiresAt)).toBeLessThanOrEqual(Date.parse(order.expiresAt))
    expect(Date.parse(body.expiresAt)).toBeGreaterThan(h.now().getTime() + 60_000)

    const [at] = await sandboxOrders(order.orderNo)
    expect(at).toMatchObject({
      trade_type: 'NATIVE',
      trade_state: 'NOTPAY',
      total: 8900,
      code_url: body.codeUrl,
      notify_url: `${h.url}/api/pay/notify`,
    })
  })

  it('paying again reuses the codeUrl without a new prepay', async () => {
    const order = await newOrder(alice)
    const first = await pay(alice, order.orderNo, 'native')
    expect(first.status).toBe(200)
    const countBefore = (await sandboxOrders()).length

    // An armed fault would fail any call to WeChat: the second pay must not make one.
    await h.control('POST', '/__sandbox/faults', {
      target: '/v3/pay/transactions',
      kind: 'error500',
      count: 3,
    })
    const second = await pay(alice, order.orderNo, 'native')
    expect(second.status).toBe(200)
    expect(second.body).toEqual(first.body)
    expect(await armedFaults()).toEqual([
      { target: '/v3/pay/transactions', kind: 'error500', remaining: 3 },
    ])
    expect(await sandboxOrders(order.orderNo)).toHaveLength(1)
    expect(await sandboxOrders()).toHaveLength(countBefore)

    // Use the fault up (three attempts: the SDK retries a 5xx twice).
    const other = await newOrder(alice)
    expectError(await pay(alice, other.orderNo, 'native'), 503, 'WECHAT_UNAVAILABLE')
    expect(await armedFaults()).toEqual([])
  })

  it('jsapi: signed wx.requestPayment params; paying again reuses the prepay_id', async () => {
    const order = await newOrder(alice)
    const first = await pay(alice, order.orderNo, 'jsapi')
    expect(first.status).toBe(200)
    const body = schemas.PayResponse.parse(first.body)
    if (body.channel !== 'jsapi') throw new Error('expected jsapi')
    expect(body.params.signType).toBe('RSA')
    expect(body.params.package).toMatch(/^prepay_id=\w+$/)
    const [at] = await sandboxOrders(order.orderNo)
    expect(at!.trade_type).toBe('JSAPI')
    expect(body.params.package).toBe(`prepay_id=${at!.prepay_id}`)

    const again = await pay(alice, order.orderNo, 'jsapi')
    expect(again.status).toBe(200)
    if (again.body.channel !== 'jsapi') throw new Error('expected jsapi')
    expect(again.body.params.package).toBe(body.params.package)
    expect(await sandboxOrders(order.orderNo)).toHaveLength(1)
  })

  it('jsapi after native → 409 PAY_CHANNEL_LOCKED (and native after jsapi)', async () => {
    const a = await newOrder(alice)
    expect((await pay(alice, a.orderNo, 'native')).status).toBe(200)
    expectError(await pay(alice, a.orderNo, 'jsapi'), 409, 'PAY_CHANNEL_LOCKED')

    const b = await newOrder(alice)
    expect((await pay(alice, b.orderNo, 'jsapi')).status).toBe(200)
    expectError(await pay(alice, b.orderNo, 'native'), 409, 'PAY_CHANNEL_LOCKED')
  })

  it('a paid order → 409 ORDER_ALREADY_PAID', async () => {
    const order = await newOrder(alice, 1, 1)
    expect((await pay(alice, order.orderNo, 'native')).status).toBe(200)
    const paid = await payAtWechat(alice, order.orderNo)
    expect(paid.paidAt).toEqual(expect.any(String))
    expectError(await pay(alice, order.orderNo, 'native'), 409, 'ORDER_ALREADY_PAID')
    expectError(await pay(alice, order.orderNo, 'jsapi'), 409, 'ORDER_ALREADY_PAID')
  })

  it('a bad channel → 400 INVALID_INPUT', async () => {
    const order = await newOrder(alice)
    for (const channel of ['h5', 'JSAPI', '', 1, undefined]) {
      expectError(await pay(alice, order.orderNo, channel), 400, 'INVALID_INPUT')
    }
    expect(await sandboxOrders(order.orderNo)).toEqual([])
  })

  it('WeChat failing (error500 ×3) → 503 WECHAT_UNAVAILABLE; the order stays PENDING and payable', async () => {
    const order = await newOrder(alice)
    await h.control('POST', '/__sandbox/faults', {
      target: '/v3/pay/transactions',
      kind: 'error500',
      count: 3,
    })
    expectError(await pay(alice, order.orderNo, 'native'), 503, 'WECHAT_UNAVAILABLE')
    expect(await armedFaults()).toEqual([])
    const after = await get(alice, order.orderNo)
    expect(after.status).toBe(200)
    expect(after.body.status).toBe('PENDING')

    const retry = await pay(alice, order.orderNo, 'native')
    expect(retry.status).toBe(200)
    expect(retry.body.channel).toBe('native')
  })

  it('WeChat not answering → 503 WECHAT_UNAVAILABLE after the client timeout; still payable', async () => {
    const order = await newOrder(alice)
    await h.control('POST', '/__sandbox/faults', {
      target: '/v3/pay/transactions',
      kind: 'timeout',
      count: 1,
    })
    const started = Date.now()
    const res = await pay(alice, order.orderNo, 'jsapi')
    const elapsed = Date.now() - started
    expectError(res, 503, 'WECHAT_UNAVAILABLE')
    expect(elapsed).toBeGreaterThanOrEqual(1900)
    expect(elapsed).toBeLessThan(6000)
    expect((await get(alice, order.orderNo)).body.status).toBe('PENDING')

    const retry = await pay(alice, order.orderNo, 'jsapi')
    expect(retry.status).toBe(200)
    expect(retry.body.channel).toBe('jsapi')
  })

  it('an order within 60 s of expiry → 409 ORDER_NOT_PAYABLE', async () => {
    const order = await newOrder(alice)
    h.advance(h.config.orderTtlSeconds - 59)
    expectError(await pay(alice, order.orderNo, 'native'), 409, 'ORDER_NOT_PAYABLE')
    expectError(await pay(alice, order.orderNo, 'jsapi'), 409, 'ORDER_NOT_PAYABLE')
    expect(await sandboxOrders(order.orderNo)).toEqual([])
    expect((await get(alice, order.orderNo)).body.status).toBe('PENDING')
    // A fresh order made now is payable.
    const fresh = await newOrder(alice)
    expect((await pay(alice, fresh.orderNo, 'native')).status).toBe(200)
  })
})

describe('cancelling', () => {
  it('PENDING → CLOSED with the stock back; cancelling again → 200 CLOSED', async () => {
    const before = await stock(2)
    const order = await newOrder(alice, 2, 3)
    expect(await stock(2)).toBe(before - 3)

    const res = await cancel(alice, order.orderNo)
    expect(res.status).toBe(200)
    expect(res.body.status).toBe('CLOSED')
    expect(res.body.closedAt).toEqual(expect.any(String))
    expect(await stock(2)).toBe(before)

    const again = await cancel(alice, order.orderNo)
    expect(again.status).toBe(200)
    expect(again.body.status).toBe('CLOSED')
    expect(again.body.closedAt).toBe(res.body.closedAt)
    expect(await stock(2)).toBe(before)

    expectError(await pay(alice, order.orderNo, 'native'), 409, 'ORDER_NOT_PAYABLE')
  })

  it('an order never prepaid is cancelled without asking WeChat (works while WeChat is down)', async () => {
    const before = await stock(5)
    const order = await newOrder(alice, 5, 2)
    await h.control('POST', '/__sandbox/faults', {
      target: '/v3/pay/transactions',
      kind: 'error500',
      count: 3,
    })
    const res = await cancel(alice, order.orderNo)
    expect(res.status).toBe(200)
    expect(res.body.status).toBe('CLOSED')
    expect(await stock(5)).toBe(before)
    expect(await armedFaults()).toHaveLength(1)
    // Use the fault up.
    const other = await newOrder(alice)
    expectError(await pay(alice, other.orderNo, 'native'), 503, 'WECHAT_UNAVAILABLE')
    expect(await armedFaults()).toEqual([])
  })

  it('a prepaid order is closed at WeChat too', async () => {
    const before = await stock(4)
    const order = await newOrder(alice, 4, 2)
    expect((await pay(alice, order.orderNo, 'native')).status).toBe(200)
    const res = await cancel(alice, order.orderNo)
    expect(res.status).toBe(200)
    expect(res.body.status).toBe('CLOSED')
    expect((await sandboxOrders(order.orderNo))[0]!.trade_state).toBe('CLOSED')
    expect(await stock(4)).toBe(before)
  })

  it('WeChat failing on close → 503; the order stays PENDING with its stock reserved', async () => {
    const before = await stock(2)
    const order = await newOrder(alice, 2, 1)
    expect((await pay(alice, order.orderNo, 'native')).status).toBe(200)
    await h.control('POST', '/__sandbox/faults', {
      target: `/v3/pay/transactions/out-trade-no/${order.orderNo}/close`,
      kind: 'error500',
      count: 3,
    })
    expectError(await cancel(alice, order.orderNo), 503, 'WECHAT_UNAVAILABLE')
    expect(await armedFaults()).toEqual([])
    expect((await get(alice, order.orderNo)).body.status).toBe('PENDING')
    expect(await stock(2)).toBe(before - 1)
  })

  it('cancelling a paid order → 409 ORDER_ALREADY_PAID', async () => {
    const order = await newOrder(alice, 1, 1)
    expect((await pay(alice, order.orderNo, 'native')).status).toBe(200)
    await payAtWechat(alice, order.orderNo)
    const before = await stock(1)
    expectError(await cancel(alice, order.orderNo), 409, 'ORDER_ALREADY_PAID')
    expect((await get(alice, order.orderNo)).body.status).toBe('PAID')
    expect(await stock(1)).toBe(before)
  })

  it('cancelling an order paid at WeChat whose notification was lost → 409, and it is PAID', async () => {
    const order = await newOrder(alice, 1, 1)
    expect((await pay(alice, order.orderNo, 'native')).status).toBe(200)
    await h.control('POST', '/__sandbox/faults', {
      target: 'notifications',
      kind: 'drop',
      count: 1,
    })
    expect(
      (await h.control('POST', '/__sandbox/pay', { out_trade_no: order.orderNo })).status,
    ).toBe(200)
    const before = await stock(1)
    expectError(await cancel(alice, order.orderNo), 409, 'ORDER_ALREADY_PAID')
    const after = await h.admin<{ status: string; payments: { source: string }[] }>(
      'GET',
      `/api/admin/orders/${order.orderNo}`,
    )
    expect(after.body.status).toBe('PAID')
    expect(after.body.payments.map((p) => p.source)).toEqual(['query'])
    expect(await stock(1)).toBe(before)
  })
})
