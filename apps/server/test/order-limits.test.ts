/**
 * One shopper cannot hold all the stock with unpaid orders: at most ORDER_MAX_OPEN_PER_USER open
 * (PENDING) orders at once, at most ORDER_MAX_QUANTITY_PER_LINE of one product per order, at most
 * ORDER_MAX_UNITS_PER_PRODUCT units of one product across their unpaid orders (issue #23, item 11:
 * 10 orders × 99 units held more than most products' whole stock) — even when the requests arrive
 * all at once.
 */
import type { Order, Product } from '@fen/shared'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHarness, type Harness } from './harness'

let h: Harness
beforeAll(async () => {
  h = await startHarness({
    env: {
      ORDER_MAX_OPEN_PER_USER: '3',
      ORDER_MAX_QUANTITY_PER_LINE: '5',
      ORDER_MAX_UNITS_PER_PRODUCT: '0',
    },
  })
})
afterAll(() => h?.close())

const create = (token: string, quantity = 1) =>
  h.api<{ code: string; orderNo: string }>('POST', '/api/orders', {
    token,
    body: { items: [{ productId: 1, quantity }] },
  })

describe('open orders per shopper', () => {
  it('ten creates at once: three succeed, the rest are 409 TOO_MANY_OPEN_ORDERS', async () => {
    const token = await h.login('o-limits-burst')
    const answers = await Promise.all(Array.from({ length: 10 }, () => create(token)))
    const statuses = answers.map((a) => a.status).sort()
    expect(statuses).toEqual([201, 201, 201, 409, 409, 409, 409, 409, 409, 409])
    for (const a of answers.filter((x) => x.status === 409))
      expect(a.body.code).toBe('TOO_MANY_OPEN_ORDERS')
  })

  it('cancelling one makes room for another; other shoppers are not affected', async () => {
    const token = await h.login('o-limits-cancel')
    const first = await create(token)
    await create(token)
    await create(token)
    expect((await create(token)).status).toBe(409)
    const cancel = await h.api('POST', `/api/orders/${first.body.orderNo}/cancel`, { token })
    expect(cancel.status).toBe(200)
    expect((await create(token)).status).toBe(201)
    expect((await create(await h.login('o-limits-other'))).status).toBe(201)
  })
})

describe('quantity per line', () => {
  it('more than ORDER_MAX_QUANTITY_PER_LINE of one product → 400 INVALID_INPUT naming the limit', async () => {
    const token = await h.login('o-limits-quantity')
    const res = await create(token, 6)
    expect(res.status).toBe(400)
    expect(res.body.code).toBe('INVALID_INPUT')
    expect((res.body as { message?: string }).message).toContain('5')
    expect((await create(token, 5)).status).toBe(201)
  })
})

