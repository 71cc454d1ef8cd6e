/**
 * Issue #6, part 3: other shoppers' orders, and carts.
 *
 * - Generated pairs of shoppers: B never reads, pays or cancels A's order, whatever state it is
 *   in. docs/api.md promises 404 ORDER_NOT_FOUND ("also another user's order"), not 403, so the
 *   answer must be exactly the one B gets for an order number that does not exist: nothing leaks
 *   that the order exists, and nothing about it changes (not even a sync with WeChat).
 * - Generated carts (quantities negative, zero, fractional, huge, strings, over the stock; products
 *   unknown or on two lines; client-side prices): the documented 4xx and nothing reserved, or —
 *   for a valid cart — an order priced from the server's catalogue, never from the client.
 */
import type { ErrorCode, Order, PayResponse, Product } from '@fen/shared'
import { startHarness, type Harness } from '@fen/server/test/harness'
import fc from 'fast-check'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { prepayJsapi, prepayNative, sandboxOrder, sandboxPay, untilStatus } from '../api/support'
import { SOAK, scaled, soakTimeout } from '../support/soak'
import {
  expectAlive,
  expectRefused,
  jsonText,
  parsedJsonBody,
  rawNumber,
  runs,
  shopper,
  shortHostileScalar,
  snapshot,
  type Shopper,
} from './support'

let h: Harness
/** The shoppers pairs are drawn from (logins are rate-limited: 30 a minute per address). */
let shoppers: Shopper[]

beforeAll(async () => {
  h = await startHarness()
  shoppers = []
  for (let i = 0; i < scaled(6, 12); i++) shoppers.push(await shopper(h))
}, 30_000)
afterAll(() => h?.close())
afterEach(async () => {
  if (h) await expectAlive(h)
})

const TIMEOUT = soakTimeout(30_000, 300_000)

async function catalogue(): Promise<Map<number, Product>> {
  const res = await h.api<Product[]>('GET', '/api/products')
  return new Map(res.body.map((p) => [p.id, p]))
}

async function send(method: string, path: string, token: string, body?: unknown) {
  return h.api<{ code: string; message: string }>(method, path, {
    token,
    ...(body === undefined ? {} : { body }),
  })
}

// ---- other shoppers' orders ---------------------------------------------------------------

type State = 'pending' | 'prepaid-native' | 'prepaid-jsapi' | 'paid' | 'closed'
type Attempt =
  { method: 'GET' } | { method: 'pay'; channel: 'jsapi' | 'native' } | { method: 'cancel' }

/** A's order brought to `state`, through the API and the sandbox as a shopper would. */
async function orderIn(a: Shopper, quantity: number, state: State): Promise<Order> {
  const created = await h.api<Order>('POST', '/api/orders', {
    token: a.token,
    body: { items: [{ productId: 5, quantity }] },
  })
  expect(created.status, JSON.stringify(created.body)).toBe(201)
  const order = created.body
  if (state === 'prepaid-native') await prepayNative(h, a.token, order.orderNo)
  if (state === 'prepaid-jsapi') await prepayJsapi(h, a.token, order.orderNo)
  if (state === 'paid') {
    await sandboxPay(h, { code_url: await prepayNative(h, a.token, order.orderNo) })
    await untilStatus(h, order.orderNo, 'PAID')
  }
  if (state === 'closed') {
    const res = await h.api<Order>('POST', `/api/orders/${order.orderNo}/cancel`, {
      token: a.token,
    })
    expect(res.body.status).toBe('CLOSED')
  }
  return order
}

function request(attempt: Attempt, orderNo: string, token: string) {
  if (attempt.method === 'GET') return send('GET', `/api/orders/${orderNo}`, token)
  if (attempt.method === 'pay')
    return send('POST', `/api/orders/${orderNo}/pay`, token, { channel: attempt.channel })
  return send('POST', `/api/orders/${orderNo}/cancel`, token)
}

let unknownSeq = 0
/** An order number shaped like the server's (`FEN` + 22 digits) that no order has. */
function unknownOrderNo(): string {
  unknownSeq += 1
  return `FEN${'9'.repeat(14)}${String(unknownSeq).padStart(8, '0')}`
}

