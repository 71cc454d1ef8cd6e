import { describe, expect, it } from 'vitest'
import {
  FenEvent,
  ORDER_STATUSES,
  ORDER_STATUS_FLOW,
  ORDER_TRANSITIONS,
  OUTBOX_EVENT_TYPES,
  canTransition,
  checkRefundAmount,
  formatSpec,
  fulfilmentStage,
  operatorActions,
  parseYuan,
  receiptBy,
  refundableFen,
  shopperActions,
  type OrderFacts,
} from '../src/index'

const paid: OrderFacts = {
  status: 'PAID',
  totalFen: 14_500,
  channel: 'jsapi',
  deliveryMethod: 'express',
  shipped: false,
  received: false,
  paidAfterClose: false,
  refunds: [],
  refundRequestPending: false,
}

describe('the order lifecycle rules', () => {
  it('a partly refunded order can still be shipped, then received', () => {
    const partly: OrderFacts = {
      ...paid,
      status: 'PARTIALLY_REFUNDED',
      refunds: [{ amountFen: 2_800, status: 'SUCCESS' }],
    }
    expect(refundableFen(partly.totalFen, partly.refunds)).toBe(11_700)
    expect(operatorActions(partly)).toEqual(['ship', 'refund'])
    expect(fulfilmentStage(partly)).toBe('to_ship')
    const shipped = { ...partly, shipped: true }
    expect(operatorActions(shipped)).toEqual(['refund'])
    expect(shopperActions(shipped)).toEqual(['confirm_receipt', 'request_refund'])
    expect(fulfilmentStage(shipped)).toBe('shipped')
    expect(fulfilmentStage({ ...shipped, received: true })).toBe('received')
  })

  it('while a partial refund is under way the rest still ships; a full one stops shipping', () => {
    const open: OrderFacts = {
      ...paid,
      status: 'REFUNDING',
      refunds: [{ amountFen: 1_000, status: 'PROCESSING' }],
    }
    expect(operatorActions(open)).toEqual(['ship', 'refund'])
    // The shopper may not ask for another while one is under way.
    expect(shopperActions(open)).toEqual([])
    const whole = { ...open, refunds: [{ amountFen: 14_500, status: 'PROCESSING' as const }] }
    expect(operatorActions(whole)).toEqual([])
    expect(fulfilmentStage(whole)).toBe('none')
    const refunded: OrderFacts = {
      ...paid,
      status: 'REFUNDED',
      refunds: [{ amountFen: 14_500, status: 'SUCCESS' }],
    }
    expect(operatorActions(refunded)).toEqual([])
    expect(fulfilmentStage(refunded)).toBe('none')
  })

  it("a second payment's refund and failed refunds leave the order's refundable amount alone", () => {
    expect(
      refundableFen(100, [
        { amountFen: 100, status: 'SUCCESS', paymentTransactionId: '4200' },
        { amountFen: 30, status: 'FAILED' },
        { amountFen: 20, status: 'CLOSED' },
        { amountFen: 10, status: 'ABNORMAL' },
      ]),
    ).toBe(90)
    expect(refundableFen(100, [{ amountFen: 150, status: 'SUCCESS' }])).toBe(0)
  })

  it('an order paid after it closed is refunded in full, never shipped nor asked about', () => {
    const late: OrderFacts = {
      ...paid,
      status: 'REFUNDING',
      paidAfterClose: true,
      refunds: [{ amountFen: 14_500, status: 'SUBMITTING' }],
    }
    expect(operatorActions(late)).toEqual([])
    expect(shopperActions(late)).toEqual([])
    expect(fulfilmentStage(late)).toBe('none')
  })

  it('pending orders may be paid and cancelled, and nothing else', () => {
    const pending: OrderFacts = { ...paid, status: 'PENDING', channel: undefined }
    expect(shopperActions(pending)).toEqual(['pay', 'cancel'])
    expect(operatorActions(pending)).toEqual([])
    expect(fulfilmentStage(pending)).toBe('unpaid')
  })

  it('a request waiting for an operator stops another one', () => {
    expect(shopperActions({ ...paid, refundRequestPending: true })).toEqual([])
    expect(shopperActions(paid)).toEqual(['request_refund'])
  })

  it('receipt: JSAPI payments through WeChat, Native ones by the shop', () => {
    expect(receiptBy('jsapi')).toBe('wechat')
    expect(receiptBy('native')).toBe('shop')
  })

  it('every transition starts and ends in known statuses, and pay/close only leave PENDING', () => {
    for (const t of Object.values(ORDER_TRANSITIONS)) {
      for (const s of t.from) expect(ORDER_STATUSES).toContain(s)
    }
    for (const [from, tos] of Object.entries(ORDER_STATUS_FLOW)) {
      expect(ORDER_STATUSES).toContain(from)
      for (const s of tos) expect(ORDER_STATUSES).toContain(s)
    }
    expect(canTransition('PENDING', 'PAID')).toBe(true)
    expect(canTransition('PAID', 'PENDING')).toBe(false)
    expect(canTransition('CLOSED', 'PAID')).toBe(false)
    expect(canTransition('REFUNDED', 'PAID')).toBe(false)
    expect(canTransition('PARTIALLY_REFUNDED', 'REFUNDING')).toBe(true)
  })
})

