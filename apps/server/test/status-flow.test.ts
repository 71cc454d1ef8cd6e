/**
 * The harness guards every suite with ORDER_STATUS_FLOW (packages/shared/src/lifecycle.ts): a
 * status change the table does not allow fails its statement, whichever code makes it. This
 * checks the guard itself, so a suite passing means its status changes were all allowed.
 */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { orders } from '../src/db/schema'
import { startHarness, type Harness } from './harness'

let h: Harness
beforeAll(async () => {
  h = await startHarness()
})
afterAll(() => h?.close())

describe('the status-flow guard of the test databases', () => {
  it('refuses a change the table does not allow and lets an allowed one through', async () => {
    const token = await h.login()
    const created = await h.api<{ orderNo: string }>('POST', '/api/orders', {
      token,
      body: { items: [{ productId: 1, quantity: 1 }] },
    })
    expect(created.status).toBe(201)
    const { orderNo } = created.body
    const set = (status: string) =>
      h.database.db.update(orders).set({ status }).where(eq(orders.orderNo, orderNo))
    await expect(set('REFUNDED')).rejects.toThrow()
    await expect(set('SHIPPED')).rejects.toThrow()
    await set('CLOSED')
    await expect(set('PENDING')).rejects.toThrow()
    const [row] = await h.database.db.select().from(orders).where(eq(orders.orderNo, orderNo))
    expect(row!.status).toBe('CLOSED')
  })
})