describe("another shopper's order", () => {
  it(
    'B never reads, pays or cancels it: the same 404 as for no order at all, and nothing changes',
    async () => {
      const pair = fc
        .tuple(fc.nat({ max: shoppers.length - 1 }), fc.nat({ max: shoppers.length - 1 }))
        .filter(([a, b]) => a !== b)
      const attempts = fc.array(
        fc.oneof(
          fc.constant<Attempt>({ method: 'GET' }),
          fc.constantFrom<Attempt>(
            { method: 'pay', channel: 'jsapi' },
            { method: 'pay', channel: 'native' },
          ),
          fc.constant<Attempt>({ method: 'cancel' }),
        ),
        { minLength: 1, maxLength: 4 },
      )
      await fc.assert(
        fc.asyncProperty(
          pair,
          fc.constantFrom<State>('pending', 'prepaid-native', 'prepaid-jsapi', 'paid', 'closed'),
          fc.integer({ min: 1, max: 9 }),
          attempts,
          async ([ai, bi], state, quantity, tries) => {
            const a = shoppers[ai]!
            const b = shoppers[bi]!
            const order = await orderIn(a, quantity, state)
            const before = await snapshot(h)
            for (const attempt of tries) {
              const what = `B ${JSON.stringify(attempt)} on A's ${state} order`
              const theirs = await request(attempt, order.orderNo, b.token)
              const nobodys = await request(attempt, unknownOrderNo(), b.token)
              expectRefused(theirs, ['ORDER_NOT_FOUND'], what)
              // Exactly what an order that does not exist gets: nothing tells B it exists.
              expect({ status: theirs.status, body: theirs.body }, what).toEqual({
                status: nobodys.status,
                body: nobodys.body,
              })
            }
            // Not a row changed — not even A's order's last check with WeChat — nor WeChat's view.
            expect(await snapshot(h), `after ${JSON.stringify(tries)} on a ${state} order`).toEqual(
              before,
            )
            const list = await h.api<Order[]>('GET', '/api/orders', { token: b.token })
            expect(list.body.map((o) => o.orderNo)).not.toContain(order.orderNo)
            // A still has it, as it was.
            const mine = await h.api<Order>('GET', `/api/orders/${order.orderNo}`, {
              token: a.token,
            })
            expect(mine.status).toBe(200)
            expect(mine.body.status).toBe(
              {
                pending: 'PENDING',
                'prepaid-native': 'PENDING',
                'prepaid-jsapi': 'PENDING',
                paid: 'PAID',
                closed: 'CLOSED',
              }[state],
            )
          },
        ),
        runs(10, 150),
      )
    },
    TIMEOUT,
  )
})

// ---- carts ------------------------------------------------------------------------------------

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
const isIntIn = (v: unknown, min: number, max: number) =>
  Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max

/**
 * What docs/api.md says of a cart: 1–20 lines, each product once, quantity 1–99 and product ids
 * positive 32-bit integers (else INVALID_INPUT); then every product must exist (PRODUCT_NOT_FOUND)
 * and have the stock (OUT_OF_STOCK). `[]`: the order is created.
 */
function judgeCart(v: unknown, products: Map<number, Product>): ErrorCode[] {
  if (!isObject(v) || !Array.isArray(v.items) || v.items.length < 1 || v.items.length > 20)
    return ['INVALID_INPUT']
  const lines = v.items as unknown[]
  if (
    !lines.every(
      (l) => isObject(l) && isIntIn(l.productId, 1, 2_147_483_647) && isIntIn(l.quantity, 1, 99),
    )
  )
    return ['INVALID_INPUT']
  const items = lines as { productId: number; quantity: number }[]
  if (new Set(items.map((i) => i.productId)).size !== items.length) return ['INVALID_INPUT']
  const codes = new Set<ErrorCode>()
  for (const i of items) {
    const p = products.get(i.productId)
    if (!p) codes.add('PRODUCT_NOT_FOUND')
    else if (i.quantity > p.stock) codes.add('OUT_OF_STOCK')
  }
  return [...codes]
}

