/**
 * A failed payment on a JSAPI / Native / App / H5 order is something the shopper's client sees
 * (`requestPayment:fail …`), not a state: the order stays NOTPAY (wechat-ops-api.md §7: PAYERROR,
 * USERPAYING and REVOKED belong to payment-code orders only).
 */
import { describe, expect, it } from 'vitest'
import { control } from './support/independent-client'
import { useFidelitySandbox } from './support/fidelity'

const f = useFidelitySandbox()

describe('a failed payment', () => {
  it('leaves a JSAPI order NOTPAY, sends nothing, and the order can still be paid', async () => {
    const no = await f.prepay()
    const failed = await f.pay(no, { result: 'PAYERROR' })
    expect(failed.status).toBe(200)
    expect(failed.json.trade_state).toBe('NOTPAY')
    const q = await f.query(no)
    expect(q.json.trade_state).toBe('NOTPAY')
    expect(q.json.trade_state_desc).toBe('订单未支付')
    // The attempt is recorded for the page and tests, not in WeChat's answer.
    const state = await control<{ orders: { out_trade_no: string; failed_attempts: number }[] }>(
      f.sb.url,
      'GET',
      '/state',
    )
    expect(state.json.orders.find((o) => o.out_trade_no === no)?.failed_attempts).toBe(1)
    expect(
      (await control<unknown[]>(f.sb.url, 'GET', `/notifications?out_trade_no=${no}`)).json,
    ).toEqual([])

    expect((await f.pay(no)).json.trade_state).toBe('SUCCESS')
    expect((await f.query(no)).json.trade_state).toBe('SUCCESS')
  })

  it('through the cashier: requestPayment:fail for the client, NOTPAY for the merchant', async () => {
    const no = await f.prepay()
    const failed = await f.requestPayment(no, 'PAYERROR')
    expect(failed.json.errMsg).toMatch(/^requestPayment:fail /)
    expect((await f.query(no)).json.trade_state).toBe('NOTPAY')
    const ok = await f.requestPayment(no)
    expect(ok.json.errMsg).toBe('requestPayment:ok')
    expect((await f.query(no)).json.trade_state).toBe('SUCCESS')
  })
})
