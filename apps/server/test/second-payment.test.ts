/**
 * A second payment (another transaction_id) on an order already paid — the shopper charged twice —
 * is refunded automatically by that transaction_id, once, however often WeChat reports it and
 * whatever reports it at the same moment. The order itself stays as it was: still PAID, nothing
 * counted as refunded, all of its own amount still refundable by the operators.
 */
import type { AdminOrderDetail, Order, PayResponse } from '@fen/shared'
import type { Transaction } from '@fen/wechatpay'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { orderStateOf } from '../src/wechat/gateway'
import { startHarness, type Harness } from './harness'

let h: Harness
let token: string
beforeAll(async () => {
  h = await startHarness()
  token = await h.login()
})
afterAll(() => h?.close())

interface SandboxNotification {
  id: string
  status: string
}
interface SandboxOrderView {
  refunds: { out_refund_no: string; transaction_id: string; amount: { refund: number } }[]
  second_payments?: {
    transaction_id: string
    trade_state: string
    refunds: { out_refund_no: string; transaction_id: string; amount: { refund: number } }[]
  }[]
}

const detail = async (no: string) =>
  (await h.admin<AdminOrderDetail>('GET', `/api/admin/orders/${no}`)).body

async function sandboxOrder(orderNo: string): Promise<SandboxOrderView> {
  const state = await h.control<{ orders: (SandboxOrderView & { out_trade_no: string })[] }>(
    'GET',
    '/__sandbox/state',
  )
  return state.body.orders.find((o) => o.out_trade_no === orderNo)!
}

async function deliveredNotifications(orderNo: string, n: number) {
  return h.until(async () => {
    const res = await h.control<SandboxNotification[]>(
      'GET',
      `/__sandbox/notifications?out_trade_no=${orderNo}`,
    )
    const done = res.body.filter((x) => x.status === 'delivered')
    return done.length >= n && res.body
  }, 10_000)
}

/** An order paid through its notification. */
async function paidOrder(): Promise<{ order: Order; first: Transaction }> {
  const res = await h.api<Order>('POST', '/api/orders', {
    token,
    body: { items: [{ productId: 2, quantity: 1 }] },
  })
  expect(res.status).toBe(201)
  const order = res.body
  const pay = await h.api<PayResponse>('POST', `/api/orders/${order.orderNo}/pay`, {
    token,
    body: { channel: 'native' },
  })
  if (pay.body.channel !== 'native') throw new Error('expected native')
  const first = await h.control<Transaction>('POST', '/__sandbox/pay', {
    code_url: pay.body.codeUrl,
  })
  await h.until(async () => (await detail(order.orderNo)).status === 'PAID')
  return { order, first: first.body }
}

/** The shopper pays the same order once more: a second transaction at WeChat. */
async function payAgain(orderNo: string): Promise<Transaction> {
  const res = await h.control<Transaction>('POST', '/__sandbox/pay', {
    out_trade_no: orderNo,
    secondPayment: true,
  })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body
}

