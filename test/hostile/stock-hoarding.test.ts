/**
 * Issue #23, item 11: one shopper hoarding a product's stock with unpaid orders.
 *
 * The review: one shopper may hold 10 unpaid orders × 99 units = 990 units of one product
 * reserved, more than the whole stock of most of the catalogue; a second shopper then cannot buy.
 * This suite replays it at the production limits (ORDER_MAX_OPEN_PER_USER 10,
 * ORDER_MAX_UNITS_PER_PRODUCT 20) on each of the products 1–4 (stock 50 to 300): a fresh shopper
 * sends 10 orders at once of as many units as a line takes (99, or the whole stock when less),
 * then 10 more at once of 5 units each. What must hold: the hoarder holds at most the cap of the
 * product, every refusal is a 409 `PURCHASE_LIMIT_EXCEEDED` (or `OUT_OF_STOCK`) saying 限购, and a
 * second shopper can then buy the cap.
 */
import type { Product } from '@fen/shared'
import { startHarness, type Harness } from '@fen/server/test/harness'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stockOf } from '../api/support'
import { expectAlive, shopper } from './support'

/** The production defaults, set here because the harness lifts both for other suites. */
const MAX_OPEN = 10
const CAP = 20
const PRODUCTS = [1, 2, 3, 4]

let h: Harness
beforeAll(async () => {
  h = await startHarness({
    env: { ORDER_MAX_OPEN_PER_USER: String(MAX_OPEN), ORDER_MAX_UNITS_PER_PRODUCT: String(CAP) },
  })
})
afterAll(() => h?.close())

type Answer = { code?: string; message?: string }

/** `n` creates at once of `quantity` units of the product; the answers. */
function burst(token: string, productId: number, quantity: number, n: number) {
  return Promise.all(
    Array.from({ length: n }, () =>
      h.api<Answer>('POST', '/api/orders', {
        token,
        body: { items: [{ productId, quantity }] },
      }),
    ),
  )
}

describe('one shopper, many unpaid orders × 99 units of one product', () => {
  it('holds at most the cap of each product, and a second shopper can still buy', async () => {
    const figures: string[] = []
    const catalogue = (await h.api<Product[]>('GET', '/api/products')).body
    for (const productId of PRODUCTS) {
      const stock = catalogue.find((p) => p.id === productId)!.stock
      expect(stock).toBeLessThan(MAX_OPEN * 99)
      const hoarder = await shopper(h)
      const answers = [
        ...(await burst(hoarder.token, productId, Math.min(99, stock), MAX_OPEN)),
        ...(await burst(hoarder.token, productId, 5, MAX_OPEN)),
      ]
      const held = stock - (await stockOf(h, productId))
      const created = answers.filter((a) => a.status === 201).length
      expect(held, `product ${productId}: the hoarder holds ${held} units`).toBeLessThanOrEqual(CAP)
      for (const a of answers.filter((x) => x.status !== 201)) {
        expect(a.status).toBe(409)
        expect(['PURCHASE_LIMIT_EXCEEDED', 'OUT_OF_STOCK']).toContain(a.body.code)
        if (a.body.code === 'PURCHASE_LIMIT_EXCEEDED') expect(a.body.message).toContain('限购')
      }

      const buyer = await shopper(h)
      const bought = await h.api<Answer>('POST', '/api/orders', {
        token: buyer.token,
        body: { items: [{ productId, quantity: CAP }] },
      })
      expect(bought.status, `product ${productId}: ${JSON.stringify(bought.body)}`).toBe(201)
      figures.push(
        `product ${productId} (stock ${stock}): ${answers.length} creates, ${created} made, ${held} units held; second shopper bought ${CAP}`,
      )
    }
    await expectAlive(h)
    console.log(`stock hoarding: ${figures.join('; ')}`)
  })
})
