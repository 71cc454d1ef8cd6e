import type { AdminOrderDetail, Order, Refund } from '@fen/shared'
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
  untilStatus,
  WAIT_MS,
} from './support'

let h: Harness
let token: string
beforeAll(async () => {
  h = await startHarness()
  token = await h.login()
})
afterAll(() => h?.close())

/** An order paid through Native, PAID here with its order.paid written. */
async function paidOrder(items: { productId: number; quantity: number }[]): Promise<Order> {
  const order = await createOrder(h, token, items)
  await sandboxPay(h, { code_url: await prepayNative(h, token, order.orderNo) })
  await untilStatus(h, order.orderNo, 'PAID')
  return order
}

async function refund(
  orderNo: string,
  amountFen: number,
  headers?: Record<string, string>,
): Promise<{ status: number; body: Refund & { code?: string } }> {
  return h.admin<Refund & { code?: string }>(
    'POST',
    `/api/admin/orders/${orderNo}/refunds`,
    { amountFen, reason: '售后退款' },
    headers,
  )
}

/** WeChat settles a refund (and notifies, unless a fault drops it). */
async function settle(outRefundNo: string, status: 'SUCCESS' | 'CLOSED' | 'ABNORMAL') {
  const res = await h.control('POST', `/__sandbox/refunds/${outRefundNo}`, { status })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
}

/** Polls the admin detail until the refund has `status`. */
function untilRefund(orderNo: string, outRefundNo: string, status: string) {
  return h.until(async () => {
    const o = await adminOrder(h, orderNo)
    return o.refunds.find((r) => r.outRefundNo === outRefundNo)?.status === status && o
  }, WAIT_MS)
}

function refundedEvents(orderNo: string) {
  return h.delivered.filter((e) => e.orderNo === orderNo && e.type === 'order.refunded')
}

