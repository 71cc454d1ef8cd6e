import { describe, expect, it } from 'vitest'
import {
  ERROR_CODES,
  ORDER_STATUSES,
  ORDER_STATUS_LABELS,
  describeItems,
  formatFen,
  isFen,
  schemas,
} from '../src'

describe('money', () => {
  it('formats integer fen as yuan without float error', () => {
    expect(formatFen(2990)).toBe('¥29.90')
    expect(formatFen(1)).toBe('¥0.01')
    expect(formatFen(0)).toBe('¥0.00')
    expect(formatFen(-150)).toBe('-¥1.50')
    expect(formatFen(123456789)).toBe('¥1234567.89')
  })

  it('refuses fractions of a fen', () => {
    expect(() => formatFen(0.1 + 0.2)).toThrow(RangeError)
  })

  it('isFen accepts only non-negative safe integers', () => {
    expect([0, 1, 2990].every(isFen)).toBe(true)
    expect([-1, 1.5, NaN, Infinity, '100', 2 ** 53].some(isFen)).toBe(false)
  })
})

describe('schemas', () => {
  it('never accept an amount from the client: an order is items only', () => {
    const r = schemas.CreateOrderRequest.safeParse({
      items: [{ productId: 1, quantity: 2 }],
      totalFen: 1,
    })
    expect(r.success).toBe(true)
    expect(r.data).toEqual({ items: [{ productId: 1, quantity: 2 }] })
  })

  it('reject zero, negative, fractional and huge quantities, and repeated products', () => {
    for (const items of [
      [{ productId: 1, quantity: 0 }],
      [{ productId: 1, quantity: -1 }],
      [{ productId: 1, quantity: 1.5 }],
      [{ productId: 1, quantity: 100 }],
      [
        { productId: 1, quantity: 1 },
        { productId: 1, quantity: 2 },
      ],
      [],
    ]) {
      expect(schemas.CreateOrderRequest.safeParse({ items }).success).toBe(false)
    }
  })

  it('reject 4-byte UTF-8 in text that goes to WeChat', () => {
    expect(schemas.AdminRefundRequest.safeParse({ amountFen: 1, reason: '坏了😀' }).success).toBe(
      false,
    )
    expect(schemas.AdminRefundRequest.safeParse({ amountFen: 1, reason: '商品缺货' }).success).toBe(
      true,
    )
  })

  it('accept only WeChat-shaped order numbers', () => {
    expect(schemas.OrderNo.safeParse('FEN20261122000001').success).toBe(true)
    for (const bad of ['short', 'x'.repeat(33), 'has space0', '订单号123456']) {
      expect(schemas.OrderNo.safeParse(bad).success).toBe(false)
    }
  })

  it('type both pay answers', () => {
    expect(
      schemas.PayResponse.parse({
        channel: 'native',
        codeUrl: 'weixin://wxpay/bizpayurl?pr=x',
        expiresAt: '2026-11-22T10:00:00.000Z',
      }).channel,
    ).toBe('native')
    expect(schemas.PayResponse.safeParse({ channel: 'jsapi', codeUrl: 'x' }).success).toBe(false)
  })
})

describe('enums and codes', () => {
  it('label every status in Chinese', () => {
    for (const s of ORDER_STATUSES) expect(ORDER_STATUS_LABELS[s]).toMatch(/[\u4e00-\u9fff]/)
  })

  it('give every error code a 4xx or 5xx status', () => {
    for (const status of Object.values(ERROR_CODES)) expect(status).toBeGreaterThanOrEqual(400)
  })
})

describe('describeItems', () => {
  it('counts units, and does not call one line of 2 "等2件"', () => {
    expect(describeItems([{ title: '拿铁', quantity: 1 }])).toBe('拿铁')
    expect(describeItems([{ title: '拿铁', quantity: 2 }])).toBe('拿铁 ×2')
    expect(
      describeItems([
        { title: '拿铁', quantity: 2 },
        { title: '摩卡', quantity: 1 },
      ]),
    ).toBe('拿铁 等3件商品')
    expect(describeItems([])).toBe('Fen 订单')
  })

  it("stays within WeChat's 127 characters", () => {
    expect([...describeItems([{ title: '咖'.repeat(300), quantity: 1 }])]).toHaveLength(127)
  })
})
