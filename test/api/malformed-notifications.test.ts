/**
 * Notifications signed with WeChat's real key but malformed (what only someone holding the platform
 * key, or a WeChat bug, could send): each is refused with 400 — never a 500 that WeChat would retry
 * for a day — stored for review, and changes nothing.
 */
import type { Order } from '@fen/shared'
import { startHarness, type Harness } from '@fen/server/test/harness'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  adminOrder,
  createOrder,
  newTransactionId,
  paidTransaction,
  postNotify,
  prepayNative,
  signedNotification,
  signedV2Notification,
} from './support'

let h: Harness
let order: Order
beforeAll(async () => {
  h = await startHarness()
  const token = await h.login()
  order = await createOrder(h, token, [{ productId: 2, quantity: 1 }])
  await prepayNative(h, token, order.orderNo)
})
afterAll(() => h?.close())

/** Rejected notification records (every one of them is kept for a person to look at). */
async function rejectedCount(): Promise<number> {
  const rows = await h.database.db.query.notifications.findMany()
  return rows.filter((r) => r.outcome === 'rejected').length
}

async function expectRefused(n: { headers: Record<string, string>; body: string }, path?: string) {
  const before = await rejectedCount()
  const reply = await postNotify(h, n, path)
  expect(reply.status, reply.text).toBe(400)
  expect(await rejectedCount()).toBe(before + 1)
  const detail = await adminOrder(h, order.orderNo)
  expect(detail.status).toBe('PENDING')
  expect(detail.payments).toEqual([])
}

describe('a validly signed, malformed APIv3 notification → 400, stored for review', () => {
  it('an envelope id holding NUL', async () => {
    await expectRefused(signedNotification(h, paidTransaction(h, order), { id: 'EV-1\u0000x' }))
  })

  it('an event_type holding NUL', async () => {
    await expectRefused(
      signedNotification(h, paidTransaction(h, order), { eventType: 'TRANSACTION.SUCCESS\u0000' }),
    )
  })

  it.each([
    ['a number', 4200000001],
    ['an array', ['4200000001']],
    ['an empty string', ''],
  ])('a transaction_id that is %s', async (_what, transactionId) => {
    const resource = { ...paidTransaction(h, order), transaction_id: transactionId }
    await expectRefused(signedNotification(h, resource))
  })

  it('an amount.total that is a string', async () => {
    const resource = paidTransaction(h, order) as { amount: object }
    await expectRefused(
      signedNotification(h, {
        ...resource,
        amount: { ...resource.amount, total: String(order.totalFen) },
      }),
    )
  })

  it('a retry of a refused notification is refused alike, stored once', async () => {
    const n = signedNotification(h, { ...paidTransaction(h, order), transaction_id: 7 })
    await expectRefused(n)
    const before = await rejectedCount()
    expect((await postNotify(h, n)).status).toBe(400)
    expect(await rejectedCount()).toBe(before)
  })
})

describe('a validly signed, malformed APIv2 notification → 400, stored for review', () => {
  it('a transaction_id holding NUL', async () => {
    await expectRefused(
      signedV2Notification(h, order, { transactionId: `${newTransactionId()}\u0000` }),
      '/api/pay/notify/v2',
    )
  })
})
