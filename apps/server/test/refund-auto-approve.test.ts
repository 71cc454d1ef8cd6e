/**
 * Automatic approval of refund requests has a budget (issue #23, item 2). Under
 * REFUND_AUTO_APPROVE_MAX_FEN, a shopper's automatic approvals over a rolling 30 days may total at
 * most REFUND_AUTO_APPROVE_BUDGET_FEN and number at most REFUND_AUTO_APPROVE_MAX_COUNT — decided
 * under the shopper's row lock in the approval's own transaction, so requests made at once cannot
 * all pass; an order shipped (or completed) is not approved automatically unless
 * REFUND_AUTO_APPROVE_SHIPPED. What the budget does not allow waits for an operator (never
 * refused). Every automatic approval is logged and counted.
 */
import { refunds } from '../src/db/schema'
import { inArray } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { startHarness, type Harness } from './harness'
import {
  askRefund,
  metricValue,
  paidOrder,
  sandboxRefunds,
  shipByExpress,
} from './support/refund-requests'

const DAY = 86_400

/** What WeChat refunded of these orders, in fen. */
async function refundedAtWechat(h: Harness, orderNos: string[]): Promise<number> {
  let sum = 0
  for (const no of orderNos) for (const r of await sandboxRefunds(h, no)) sum += r.amount
  return sum
}

describe('REFUND_AUTO_APPROVE_MAX_FEN=3000, the budget at its defaults (3000 fen, 3 approvals)', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness({ env: { REFUND_AUTO_APPROVE_MAX_FEN: '3000' } })
  })
  afterAll(() => h?.close())

  it('5 requests of 3000 fen at once on 5 orders of one shopper: 1 approved automatically, 4 wait for an operator', async () => {
    const token = await h.login('o-auto-budget-race')
    const orders = []
    for (let i = 0; i < 5; i++) orders.push(await paidOrder(h, token))
    const nos = orders.map((o) => o.orderNo)
    const info = vi.spyOn(h.services.ctx.logger, 'info')

    const answers = await Promise.all(
      nos.map((no) => askRefund(h, token, no, { amountFen: 3000, reason: '少了一杯' })),
    )
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201, 201, 201])
    const statuses = answers.map((a) => a.body.status).sort()
    expect(statuses).toEqual(['approved', 'pending', 'pending', 'pending', 'pending'])
    const approved = answers.find((a) => a.body.status === 'approved')!.body
    expect(approved).toMatchObject({ automatic: true, amountFen: 3000 })
    expect(await refundedAtWechat(h, nos)).toBe(3000)
    // The waiting ones started no refund (a refund row written and rolled back leaves none).
    const rows = await h.database.db.select().from(refunds).where(inArray(refunds.orderNo, nos))
    expect(rows.map((r) => r.orderNo)).toEqual([approved.orderNo])

    // One log line for the one automatic approval: the order, the amount, the shopper; no token.
    const lines = info.mock.calls.filter(
      ([, msg]) => msg === 'refund request approved automatically',
    )
    info.mockRestore()
    expect(lines).toHaveLength(1)
    expect(lines[0]![0]).toEqual({
      refundRequestId: approved.id,
      orderNo: approved.orderNo,
      amountFen: 3000,
      userId: expect.any(Number),
    })
    expect(JSON.stringify(lines[0])).not.toContain(token)
    expect(await metricValue(h, 'fen_refund_auto_approvals_total{outcome="approved"}')).toBe(1)
    expect(await metricValue(h, 'fen_refund_auto_approvals_total{outcome="over_budget"}')).toBe(4)
    expect(await metricValue(h, 'fen_refund_auto_approved_fen_total')).toBe(3000)

    // An operator approves a waiting one as usual: not automatic, not counted.
    const waiting = answers.find((a) => a.body.status === 'pending')!.body
    const decided = await h.admin<{ status: string; automatic?: boolean }>(
      'POST',
      `/api/admin/refund-requests/${waiting.id}/approve`,
    )
    expect(decided.body).toMatchObject({ status: 'approved' })
    expect(decided.body.automatic).toBeUndefined()
    expect(await metricValue(h, 'fen_refund_auto_approvals_total{outcome="approved"}')).toBe(1)
  })

  it('the budget rolls: used up, a request waits — also 29 days later; 31 days later one is approved again', async () => {
    let token = await h.login('o-auto-budget-time')
    const orders = []
    for (let i = 0; i < 4; i++) orders.push(await paidOrder(h, token))
    const [first, second, third, fourth] = orders.map((o) => o.orderNo) as [
      string,
      string,
      string,
      string,
    ]
    expect(
      (await askRefund(h, token, first, { amountFen: 2500, reason: '少了' })).body.status,
    ).toBe('approved')
    // 500 fen left: a request of 600 waits, whatever its own size.
    expect(
      (await askRefund(h, token, second, { amountFen: 600, reason: '少了' })).body,
    ).toMatchObject({ status: 'pending', amountFen: 600 })
    h.advance(29 * DAY)
    token = await h.login('o-auto-budget-time')
    expect((await askRefund(h, token, third, { amountFen: 600, reason: '少了' })).body.status).toBe(
      'pending',
    )
    h.advance(2 * DAY)
    token = await h.login('o-auto-budget-time')
    expect(
      (await askRefund(h, token, fourth, { amountFen: 3000, reason: '少了' })).body,
    ).toMatchObject({ status: 'approved', automatic: true })
    expect(await refundedAtWechat(h, [first, second, third, fourth])).toBe(5500)
  })

  it('a shipped order waits for an operator (REFUND_AUTO_APPROVE_SHIPPED is off)', async () => {
    const token = await h.login('o-auto-budget-shipped')
    const o = await paidOrder(h, token, 'jsapi')
    await shipByExpress(h, o.orderNo)
    const before = await metricValue(h, 'fen_refund_auto_approvals_total{outcome="shipped"}')
    const res = await askRefund(h, token, o.orderNo, { amountFen: 1000, reason: '包装破损' })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({ status: 'pending', amountFen: 1000 })
    expect(await sandboxRefunds(h, o.orderNo)).toEqual([])
    expect(await metricValue(h, 'fen_refund_auto_approvals_total{outcome="shipped"}')).toBe(
      before + 1,
    )
    // Not shipped: the same shopper's next order is approved at once (the budget is untouched).
    const paid = await paidOrder(h, token)
    expect(
      (await askRefund(h, token, paid.orderNo, { amountFen: 1000, reason: '少了' })).body.status,
    ).toBe('approved')
  })
})

