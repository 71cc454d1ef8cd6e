/** Refund answers carry `amount.refund_fee` (手续费退款金额), beside the documented amounts. */
import { describe, expect, it } from 'vitest'
import { control } from './support/independent-client'
import { useFidelitySandbox } from './support/fidelity'

const f = useFidelitySandbox()

describe('refund answers', () => {
  it('carry amount.refund_fee on create, query and settlement', async () => {
    const no = await f.prepay({ amount: { total: 10_000, currency: 'CNY' } })
    expect((await f.pay(no)).status).toBe(200)
    const created = await f.refund(no, 2_500, 10_000)
    expect(created.status).toBe(200)
    expect(Object.keys(created.json.amount).sort()).toEqual(
      [
        'currency',
        'discount_refund',
        'from',
        'payer_refund',
        'payer_total',
        'refund',
        'refund_fee',
        'settlement_refund',
        'settlement_total',
        'total',
      ].sort(),
    )
    // The fee's share of 2,500 fen at the sandbox's 0.6%: 15 fen.
    expect(created.json.amount).toMatchObject({ refund: 2_500, refund_fee: 15 })
    const rno = created.json.out_refund_no
    const queried = await f.v3.get<{ amount: { refund_fee: number } }>(
      `/v3/refund/domestic/refunds/${rno}`,
    )
    expect(queried.json.amount.refund_fee).toBe(15)
    const settled = await control<{ amount: { refund_fee: number } }>(
      f.sb.url,
      'POST',
      `/refunds/${rno}`,
      { status: 'SUCCESS' },
    )
    expect(settled.json.amount.refund_fee).toBe(15)
  })
})