/** Fields a client may add to claim a price: the server must ignore every one. */
const clientPrices = fc.dictionary(
  fc.constantFrom(
    'priceFen',
    'unitPriceFen',
    'totalFen',
    'amount',
    'amountFen',
    'title',
    'discount',
  ),
  fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.constantFrom(0, 1, -1, 0.01)),
  { maxKeys: 3 },
)

const productId = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 1, max: 5 }) },
  { weight: 2, arbitrary: fc.integer({ min: 6, max: 2_147_483_647 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, -0, 1.5, 2 ** 31, 2 ** 53, '1', null) },
  { weight: 1, arbitrary: fc.oneof(shortHostileScalar, rawNumber) },
)
const quantity = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 1, max: 99 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      0,
      -1,
      -0,
      0.5,
      1.5,
      98.9999,
      99.5,
      100,
      101,
      1e6,
      2 ** 31,
      2 ** 53,
      1e308,
      -1e308,
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '1',
      '01',
      ' 1',
      '1e1',
      'NaN',
      'Infinity',
      '',
      '１',
      [1],
      { n: 1 },
      true,
    ),
  },
  { weight: 1, arbitrary: fc.oneof(shortHostileScalar, rawNumber) },
)
const line = fc
  .tuple(fc.record({ productId, quantity }, { requiredKeys: [] }), clientPrices)
  .map(([l, prices]) => ({ ...prices, ...l }))
const cart = fc.oneof(
  {
    weight: 12,
    arbitrary: fc
      .tuple(
        fc.oneof(
          { weight: 6, arbitrary: fc.array(line, { minLength: 1, maxLength: 5 }) },
          { weight: 1, arbitrary: fc.array(line, { maxLength: 24 }) },
        ),
        clientPrices,
      )
      .map(([items, prices]) => ({ ...prices, items })),
  },
  {
    weight: 1,
    arbitrary: fc.oneof(shortHostileScalar, fc.array(shortHostileScalar, { maxLength: 3 })),
  },
)

