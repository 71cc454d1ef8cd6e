/**
 * Order numbers are `FEN` + the Beijing second + 8 random digits: two orders in one second can
 * draw the same number. The second one must not fail (a 500 to a shopper who did nothing wrong):
 * it draws again, and its stock is taken once.
 */
import type * as Crypto from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'

/** The random part of the next order numbers, in turn; then crypto's own. */
const forced = vi.hoisted(() => ({ draws: [] as number[] }))
vi.mock('node:crypto', async (importOriginal) => {
  const crypto = await importOriginal<typeof Crypto>()
  const randomInt = ((...args: Parameters<typeof crypto.randomInt>) => {
    if (args[0] === 0 && args[1] === 100_000_000 && forced.draws.length > 0) {
      return forced.draws.shift()
    }
    return (crypto.randomInt as (...a: unknown[]) => unknown)(...args)
  }) as typeof crypto.randomInt
  return { ...crypto, default: { ...crypto, randomInt }, randomInt }
})

const { startHarness } = await import('./harness')
const { orders, products, users } = await import('../src/db/schema')
const { formatV2Time } = await import('@fen/wechatpay')
const { eq } = await import('drizzle-orm')
type Harness = Awaited<ReturnType<typeof startHarness>>

let h: Harness
beforeAll(async () => {
  h = await startHarness()
})
afterAll(() => h?.close())

const stockOf = async (id: number) =>
  (await h.database.db.select().from(products).where(eq(products.id, id)))[0]!.stock

describe('an order number drawn twice', () => {
  it('the create draws again and succeeds; its stock is taken once', async () => {
    const token = await h.login('o-collision')
    const [user] = await h.database.db
      .select({ id: users.id })
      .from(users)
      .where(eq(users.openid, 'o-collision'))
    // The number the first draw makes, for every second of the next minute, is taken already.
    const now = Date.now()
    await h.database.db.insert(orders).values(
      Array.from({ length: 65 }, (_, i) => ({
        orderNo: `FEN${formatV2Time(new Date(now + (i - 5) * 1000))}00004242`,
        userId: user!.id,
        status: 'CLOSED',
        totalFen: 100,
        apiVersion: 'v3',
        expiresAt: new Date(now),
      })),
    )
    const stockBefore = await stockOf(1)
    forced.draws.push(4242, 777)
    const res = await h.api<{ orderNo: string; totalFen: number }>('POST', '/api/orders', {
      token,
      body: { items: [{ productId: 1, quantity: 2 }] },
    })
    expect(res.status).toBe(201)
    expect(res.body.orderNo).toMatch(/^FEN\d{14}00000777$/)
    expect(forced.draws).toEqual([])
    expect(await stockOf(1)).toBe(stockBefore - 2)
  })
})