describe('refunds', () => {
  it('a third, another third, then the rest: PARTIALLY_REFUNDED twice, then REFUNDED', async () => {
    const order = await paidOrder([{ productId: 3, quantity: 3 }])
    const third = order.totalFen / 3
    expect(third).toBe(3900)

    const r1 = await refund(order.orderNo, third)
    expect(r1.status).toBe(201)
    expect(r1.body).toMatchObject({
      outRefundNo: `${order.orderNo}-R1`,
      amountFen: third,
      status: 'PROCESSING',
      automatic: false,
      reason: '售后退款',
    })
    expect(r1.body.refundId).toBeDefined()
    expect((await adminOrder(h, order.orderNo)).status).toBe('REFUNDING')

    await settle(r1.body.outRefundNo, 'SUCCESS')
    let detail = await untilStatus(h, order.orderNo, 'PARTIALLY_REFUNDED')
    expect(detail.refundedFen).toBe(third)
    expect(detail.refunds[0]).toMatchObject({ status: 'SUCCESS' })
    expect(detail.refunds[0]!.settledAt).toBeDefined()
    expect(await deliveredTypes(h, order.orderNo)).toEqual(['order.paid', 'order.refunded'])

    // The second third, sent twice with one Idempotency-Key: one refund.
    const key = { 'Idempotency-Key': `refund-2-${order.orderNo}` }
    const r2 = await refund(order.orderNo, third, key)
    expect(r2.status).toBe(201)
    expect(r2.body.outRefundNo).toBe(`${order.orderNo}-R2`)
    const r2again = await refund(order.orderNo, third, key)
    expect(r2again.status).toBe(201)
    expect(r2again.body.outRefundNo).toBe(r2.body.outRefundNo)
    expect((await sandboxOrder(h, order.orderNo))?.refunds).toHaveLength(2)
    expect((await adminOrder(h, order.orderNo)).status).toBe('REFUNDING')
    await settle(r2.body.outRefundNo, 'SUCCESS')
    detail = await h.until(async () => {
      const o = await adminOrder(h, order.orderNo)
      return o.refundedFen === 2 * third && o
    }, WAIT_MS)
    expect(detail.status).toBe('PARTIALLY_REFUNDED')

    // More than what is left is refused, and changes nothing.
    const tooMuch = await refund(order.orderNo, third + 1)
    expect(tooMuch.status).toBe(409)
    expect(tooMuch.body.code).toBe('REFUND_NOT_ALLOWED')
    expect((await adminOrder(h, order.orderNo)).refunds).toHaveLength(2)

    const r3 = await refund(order.orderNo, order.totalFen - 2 * third)
    expect(r3.status).toBe(201)
    expect(r3.body.outRefundNo).toBe(`${order.orderNo}-R3`)
    await settle(r3.body.outRefundNo, 'SUCCESS')
    detail = await untilStatus(h, order.orderNo, 'REFUNDED')
    expect(detail.refundedFen).toBe(order.totalFen)
    expect(detail.refunds.map((r) => r.status)).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS'])

    const none = await refund(order.orderNo, 1)
    expect(none.status).toBe(409)
    expect(none.body.code).toBe('REFUND_NOT_ALLOWED')

    // One order.refunded per settled refund, each with its own refund.
    expect(await deliveredTypes(h, order.orderNo)).toEqual([
      'order.paid',
      'order.refunded',
      'order.refunded',
      'order.refunded',
    ])
    expect(refundedEvents(order.orderNo).map((e) => e.payload)).toEqual(
      [r1, r2, r3].map((r) =>
        expect.objectContaining({
          outRefundNo: r.body.outRefundNo,
          amountFen: third,
          automatic: false,
        }),
      ),
    )
    const mine = await h.api<Order>('GET', `/api/orders/${order.orderNo}`, { token })
    expect(mine.body).toMatchObject({ status: 'REFUNDED', refundedFen: order.totalFen })
  })

  it('a refund WeChat CLOSES gives its amount back, to be refunded again', async () => {
    const order = await paidOrder([{ productId: 4, quantity: 1 }])
    const r1 = await refund(order.orderNo, order.totalFen)
    expect(r1.status).toBe(201)
    // While it is open, nothing more can be refunded.
    expect((await refund(order.orderNo, 1)).status).toBe(409)

    await settle(r1.body.outRefundNo, 'CLOSED')
    const detail = await untilRefund(order.orderNo, r1.body.outRefundNo, 'CLOSED')
    expect(detail.status).toBe('PAID')
    expect(detail.refundedFen).toBe(0)
    expect(await deliveredTypes(h, order.orderNo)).toEqual(['order.paid'])

    const r2 = await refund(order.orderNo, order.totalFen)
    expect(r2.status).toBe(201)
    expect(r2.body.outRefundNo).toBe(`${order.orderNo}-R2`)
    expect(r2.body.status).toBe('PROCESSING')
    await settle(r2.body.outRefundNo, 'SUCCESS')
    const refunded = await untilStatus(h, order.orderNo, 'REFUNDED')
    expect(refunded.refundedFen).toBe(order.totalFen)
    expect(refunded.refunds.map((r) => r.status)).toEqual(['CLOSED', 'SUCCESS'])
    expect(await deliveredTypes(h, order.orderNo)).toEqual(['order.paid', 'order.refunded'])
    expect(refundedEvents(order.orderNo)[0]!.payload).toMatchObject({
      outRefundNo: r2.body.outRefundNo,
    })
  })

  it('an ABNORMAL refund keeps the order REFUNDING until WeChat settles it', async () => {
    const order = await paidOrder([{ productId: 1, quantity: 1 }])
    const half = Math.floor(order.totalFen / 2)
    const r1 = await refund(order.orderNo, half)
    await settle(r1.body.outRefundNo, 'ABNORMAL')
    const detail = await untilRefund(order.orderNo, r1.body.outRefundNo, 'ABNORMAL')
    expect(detail.status).toBe('REFUNDING')
    expect(detail.refundedFen).toBe(0)
    expect(detail.notifications.map((n) => [n.eventType, n.outcome])).toContainEqual([
      'REFUND.ABNORMAL',
      'applied',
    ])
    // The abnormal amount is still held: only the other half can be refunded.
    expect((await refund(order.orderNo, order.totalFen - half + 1)).status).toBe(409)
    expect(await deliveredTypes(h, order.orderNo)).toEqual(['order.paid'])

    // Handled in 商户平台, WeChat then reports it refunded.
    await settle(r1.body.outRefundNo, 'SUCCESS')
    const settled = await untilStatus(h, order.orderNo, 'PARTIALLY_REFUNDED')
    expect(settled.refundedFen).toBe(half)
    expect(await deliveredTypes(h, order.orderNo)).toEqual(['order.paid', 'order.refunded'])
  })

  it('a refund whose notification is lost is settled by the sweeper, which queries it', async () => {
    const order = await paidOrder([{ productId: 2, quantity: 1 }])
    const r1 = await refund(order.orderNo, order.totalFen)
    expect(r1.body.status).toBe('PROCESSING')

    await fault(h, { target: 'notifications', kind: 'drop' })
    await settle(r1.body.outRefundNo, 'SUCCESS')
    const refundNotes = (await sandboxNotifications(h, order.orderNo)).filter(
      (n) => n.out_refund_no === r1.body.outRefundNo,
    )
    expect(refundNotes.map((n) => [n.event_type, n.status])).toEqual([
      ['REFUND.SUCCESS', 'dropped'],
    ])
    expect((await adminOrder(h, order.orderNo)).status).toBe('REFUNDING')

    // A refund younger than a minute is not queried yet.
    expect(await h.sweep()).toEqual({ orders: 0, refunds: 0, errors: 0 })
    expect((await adminOrder(h, order.orderNo)).status).toBe('REFUNDING')

    h.advance(120)
    expect(await h.sweep()).toEqual({ orders: 0, refunds: 1, errors: 0 })
    const detail = await adminOrder(h, order.orderNo)
    expect(detail.status).toBe('REFUNDED')
    expect(detail.refundedFen).toBe(order.totalFen)
    expect(detail.refunds).toEqual([
      expect.objectContaining({ outRefundNo: r1.body.outRefundNo, status: 'SUCCESS' }),
    ])
    expect(await deliveredTypes(h, order.orderNo)).toEqual(['order.paid', 'order.refunded'])
    expect(await h.sweep()).toEqual({ orders: 0, refunds: 0, errors: 0 })
  })

  it('a refund submitted while WeChat answers 500 stays SUBMITTING; the sweeper resubmits it once', async () => {
    const order = await paidOrder([{ productId: 5, quantity: 9 }])
    // Three 500s: the first try and the SDK's two retries.
    await fault(h, { target: '/v3/refund', kind: 'error500', count: 3 })
    const r1 = await refund(order.orderNo, order.totalFen)
    expect(r1.status).toBe(201)
    expect(r1.body).toMatchObject({ outRefundNo: `${order.orderNo}-R1`, status: 'SUBMITTING' })
    expect(r1.body.refundId).toBeUndefined()
    expect((await h.control<unknown[]>('GET', '/__sandbox/faults')).body).toEqual([])
    expect((await sandboxOrder(h, order.orderNo))?.refunds).toEqual([])
    let detail: AdminOrderDetail = await adminOrder(h, order.orderNo)
    expect(detail.status).toBe('REFUNDING')

    // A fresh refund is left to the request that made it; after a minute the sweeper takes over.
    expect(await h.sweep()).toEqual({ orders: 0, refunds: 0, errors: 0 })
    h.advance(61)
    expect(await h.sweep()).toEqual({ orders: 0, refunds: 1, errors: 0 })
    detail = await adminOrder(h, order.orderNo)
    expect(detail.refunds).toEqual([
      expect.objectContaining({ outRefundNo: r1.body.outRefundNo, status: 'PROCESSING' }),
    ])
    // WeChat holds exactly one refund, under our number.
    const atWechat = await sandboxOrder(h, order.orderNo)
    expect(atWechat?.refunds).toEqual([
      expect.objectContaining({
        out_refund_no: r1.body.outRefundNo,
        amount: expect.objectContaining({ refund: order.totalFen }),
      }),
    ])

    await settle(r1.body.outRefundNo, 'SUCCESS')
    detail = await untilStatus(h, order.orderNo, 'REFUNDED')
    expect(detail.refunds).toHaveLength(1)
    expect(detail.refundedFen).toBe(order.totalFen)
    expect(await deliveredTypes(h, order.orderNo)).toEqual(['order.paid', 'order.refunded'])
    expect(await h.sweep()).toEqual({ orders: 0, refunds: 0, errors: 0 })
    expect((await sandboxOrder(h, order.orderNo))?.refunds).toHaveLength(1)
  })
})
