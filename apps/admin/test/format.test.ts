import { describe, expect, it } from 'vitest'
import { beijingDate, beijingTime, parseYuan, yuan } from '../src/format'
import { sumMetrics } from '../src/metrics'
import { refundableFen } from '../src/refundable'

describe('money', () => {
  it('shows fen as yuan with two decimals', () => {
    expect([yuan(0), yuan(5), yuan(1234), yuan(-100), yuan(undefined)]).toEqual([
      '¥0.00',
      '¥0.05',
      '¥12.34',
      '-¥1.00',
      '—',
    ])
  })

  it('reads typed yuan as integer fen, refusing what is not a positive amount', () => {
    expect(['12', '12.3', '12.34', ' 0.01 '].map(parseYuan)).toEqual([1200, 1230, 1234, 1])
    for (const bad of ['', '0', '0.00', '1.234', '-1', 'abc', '1e3', '1,5']) {
      expect([bad, parseYuan(bad)]).toEqual([bad, undefined])
    }
  })
})

describe('times', () => {
  it('shows UTC as Beijing time, and Beijing days roll at 16:00 UTC', () => {
    expect(beijingTime('2025-06-10T12:01:30.000Z')).toBe('2025-06-10 20:01:30')
    expect(beijingDate(0, new Date('2025-06-10T15:59:59Z'))).toBe('2025-06-10')
    expect(beijingDate(0, new Date('2025-06-10T16:00:00Z'))).toBe('2025-06-11')
    expect(beijingDate(1, new Date('2025-06-10T16:00:00Z'))).toBe('2025-06-10')
  })
})

describe('refundable', () => {
  const r = (amountFen: number, status: string, paymentTransactionId?: string) => ({
    outRefundNo: `R${amountFen}`,
    amountFen,
    reason: 'x',
    status: status as 'SUCCESS',
    automatic: false,
    createdAt: '2025-06-10T12:00:00.000Z',
    ...(paymentTransactionId ? { paymentTransactionId } : {}),
  })
  it('is the total less refunds that succeeded or are under way, not failed ones or a second payment’s', () => {
    expect(
      refundableFen({
        totalFen: 1000,
        refunds: [
          r(100, 'SUCCESS'),
          r(200, 'PROCESSING'),
          r(300, 'FAILED'),
          r(400, 'SUCCESS', 'T2'),
        ],
      }),
    ).toBe(700)
  })
})

describe('metrics', () => {
  it('sums each metric over its label sets, skipping comments', () => {
    const m = sumMetrics(
      [
        '# HELP fen_orders Orders by status',
        'fen_orders{status="PAID"} 3',
        'fen_orders{status="PENDING"} 2',
        'fen_outbox_pending 0',
        '',
      ].join('\n'),
    )
    expect(m.get('fen_orders')).toBe(5)
    expect(m.get('fen_outbox_pending')).toBe(0)
  })
})
