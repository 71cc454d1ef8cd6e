import type { Order } from '@fen/shared'
import { startHarness, type Harness } from '@fen/server/test/harness'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  adminOrder,
  createOrder,
  deliveredTypes,
  prepayJsapi,
  sandboxOrder,
  sandboxPay,
  stockOf,
  untilNotificationsDelivered,
  untilStatus,
  WAIT_MS,
} from './support'

let h: Harness
beforeAll(async () => {
  h = await startHarness()
})
afterAll(() => h?.close())

describe('a payment that lands after the order was closed', () => {
  it('is recorded and refunded in full automatically: REFUNDING → REFUNDED, never order.paid', async () => {
    const token = await h.login()
    const stock = await stockOf(h, 1)
    const order = await createOrder(h, token, [{ productId: 1, quantity: 2 }])
    await prepayJsapi(h, token, order.orderNo)

    const cancelled = await h.api<Order>('POST', `/api/orders/${order.orderNo}/cancel`, { token })
    expect(cancelled.body.status).toBe('CLOSED')
    expect((await sandboxOrder(h, order.orderNo))?.trade_state).toBe('CLOSED')
    expect(await stockOf(h, 1)).toBe(stock)

    // The shopper had confirmed the payment just before the close; it completes after it.
    const tx = await sandboxPay(h, { out_trade_no: order.orderNo, afterClose: true })
    expect(tx.trade_state).toBe('SUCCESS')
    await untilNotificationsDelivered(h, order.orderNo)

    const refunding = await untilStatus(h, order.orderNo, 'REFUNDING')
    expect(refunding.transactionId).toBe(tx.transaction_id)
    expect(refunding.payments).toEqual([
      expect.objectContaining({
        transactionId: tx.transaction_id,
        amountFen: order.totalFen,
        source: 'notify',
      }),
    ])
    expect(refunding.refunds).toHaveLength(1)
    const refund = refunding.refunds[0]!
    expect(refund).toMatchObject({
      amountFen: order.totalFen,
      automatic: true,
      status: 'PROCESSING',
    })
    expect(refund.reason.length).toBeGreaterThan(0)
    expect(refund.refundId).toBeDefined()
    // WeChat has the refund, for the whole amount.
    const atWechat = await sandboxOrder(h, order.orderNo)
    expect(atWechat?.refunds).toEqual([
      expect.objectContaining({
        out_refund_no: refund.outRefundNo,
        status: 'PROCESSING',
        amount: expect.objectContaining({ refund: order.totalFen }),
      }),
    ])
    // The stock stays released: the order is not revived.
    expect(await stockOf(h, 1)).toBe(stock)
    expect(await deliveredTypes(h, order.orderNo)).toEqual(['order.closed'])

    const settled = await h.control('POST', `/__sandbox/refunds/${refund.outRefundNo}`, {
      status: 'SUCCESS',
    })
    expect(settled.status).toBe(200)
    await untilNotificationsDelivered(h, order.orderNo, 2)

    const refunded = await untilStatus(h, order.orderNo, 'REFUNDED')
    expect(refunded.refundedFen).toBe(order.totalFen)
    expect(refunded.refunds).toEqual([
      expect.objectContaining({ outRefundNo: refund.outRefundNo, status: 'SUCCESS' }),
    ])
    expect(refunded.refunds[0]!.settledAt).toBeDefined()
    expect(refunded.notifications.map((n) => [n.eventType, n.outcome])).toEqual([
      ['TRANSACTION.SUCCESS', 'applied'],
      ['REFUND.SUCCESS', 'applied'],
    ])

    expect(await deliveredTypes(h, order.orderNo)).toEqual(['order.closed', 'order.refunded'])
    const event = h.delivered.find((e) => e.type === 'order.refunded')!
    expect(event.payload).toMatchObject({
      orderNo: order.orderNo,
      outRefundNo: refund.outRefundNo,
      amountFen: order.totalFen,
      automatic: true,
    })
    expect(refunded.events.map((e) => e.type)).toEqual(['order.closed', 'order.refunded'])

    // The shopper sees the refund; the order cannot be paid or cancelled again.
    const mine = await h.api<Order>('GET', `/api/orders/${order.orderNo}`, { token })
    expect(mine.body).toMatchObject({ status: 'REFUNDED', refundedFen: order.totalFen })
    const pay = await h.api<{ code: string }>('POST', `/api/orders/${order.orderNo}/pay`, {
      token,
      body: { channel: 'jsapi' },
    })
    expect(pay.status).toBe(409)
  })

  it('the same late notification again, or a sync, refunds nothing twice', async () => {
    const token = await h.login()
    const order = await createOrder(h, token, [{ productId: 3, quantity: 1 }])
    await prepayJsapi(h, token, order.orderNo)
    await h.api('POST', `/api/orders/${order.orderNo}/cancel`, { token })
    await sandboxPay(h, { out_trade_no: order.orderNo, afterClose: true })
    const [n] = await untilNotificationsDelivered(h, order.orderNo)
    const refunding = await untilStatus(h, order.orderNo, 'REFUNDING')
    expect(refunding.refunds).toHaveLength(1)

    const resent = await h.control('POST', `/__sandbox/notifications/${n!.id}/resend`)
    expect(resent.status).toBe(200)
    const synced = await h.admin<{ status: string; refunds: unknown[] }>(
      'POST',
      `/api/admin/orders/${order.orderNo}/sync`,
    )
    expect(synced.status).toBe(200)
    expect(synced.body.status).toBe('REFUNDING')
    expect(synced.body.refunds).toHaveLength(1)
    expect((await sandboxOrder(h, order.orderNo))?.refunds).toHaveLength(1)
    expect(await deliveredTypes(h, order.orderNo)).toEqual(['order.closed'])

    const no = refunding.refunds[0]!.outRefundNo
    await h.control('POST', `/__sandbox/refunds/${no}`, { status: 'SUCCESS' })
    await untilStatus(h, order.orderNo, 'REFUNDED')
    expect(await deliveredTypes(h, order.orderNo)).toEqual(['order.closed', 'order.refunded'])
  })
  it('an automatic refund WeChat closes leaves the order owing the refund, never PAID', async () => {
    const token = await h.login()
    const order = await createOrder(h, token, [{ productId: 4, quantity: 1 }])
    await prepayJsapi(h, token, order.orderNo)
    await h.api('POST', `/api/orders/${order.orderNo}/cancel`, { token })
    await sandboxPay(h, { out_trade_no: order.orderNo, afterClose: true })
    const refunding = await untilStatus(h, order.orderNo, 'REFUNDING')
    const auto = refunding.refunds[0]!

    // WeChat could not refund it (e.g. the payer's account is gone): the money is still held.
    await h.control('POST', `/__sandbox/refunds/${auto.outRefundNo}`, { status: 'CLOSED' })
    await untilNotificationsDelivered(h, order.orderNo, 2)
    const detail = await h.until(async () => {
      const o = await adminOrder(h, order.orderNo)
      return o.refunds[0]?.status === 'CLOSED' && o
    }, WAIT_MS)
    // Never fulfilled, stock released, no order.paid: it must not look like a paid order.
    expect(await deliveredTypes(h, order.orderNo)).toEqual(['order.closed'])
    expect(detail.refundedFen).toBe(0)
    expect(detail.status).not.toBe('PAID')
    // The operator can still refund it in full by hand.
    const manual = await h.admin<{ status: string }>(
      'POST',
      `/api/admin/orders/${order.orderNo}/refunds`,
      { amountFen: order.totalFen, reason: '订单已关闭，人工退款' },
    )
    expect(manual.status).toBe(201)
  })
})