describe('REFUND_AUTO_APPROVE_MAX_COUNT=3 with a large budget, REFUND_AUTO_APPROVE_SHIPPED=true', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness({
      env: {
        REFUND_AUTO_APPROVE_MAX_FEN: '3000',
        REFUND_AUTO_APPROVE_BUDGET_FEN: '1000000',
        REFUND_AUTO_APPROVE_MAX_COUNT: '3',
        REFUND_AUTO_APPROVE_SHIPPED: 'true',
      },
    })
  })
  afterAll(() => h?.close())

  it('shipped orders are approved at once, three in 30 days; the fourth waits', async () => {
    const token = await h.login('o-auto-budget-count')
    const nos: string[] = []
    for (let i = 0; i < 4; i++) {
      const o = await paidOrder(h, token, 'jsapi')
      await shipByExpress(h, o.orderNo)
      nos.push(o.orderNo)
    }
    const answers = []
    for (const no of nos)
      answers.push(await askRefund(h, token, no, { amountFen: 1000, reason: '破损' }))
    expect(answers.map((a) => a.body.status)).toEqual([
      'approved',
      'approved',
      'approved',
      'pending',
    ])
    expect(await refundedAtWechat(h, nos)).toBe(3000)
    // Another shopper has a budget of their own.
    const other = await h.login('o-auto-budget-count-other')
    const theirs = await paidOrder(h, other)
    expect(
      (await askRefund(h, other, theirs.orderNo, { amountFen: 1000, reason: '破损' })).body.status,
    ).toBe('approved')
  })
})
