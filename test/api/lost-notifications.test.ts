import type { Order } from '@fen/shared'
import { startHarness, type Harness } from '@fen/server/test/harness'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  adminOrder,
  createOrder,
  deliveredTypes,
  fault,
  prepayNative,
  sandboxNotifications,
  sandboxOrder,
  sandboxPay,
} from './support'

let h: Harness
beforeAll(async () => {
  h = await startHarness()
})
afterAll(() => h?.close())

/** Pays an order at WeChat while the notification is dropped; returns the transaction id. */
async function payWithoutNotification(orderNo: string, codeUrl: string): Promise<string> {
  await fault(h, { target: 'notifications', kind: 'drop' })
  const tx = await sandboxPay(h, { code_url: codeUrl })
  expect(tx.trade_state).toBe('SUCCESS')
  const notes = await sandboxNotifications(h, orderNo)
  expect(notes.map((n) => n.status)).toEqual(['dropped'])
  expect(notes[0]!.attempts).toEqual([])
  return tx.transaction_id!
}

describe('a lost payment notification', () => {
  it('is made up for by the GET of the order, once its last check is 3 s old', async () => {
    const token = await h.login()
    const order = await createOrder(h, token, [{ productId: 2, quantity: 1 }])
    const codeUrl = await prepayNative(h, token, order.orderNo)

    // The shopper's page polls: this GET syncs (never checked before); WeChat says NOTPAY.
    const before = await h.api<Order>('GET', `/api/orders/${order.orderNo}`, { token })
    expect(before.body.status).toBe('PENDING')

    const transactionId = await payWithoutNotification(order.orderNo, codeUrl)

    // Nothing reached the server: it still holds the order PENDING.
    await new Promise((r) => setTimeout(r, 200))
    expect((await adminOrder(h, order.orderNo)).status).toBe('PENDING')
    // A GET within 3 s of the last check shows the local state without asking WeChat.
    const soon = await h.api<Order>('GET', `/api/orders/${order.orderNo}`, { token })
    expect(soon.body.status).toBe('PENDING')

    h.advance(5)
    const later = await h.api<Order>('GET', `/api/orders/${order.orderNo}`, { token })
    expect(later.status).toBe(200)
    expect(later.body.status).toBe('PAID')
    expect(later.body.paidAt).toBeDefined()

    const detail = await adminOrder(h, order.orderNo)
    expect(detail.status).toBe('PAID')
    expect(detail.transactionId).toBe(transactionId)
    expect(detail.payments).toEqual([
      expect.objectContaining({ transactionId, amountFen: order.totalFen, source: 'query' }),
    ])
    expect(detail.notifications).toEqual([])

    // More GETs change nothing: a PAID order is not synced, and order.paid is written once.
    h.advance(5)
    const again = await h.api<Order>('GET', `/api/orders/${order.orderNo}`, { token })
    expect(again.body.status).toBe('PAID')
    expect(await deliveredTypes(h, order.orderNo)).toEqual(['order.paid'])
    expect((await adminOrder(h, order.orderNo)).events.map((e) => e.type)).toEqual(['order.paid'])
  })

  it('is made up for by the sweeper when the order expires: PAID, not closed', async () => {
    const token = await h.login()
    const order = await createOrder(h, token, [{ productId: 1, quantity: 2 }])
    const codeUrl = await prepayNative(h, token, order.orderNo)
    const transactionId = await payWithoutNotification(order.orderNo, codeUrl)

    // Nobody looks at the order; it passes its expiry (ORDER_TTL_SECONDS, 900 by default).
    expect(h.config.orderTtlSeconds).toBe(900)
    h.advance(h.config.orderTtlSeconds + 60)
    expect(h.now().getTime()).toBeGreaterThan(Date.parse(order.expiresAt))
    expect((await adminOrder(h, order.orderNo)).status).toBe('PENDING')

    const run = await h.sweep()
    expect(run).toEqual({ orders: 1, refunds: 0, errors: 0 })

    const detail = await adminOrder(h, order.orderNo)
    expect(detail.status).toBe('PAID')
    expect(detail.closedAt).toBeUndefined()
    expect(detail.transactionId).toBe(transactionId)
    expect(detail.payments).toEqual([
      expect.objectContaining({ transactionId, amountFen: order.totalFen, source: 'query' }),
    ])
    expect(await deliveredTypes(h, order.orderNo)).toEqual(['order.paid'])
    // WeChat's order is still paid: the sweeper did not try to close it.
    expect((await sandboxOrder(h, order.orderNo))?.trade_state).toBe('SUCCESS')

    // The next run finds nothing to do.
    expect(await h.sweep()).toEqual({ orders: 0, refunds: 0, errors: 0 })
    expect(await deliveredTypes(h, order.orderNo)).toEqual(['order.paid'])
    const mine = await h.api<Order>('GET', `/api/orders/${order.orderNo}`, { token })
    expect(mine.body.status).toBe('PAID')
  })
})