describe('carts', () => {
  it(
    'any generated cart gets what docs/api.md says; nothing is reserved unless an order is made, priced by the server',
    async () => {
      const a = shoppers[0]!
      /** How many runs took each branch: both must be exercised. */
      const seen = { refused: 0, created: 0 }
      await fc.assert(
        fc.asyncProperty(cart, async (value) => {
          const text = jsonText(value)
          const products = await catalogue()
          // Raw tokens such as NaN make it no JSON at all: refused by the body parser.
          const parsed = parsedJsonBody(text)
          const expected = parsed
            ? judgeCart(parsed.value, products)
            : (['INVALID_INPUT'] as ErrorCode[])
          const before = await snapshot(h)
          const res = await h.api<Order>('POST', '/api/orders', {
            token: a.token,
            raw: text,
            headers: { 'content-type': 'application/json' },
          })
          const what = `cart ${text.slice(0, 400)}`
          if (expected.length > 0) {
            expectRefused(res, expected, what)
            expect(await snapshot(h), `${what}: refused, yet something changed`).toEqual(before)
            seen.refused += 1
            return
          }
          seen.created += 1
          // A valid cart (generated, not filtered out): the one case where state changes here.
          expect(res.status, `${what} → ${JSON.stringify(res.body)}`).toBe(201)
          const items = (parsed!.value as { items: { productId: number; quantity: number }[] })
            .items
          expectPricedByServer(res.body, items, products, what)
          const after = await catalogue()
          for (const i of items)
            expect(after.get(i.productId)!.stock, what).toBe(
              products.get(i.productId)!.stock - i.quantity,
            )
          // Cancelled again, the stock is back.
          const cancelled = await h.api<Order>('POST', `/api/orders/${res.body.orderNo}/cancel`, {
            token: a.token,
          })
          expect(cancelled.body.status, what).toBe('CLOSED')
          const restored = await catalogue()
          for (const [id, p] of products) expect(restored.get(id)!.stock, what).toBe(p.stock)
        }),
        {
          ...runs<[unknown]>(40, 600),
          // Always one valid and one refused cart, whatever the seed draws.
          examples: [
            [{ items: [{ productId: 1, quantity: 2, priceFen: 1 }], totalFen: 1 }],
            [{ items: [{ productId: 1, quantity: -1 }] }],
          ],
        },
      )
      expect(seen.created).toBeGreaterThan(0)
      expect(seen.refused).toBeGreaterThan(0)
    },
    TIMEOUT,
  )

  it(
    'valid generated carts with client prices: the total is the sum of server prices, and WeChat is asked for exactly that',
    async () => {
      const b = shoppers[1]!
      const products = await catalogue()
      const validCart = fc
        .uniqueArray(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 5 })
        .chain((ids) =>
          fc.tuple(
            fc.tuple(
              ...ids.map((id) =>
                fc.record({
                  productId: fc.constant(id),
                  quantity: fc.integer({
                    min: 1,
                    max: Math.min(99, Math.floor(products.get(id)!.stock / 4)),
                  }),
                }),
              ),
            ),
            fc.array(clientPrices, { minLength: ids.length, maxLength: ids.length }),
            clientPrices,
          ),
        )
        .map(([lines, prices, top]) => ({
          ...top,
          items: lines.map((l, i) => ({ ...prices[i], ...l })),
        }))
      await fc.assert(
        fc.asyncProperty(validCart, async (body) => {
          const before = await catalogue()
          const res = await h.api<Order>('POST', '/api/orders', { token: b.token, body })
          const what = `cart ${JSON.stringify(body)}`
          expect(res.status, `${what} → ${JSON.stringify(res.body)}`).toBe(201)
          expectPricedByServer(res.body, body.items, before, what)
          const pay = await h.api<PayResponse>('POST', `/api/orders/${res.body.orderNo}/pay`, {
            token: b.token,
            body: { channel: 'native' },
          })
          expect(pay.status, what).toBe(200)
          expect(
            (await sandboxOrder(h, res.body.orderNo))?.total,
            `${what}: WeChat was asked for another amount`,
          ).toBe(res.body.totalFen)
          const cancelled = await h.api<Order>('POST', `/api/orders/${res.body.orderNo}/cancel`, {
            token: b.token,
          })
          expect(cancelled.body.status, what).toBe('CLOSED')
          expect(await catalogue(), what).toEqual(before)
        }),
        runs(10, 150),
      )
    },
    TIMEOUT,
  )

  it('afterwards, every order in the database is priced from the catalogue', async () => {
    const q = h.database.db.query
    const [orders, lines, products] = await Promise.all([
      q.orders.findMany(),
      q.orderItems.findMany(),
      q.products.findMany(),
    ])
    const price = new Map(products.map((p) => [p.id, p.priceFen]))
    expect(orders.length).toBeGreaterThan(SOAK ? 100 : 10)
    for (const o of orders) {
      const mine = lines.filter((l) => l.orderNo === o.orderNo)
      expect(mine.length, o.orderNo).toBeGreaterThan(0)
      for (const l of mine) expect(l.unitPriceFen, o.orderNo).toBe(price.get(l.productId))
      expect(o.totalFen, o.orderNo).toBe(mine.reduce((s, l) => s + l.unitPriceFen * l.quantity, 0))
    }
  })
})

/** An order priced from the catalogue: each line at the product's price, the total their sum. */
function expectPricedByServer(
  order: Order,
  items: { productId: number; quantity: number }[],
  products: Map<number, Product>,
  what: string,
) {
  const expected = [...items]
    .sort((x, y) => x.productId - y.productId)
    .map((i) => {
      const p = products.get(i.productId)!
      return {
        productId: i.productId,
        title: p.title,
        quantity: i.quantity,
        unitPriceFen: p.priceFen,
        ...(p.imageUrl ? { imageUrl: p.imageUrl } : {}),
        // No spec chosen: the server fills in each spec's first option.
        ...(p.specs
          ? {
              spec: Object.fromEntries(p.specs.map((s) => [s.name, s.options[0]])),
              specLabel: p.specs.map((s) => s.options[0]).join('/'),
            }
          : {}),
      }
    })
  expect(
    [...order.items].sort((x, y) => x.productId - y.productId),
    what,
  ).toEqual(expected)
  expect(order.totalFen, what).toBe(expected.reduce((s, i) => s + i.unitPriceFen * i.quantity, 0))
  expect(order.status, what).toBe('PENDING')
}
