/**
 * Issue #23, item 2: automatic refund approval has a budget.
 *
 * The review, with REFUND_AUTO_APPROVE_MAX_FEN=3000: one shopper with 5 orders of 5,900 fen
 * (shipped, one of them completed) asked for 3,000 on each, all at once, and got 15,000 fen back
 * with no operator. This suite replays that attack against the whole server and WeChat (the
 * sandbox): at the default settings nothing of a shipped order is approved automatically; with
 * REFUND_AUTO_APPROVE_SHIPPED=true the shopper's 30-day budget (REFUND_AUTO_APPROVE_BUDGET_FEN,
 * by default the per-request 3,000) holds however the requests interleave. Everything beyond waits
 * for an operator: every request is answered 201, none is refused.
 */
import type { ErrorBody, Order, RefundRequestView } from '@fen/shared'
import { startHarness, type Harness } from '@fen/server/test/harness'
import { afterEach, describe, expect, it } from 'vitest'
import { createOrder, prepayJsapi, sandboxOrder, untilStatus } from '../api/support'
import { expectAlive, shopper } from './support'

const ORDERS = 5
const ASKED_FEN = 3000

let h: Harness | undefined
afterEach(async () => {
  if (h) await expectAlive(h)
  await h?.close()
  h = undefined
})

/** An order of product 1 (5,900 fen) paid as the mini-program pays, then shipped by express. */
async function shippedOrder(on: Harness, token: string): Promise<Order> {
  const order = await createOrder(on, token, [{ productId: 1, quantity: 1 }])
  const params = await prepayJsapi(on, token, order.orderNo)
  const paid = await on.control<{ errMsg: string }>('POST', '/__sandbox/request-payment', params)
  expect(paid.body.errMsg).toBe('requestPayment:ok')
  await untilStatus(on, order.orderNo, 'PAID')
  const shipped = await on.admin('POST', `/api/admin/orders/${order.orderNo}/ship`, {
    logisticsType: 'express',
    expressCompany: 'YTO',
    trackingNo: `YT${order.orderNo.slice(-12)}`,
  })
  expect(shipped.status, JSON.stringify(shipped.body)).toBe(200)
  return order
}

/**
 * The review's attack: 5 shipped orders of one shopper, the first completed (WeChat says 确认收货,
 * the shopper confirms), then a request of 3,000 on each, all at once. Returns the answers and what
 * WeChat refunded.
 */
async function attack(on: Harness): Promise<{
  answers: { status: number; body: RefundRequestView & ErrorBody }[]
  refundedFen: number
}> {
  const { token } = await shopper(on)
  const orders: Order[] = []
  for (let i = 0; i < ORDERS; i++) orders.push(await shippedOrder(on, token))
  const first = orders[0]!.orderNo
  await on.control('POST', '/__sandbox/confirm-receipt', { out_trade_no: first })
  const completed = await on.api<Order>('POST', `/api/orders/${first}/confirm-receipt`, { token })
  expect(completed.body.status).toBe('COMPLETED')

  const answers = await Promise.all(
    orders.map((o) =>
      on.api<RefundRequestView & ErrorBody>('POST', `/api/orders/${o.orderNo}/refund-requests`, {
        token,
        body: { amountFen: ASKED_FEN, reason: '商品有问题' },
      }),
    ),
  )
  let refundedFen = 0
  for (const o of orders)
    for (const r of (await sandboxOrder(on, o.orderNo))?.refunds ?? [])
      refundedFen += r.amount.refund
  return { answers, refundedFen }
}

function tally(answers: { body: RefundRequestView }[]) {
  const approved = answers.filter((a) => a.body.status === 'approved')
  return {
    approved: approved.length,
    pending: answers.filter((a) => a.body.status === 'pending').length,
    approvedFen: approved.reduce((s, a) => s + a.body.amountFen, 0),
  }
}

describe('automatic refund approval: 5 shipped orders of one shopper, 3,000 fen asked on each at once', () => {
  it('at the defaults: nothing of a shipped order is approved automatically; all 5 wait for an operator', async () => {
    h = await startHarness({ env: { REFUND_AUTO_APPROVE_MAX_FEN: String(ASKED_FEN) } })
    const { answers, refundedFen } = await attack(h)
    expect(answers.map((a) => a.status)).toEqual(Array(ORDERS).fill(201))
    expect(tally(answers)).toEqual({ approved: 0, pending: ORDERS, approvedFen: 0 })
    expect(refundedFen).toBe(0)
    console.log(
      `refund budget (defaults): ${ORDERS} requests at once → 0 approved automatically, ${ORDERS} pending, 0 fen refunded`,
    )
  })

  it('with REFUND_AUTO_APPROVE_SHIPPED=true: what is approved stays within the 30-day budget (3,000 fen)', async () => {
    h = await startHarness({
      env: {
        REFUND_AUTO_APPROVE_MAX_FEN: String(ASKED_FEN),
        REFUND_AUTO_APPROVE_SHIPPED: 'true',
      },
    })
    const { answers, refundedFen } = await attack(h)
    // REFUND_AUTO_APPROVE_BUDGET_FEN unset: the per-request most.
    const budget = ASKED_FEN
    expect(answers.map((a) => a.status)).toEqual(Array(ORDERS).fill(201))
    const t = tally(answers)
    expect(t.approvedFen).toBeLessThanOrEqual(budget)
    expect(t).toEqual({ approved: 1, pending: ORDERS - 1, approvedFen: ASKED_FEN })
    expect(refundedFen).toBe(t.approvedFen)
    console.log(
      `refund budget (after shipping allowed): ${ORDERS} requests at once → ${t.approved} approved automatically (${t.approvedFen} fen, budget ${budget}), ${t.pending} pending, ${refundedFen} fen refunded`,
    )
  })
})