describe('units of one product per shopper (ORDER_MAX_UNITS_PER_PRODUCT)', () => {
  /** The cap under test; ORDER_MAX_OPEN_PER_USER at its default (10) and 99 a line. */
  const CAP = 20
  let c: Harness
  beforeAll(async () => {
    c = await startHarness({
      env: { ORDER_MAX_OPEN_PER_USER: '10', ORDER_MAX_UNITS_PER_PRODUCT: String(CAP) },
    })
  })
  afterAll(() => c?.close())

  type Answer = { code: string; message: string; orderNo: string }
  const order = (token: string, items: { productId: number; quantity: number; spec?: object }[]) =>
    c.api<Answer>('POST', '/api/orders', { token, body: { items } })
  const stockOf = async (productId: number) =>
    (await c.api<Product[]>('GET', '/api/products')).body.find((p) => p.id === productId)!.stock

  it('10 unpaid orders × 99 units: refused past the cap (409 PURCHASE_LIMIT_EXCEEDED, 限购 20 件); a second shopper still buys', async () => {
    // Product 3: 200 in stock. Unbounded, two orders of 99 held 198 of them.
    const hoarder = await c.login('o-limits-hoarder')
    const before = await stockOf(3)
    const answers = []
    for (let i = 0; i < 10; i++)
      answers.push(await order(hoarder, [{ productId: 3, quantity: 99 }]))
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(409))
    expect(answers[0]!.body.code).toBe('PURCHASE_LIMIT_EXCEEDED')
    expect(answers[0]!.body.message).toContain(`限购 ${CAP} 件`)
    // Up to the cap, in as many orders as they like; one unit more is refused, naming what is held.
    expect((await order(hoarder, [{ productId: 3, quantity: 15 }])).status).toBe(201)
    expect((await order(hoarder, [{ productId: 3, quantity: 5 }])).status).toBe(201)
    const over = await order(hoarder, [{ productId: 3, quantity: 1 }])
    expect(over.status).toBe(409)
    expect(over.body).toMatchObject({ code: 'PURCHASE_LIMIT_EXCEEDED' })
    expect(over.body.message).toContain(`限购 ${CAP} 件`)
    expect(over.body.message).toContain(`${CAP} 件`)
    // Other products are theirs to buy.
    expect((await order(hoarder, [{ productId: 2, quantity: 1 }])).status).toBe(201)
    expect(await stockOf(3)).toBe(before - CAP)

    const buyer = await c.login('o-limits-second-buyer')
    expect((await order(buyer, [{ productId: 3, quantity: CAP }])).status).toBe(201)
    expect(await stockOf(3)).toBe(before - 2 * CAP)
  })

  it('10 creates at once of 3 units each: 6 succeed (18 units), 4 are refused', async () => {
    const token = await c.login('o-limits-units-burst')
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => order(token, [{ productId: 5, quantity: 3 }])),
    )
    const created = answers.filter((a) => a.status === 201)
    expect(created).toHaveLength(6)
    expect(answers.filter((a) => a.status === 409).map((a) => a.body.code)).toEqual(
      Array(4).fill('PURCHASE_LIMIT_EXCEEDED'),
    )
  })

  it('lines of one product in several specs count together, in one order and across orders', async () => {
    const token = await c.login('o-limits-specs')
    const lines = (a: number, b: number) => [
      { productId: 1, quantity: a, spec: { 研磨: '整豆' } },
      { productId: 1, quantity: b, spec: { 研磨: '手冲研磨' } },
    ]
    expect((await order(token, lines(15, 6))).body.code).toBe('PURCHASE_LIMIT_EXCEEDED')
    expect((await order(token, lines(15, 5))).status).toBe(201)
    expect((await order(token, lines(1, 0).slice(0, 1))).body.code).toBe('PURCHASE_LIMIT_EXCEEDED')
  })

  it('paid and closed orders do not count: only what unpaid orders hold', async () => {
    const token = await c.login('o-limits-settled')
    const paid = await order(token, [{ productId: 4, quantity: 10 }])
    const closed = await order(token, [{ productId: 4, quantity: 10 }])
    expect((await order(token, [{ productId: 4, quantity: 1 }])).body.code).toBe(
      'PURCHASE_LIMIT_EXCEEDED',
    )
    const pay = await c.api('POST', `/api/orders/${paid.body.orderNo}/pay`, {
      token,
      body: { channel: 'native' },
    })
    expect(pay.status).toBe(200)
    await c.control('POST', '/__sandbox/pay', { out_trade_no: paid.body.orderNo })
    await c.until(async () => {
      const o = await c.api<Order>('GET', `/api/orders/${paid.body.orderNo}`, { token })
      return o.body.status === 'PAID'
    })
    expect(
      (await c.api('POST', `/api/orders/${closed.body.orderNo}/cancel`, { token })).status,
    ).toBe(200)
    expect((await order(token, [{ productId: 4, quantity: CAP }])).status).toBe(201)
  })

  it('the catalogue tells the shop the limit: purchaseLimit on every product', async () => {
    const products = (await c.api<Product[]>('GET', '/api/products')).body
    expect(products.length).toBeGreaterThan(0)
    for (const p of products) expect(p.purchaseLimit).toBe(CAP)
    const home = (await c.api<{ products: Product[] }>('GET', '/api/home')).body
    for (const p of home.products) expect(p.purchaseLimit).toBe(CAP)
    // Without the cap (the other harness: ORDER_MAX_UNITS_PER_PRODUCT=0), a line's most.
    for (const p of (await h.api<Product[]>('GET', '/api/products')).body)
      expect(p.purchaseLimit).toBe(5)
  })
})