describe('a second payment on a paid order', () => {
  it('is refunded automatically by its transaction_id, outside the order’s refundable amount', async () => {
    const { order, first } = await paidOrder()
    const second = await payAgain(order.orderNo)
    expect(second.transaction_id).not.toBe(first.transaction_id)
    await deliveredNotifications(order.orderNo, 2)

    const d = await h.until(async () => {
      const o = await detail(order.orderNo)
      return o.refunds.length === 1 && o
    })
    // The order is untouched: still PAID by its first payment, nothing refunded of it.
    expect(d).toMatchObject({
      status: 'PAID',
      refundedFen: 0,
      transactionId: first.transaction_id,
    })
    expect(d.payments.map((p) => p.transactionId)).toEqual([
      first.transaction_id,
      second.transaction_id,
    ])
    const [refund] = d.refunds
    expect(refund).toMatchObject({
      amountFen: order.totalFen,
      automatic: true,
      paymentTransactionId: second.transaction_id,
      status: 'PROCESSING',
      outRefundNo: `${order.orderNo}-D1`,
    })
    // Why, in the notification's record.
    const applied = d.notifications.find((n) => n.detail?.includes('second payment'))
    expect(applied).toMatchObject({ outcome: 'applied' })
    expect(applied!.detail).toContain('second payment on a paid order')

    // WeChat refunds the second transaction, not the first.
    const atWechat = await sandboxOrder(order.orderNo)
    expect(atWechat.refunds).toEqual([])
    expect(atWechat.second_payments).toEqual([
      expect.objectContaining({
        transaction_id: second.transaction_id,
        trade_state: 'REFUND',
        refunds: [
          expect.objectContaining({
            out_refund_no: refund!.outRefundNo,
            transaction_id: second.transaction_id,
            amount: expect.objectContaining({ refund: order.totalFen }),
          }),
        ],
      }),
    ])

    // It settles without moving the order, and announces no order.refunded.
    await h.control('POST', `/__sandbox/refunds/${refund!.outRefundNo}`, { status: 'SUCCESS' })
    const settled = await h.until(async () => {
      const o = await detail(order.orderNo)
      return o.refunds[0]?.status === 'SUCCESS' && o
    })
    expect(settled).toMatchObject({ status: 'PAID', refundedFen: 0 })
    await h.dispatch()
    expect(h.delivered.filter((e) => e.orderNo === order.orderNo).map((e) => e.type)).toEqual([
      'order.paid',
    ])

    // The operators can still refund the whole order itself.
    const manual = await h.admin<{ amountFen: number }>(
      'POST',
      `/api/admin/orders/${order.orderNo}/refunds`,
      { amountFen: order.totalFen, reason: '顾客退货' },
    )
    expect(manual.status, JSON.stringify(manual.body)).toBe(201)
    expect(manual.body.amountFen).toBe(order.totalFen)
    const after = await detail(order.orderNo)
    expect(after.refunds.map((r) => r.paymentTransactionId ?? null)).toEqual([
      second.transaction_id,
      null,
    ])
  })

  it('repeated notifications and a query racing them refund it exactly once', async () => {
    const { order } = await paidOrder()
    // WeChat delivers the second payment's notification twice at once.
    const armed = await h.control('POST', '/__sandbox/faults', {
      target: 'notifications',
      kind: 'duplicate',
    })
    expect(armed.status).toBe(200)
    const second = await payAgain(order.orderNo)
    const notes = await deliveredNotifications(order.orderNo, 2)
    // In the order they were sent: the second payment's is the last.
    const last = notes.at(-1)!

    // Then: resent twice and reported by a query (as a sweeper would), all at the same moment.
    const report = { orderNo: order.orderNo, ...orderStateOf(second), source: 'query' as const }
    const outcomes = await Promise.all([
      h.control('POST', `/__sandbox/notifications/${last.id}/resend`),
      h.control('POST', `/__sandbox/notifications/${last.id}/resend`),
      h.services.payments.applyPayment(report),
      h.services.payments.applyPayment(report),
    ])
    expect(outcomes.slice(2)).toEqual(['duplicate', 'duplicate'])

    const d = await h.until(async () => {
      const o = await detail(order.orderNo)
      return o.refunds.length > 0 && o
    })
    expect(d.refunds).toHaveLength(1)
    expect(d.refunds[0]).toMatchObject({ paymentTransactionId: second.transaction_id })
    expect(d.status).toBe('PAID')
    const atWechat = await sandboxOrder(order.orderNo)
    expect(atWechat.second_payments![0]!.refunds).toHaveLength(1)
    // Every report but the first is recorded as a duplicate.
    const secondNotes = d.notifications.filter((n) => n.eventType === 'TRANSACTION.SUCCESS')
    expect(secondNotes.filter((n) => n.outcome === 'applied')).toHaveLength(2)
    expect(d.payments).toHaveLength(2)
  })
})