describe('money and specs as shown', () => {
  it('parseYuan reads what people type, by string arithmetic', () => {
    expect(parseYuan('12')).toBe(1200)
    expect(parseYuan(' 12.5 ')).toBe(1250)
    expect(parseYuan('¥0.07')).toBe(7)
    expect(parseYuan('0')).toBe(0)
    expect(parseYuan('1.005')).toBeUndefined()
    expect(parseYuan('-1')).toBeUndefined()
    expect(parseYuan('1e3')).toBeUndefined()
  })

  it('checkRefundAmount refuses nothing, zero and more than is left, before anyone confirms', () => {
    expect(checkRefundAmount(undefined, 100)).toMatch(/正确的金额/)
    expect(checkRefundAmount(0, 100)).toMatch(/大于 0/)
    expect(checkRefundAmount(20_000, 14_500)).toBe('退款金额超过可退金额，最多可退 ¥145.00')
    expect(checkRefundAmount(14_500, 14_500)).toBeUndefined()
  })

  it("formatSpec follows the product's order of specs, whatever order the keys come in", () => {
    const specs = [{ name: '温度' }, { name: '杯型' }]
    expect(formatSpec({ 杯型: '大杯', 温度: '冰' }, specs)).toBe('冰/大杯')
    expect(formatSpec({ 温度: '冰', 杯型: '大杯' }, specs)).toBe('冰/大杯')
    expect(formatSpec(undefined, specs)).toBe('')
  })
})

describe('the event contract', () => {
  it('has an envelope for every outbox event type', () => {
    expect(FenEvent.options.map((o) => o.shape.type.value).sort()).toEqual(
      [...OUTBOX_EVENT_TYPES].sort(),
    )
  })

  it('refuses a payload with a missing or an extra field', () => {
    const base = { id: 1, orderNo: 'FEN1', createdAt: '2026-12-08T00:00:00.000Z' }
    const ok = FenEvent.safeParse({
      ...base,
      type: 'order.paid',
      payload: { orderNo: 'FEN1', userId: 1, totalFen: 100, transactionId: '4200' },
    })
    expect(ok.success).toBe(true)
    const missing = FenEvent.safeParse({
      ...base,
      type: 'order.paid',
      payload: { orderNo: 'FEN1', userId: 1, totalFen: 100 },
    })
    expect(missing.success).toBe(false)
    const extra = FenEvent.safeParse({
      ...base,
      type: 'order.closed',
      payload: { orderNo: 'FEN1', userId: 1, reason: 'x', secret: 'y' },
    })
    expect(extra.success).toBe(false)
  })
})
