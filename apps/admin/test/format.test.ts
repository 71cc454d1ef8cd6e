import { describe, expect, it } from 'vitest'
import { addressLine, beijingDate, beijingTime, yuan } from '../src/format'
import { sumMetrics } from '../src/metrics'

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
})

describe('times', () => {
  it('shows UTC as Beijing time, and Beijing days roll at 16:00 UTC', () => {
    expect(beijingTime('2025-06-10T12:01:30.000Z')).toBe('2025-06-10 20:01:30')
    expect(beijingDate(0, new Date('2025-06-10T15:59:59Z'))).toBe('2025-06-10')
    expect(beijingDate(0, new Date('2025-06-10T16:00:00Z'))).toBe('2025-06-11')
    expect(beijingDate(1, new Date('2025-06-10T16:00:00Z'))).toBe('2025-06-10')
  })
})

describe('addresses', () => {
  it('shows an address on one line, province to street', () => {
    expect(
      addressLine({
        province: '广东省',
        city: '广州市',
        district: '天河区',
        detail: '体育西路 191 号',
      }),
    ).toBe('广东省广州市天河区 体育西路 191 号')
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
