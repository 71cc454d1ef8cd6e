/**
 * Two operators refunding one order at the same moment: the second, while the first is still being
 * submitted to WeChat, is refused 409 REFUND_IN_PROGRESS — never handed the first one's
 * out_refund_no with its own reason dropped. A retry after a failed submission still reuses it.
 */
import type { Order, Refund } from '@fen/shared'
import { startHarness, type Harness } from '@fen/server/test/harness'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createOrder, fault, gateNextCall, prepayNative, sandboxPay, untilStatus } from './support'

let h: Harness
let token: string
const refundGate = gateNextCall('refund')

beforeAll(async () => {
  h = await startHarness({ wrapGateway: refundGate.wrap })
  token = await h.login()
})
afterAll(() => h?.close())

async function paidOrder(): Promise<Order> {
  const order = await createOrder(h, token, [{ productId: 2, quantity: 1 }])
  await sandboxPay(h, { code_url: await prepayNative(h, token, order.orderNo) })
  await untilStatus(h, order.orderNo, 'PAID')
  return order
}

const refund = (orderNo: string, amountFen: number, reason: string) =>
  h.admin<Refund & { code?: string }>('POST', `/api/admin/orders/${orderNo}/refunds`, {
    amountFen,
    reason,
  })

describe('concurrent refunds of one order', () => {
  it('the second, while the first is being submitted, is 409 REFUND_IN_PROGRESS', async () => {
    const order = await paidOrder()
    const gate = refundGate.arm()
    const first = refund(order.orderNo, 100, '客户要求退款')
    await gate.arrived // the first is now between its row and WeChat's answer
    const second = await refund(order.orderNo, 100, '商品缺货')
    gate.open()
    const done = await first

    expect(done.status).toBe(201)
    expect(done.body.reason).toBe('客户要求退款')
    expect(second.status, JSON.stringify(second.body)).toBe(409)
    expect(second.body.code).toBe('REFUND_IN_PROGRESS')
    const detail = await h.admin<{ refunds: Refund[] }>('GET', `/api/admin/orders/${order.orderNo}`)
    expect(detail.body.refunds.map((r) => r.reason)).toEqual(['客户要求退款'])
  })

  it('a retry after a failed submission reuses its out_refund_no (WeChat refunds it once)', async () => {
    const order = await paidOrder()
    await fault(h, { target: '/v3/refund', kind: 'error500', count: 3 })
    const failed = await refund(order.orderNo, 100, '重试')
    expect(failed.body.status).toBe('SUBMITTING')
    const retry = await refund(order.orderNo, 100, '重试')
    expect(retry.status).toBe(201)
    expect(retry.body.outRefundNo).toBe(failed.body.outRefundNo)
    expect(retry.body.status).toBe('PROCESSING')
  })

  it('after the first is accepted, a distinct refund gets a number of its own', async () => {
    const order = await paidOrder()
    const a = await refund(order.orderNo, 100, '一')
    const b = await refund(order.orderNo, 100, '二')
    expect([a.status, b.status]).toEqual([201, 201])
    expect(b.body.outRefundNo).not.toBe(a.body.outRefundNo)
  })
})
