/**
 * What the notification record says: `applied` only for the notification that changed the order;
 * one that arrives after a query already paid it is a `duplicate`.
 */
import { startHarness, type Harness } from '@fen/server/test/harness'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  adminOrder,
  createOrder,
  paidTransaction,
  postNotify,
  prepayNative,
  signedNotification,
} from './support'

let h: Harness
beforeAll(async () => {
  h = await startHarness()
})
afterAll(() => h?.close())

describe('a notification after a query paid the order', () => {
  it('is recorded as duplicate, and changes nothing', async () => {
    const token = await h.login()
    const order = await createOrder(h, token, [{ productId: 2, quantity: 1 }])
    await prepayNative(h, token, order.orderNo)
    const transaction = paidTransaction(h, order) as { transaction_id: string }
    const keys = h.sandbox.sandbox.keys
    // The query (GET sync, the sweeper) saw the payment first.
    await h.services.payments.applyPayment({
      orderNo: order.orderNo,
      state: 'SUCCESS',
      transactionId: transaction.transaction_id,
      appid: keys.appid,
      mchid: keys.mchid,
      totalFen: order.totalFen,
      payerOpenid: 'o-forged-payer',
      successTime: new Date(),
      source: 'query',
    })
    expect((await adminOrder(h, order.orderNo)).status).toBe('PAID')

    const reply = await postNotify(h, signedNotification(h, transaction))
    expect(reply.status).toBeLessThan(300)
    const detail = await adminOrder(h, order.orderNo)
    expect(detail.notifications.map((n) => n.outcome)).toEqual(['duplicate'])
    expect(detail.payments).toHaveLength(1)
    expect(detail.events.filter((e) => e.type === 'order.paid')).toHaveLength(1)
  })
})
