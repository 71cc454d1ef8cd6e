/**
 * Validly signed notifications that name the wrong thing change nothing: a refund notification of
 * another merchant, or naming another order than the refund's, settles no refund; an APIv2
 * notification (no timestamp, the older key) pays no order prepaid through APIv3.
 */
import type { Order } from '@fen/shared'
import { startHarness, type Harness } from '@fen/server/test/harness'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  adminOrder,
  createOrder,
  newTransactionId,
  postNotify,
  prepayNative,
  sandboxPay,
  signedNotification,
  signedV2Notification,
  untilStatus,
} from './support'

let h: Harness
let token: string
beforeAll(async () => {
  h = await startHarness()
  token = await h.login()
})
afterAll(() => h?.close())

async function paidOrder(): Promise<Order> {
  const order = await createOrder(h, token, [{ productId: 2, quantity: 1 }])
  const codeUrl = await prepayNative(h, token, order.orderNo)
  await sandboxPay(h, { code_url: codeUrl })
  await untilStatus(h, order.orderNo, 'PAID')
  return order
}

const refundNotification = (resource: object) =>
  signedNotification(h, resource, { eventType: 'REFUND.SUCCESS' })

describe('REFUND.SUCCESS is checked against the refund it names', () => {
  let order: Order
  let other: Order
  let outRefundNo: string
  beforeAll(async () => {
    ;[order, other] = [await paidOrder(), await paidOrder()]
    const res = await h.admin<{ outRefundNo: string; status: string }>(
      'POST',
      `/api/admin/orders/${order.orderNo}/refunds`,
      { amountFen: order.totalFen, reason: 'test' },
    )
    expect(res.status, JSON.stringify(res.body)).toBe(201)
    expect(res.body.status).toBe('PROCESSING') // the sandbox here never settles refunds itself
    outRefundNo = res.body.outRefundNo
  })

  const resource = (overrides: object) => ({
    mchid: h.sandbox.sandbox.keys.mchid,
    transaction_id: newTransactionId(),
    out_trade_no: order.orderNo,
    refund_id: '50300000000000000000000000001',
    out_refund_no: outRefundNo,
    refund_status: 'SUCCESS',
    success_time: new Date().toISOString().replace(/\.\d{3}Z$/, '+00:00'),
    user_received_account: '支付用户零钱',
    amount: {
      total: order.totalFen,
      refund: order.totalFen,
      payer_total: order.totalFen,
      payer_refund: order.totalFen,
    },
    ...overrides,
  })

  it.each([
    ['another merchant', () => ({ mchid: '1999999999' })],
    ['another order of ours', () => ({ out_trade_no: other.orderNo })],
    [
      'another order total',
      () => ({
        amount: {
          total: order.totalFen + 1,
          refund: order.totalFen,
          payer_total: 0,
          payer_refund: 0,
        },
      }),
    ],
  ])('one of %s settles nothing, and is stored as rejected', async (_what, overrides) => {
    const reply = await postNotify(h, refundNotification(resource(overrides())))
    expect(reply.status).toBeLessThan(300) // answered, so WeChat stops; kept for review
    const detail = await adminOrder(h, order.orderNo)
    expect(detail.refunds.map((r) => r.status)).toEqual(['PROCESSING'])
    expect(detail.status).toBe('REFUNDING')
    expect(detail.notifications.filter((n) => n.outcome === 'rejected').length).toBeGreaterThan(0)
  })

  it('the right one settles it', async () => {
    expect((await postNotify(h, refundNotification(resource({})))).status).toBeLessThan(300)
    const detail = await adminOrder(h, order.orderNo)
    expect(detail.refunds.map((r) => r.status)).toEqual(['SUCCESS'])
    expect(detail.status).toBe('REFUNDED')
  })
})

describe('APIv2 notifications on an APIv3 server', () => {
  it('a v2-signed notification does not pay an order prepaid through APIv3', async () => {
    const order = await createOrder(h, token, [{ productId: 2, quantity: 1 }])
    await prepayNative(h, token, order.orderNo)
    await postNotify(h, signedV2Notification(h, order), '/api/pay/notify/v2')
    const detail = await adminOrder(h, order.orderNo)
    expect(detail.status).toBe('PENDING')
    expect(detail.payments).toEqual([])
    expect(detail.notifications.map((n) => n.outcome)).toEqual(['rejected'])
  })
})
