/**
 * Query answers as WeChat writes them (wechat-ops-api.md §7): `trade_state_desc` texts in APIv3
 * and APIv2, and the field set of an unpaid (NOTPAY) answer.
 */
import { describe, expect, it } from 'vitest'
import { control } from './support/independent-client'
import { useFidelitySandbox } from './support/fidelity'

const f = useFidelitySandbox()

const DESC = {
  NOTPAY: '订单未支付',
  SUCCESS: '支付成功',
  CLOSED: '订单已关闭',
  REFUND: '订单发生过退款，退款详情请查询退款单',
}

describe('trade_state_desc', () => {
  it('reads as WeChat writes it in each state, in APIv3 and in APIv2 orderquery', async () => {
    const open = await f.prepay()
    const closed = await f.prepay()
    const paid = await f.prepay()
    const refunded = await f.prepay()
    expect(
      (await f.v3.post(`/v3/pay/transactions/out-trade-no/${closed}/close`, { mchid: f.m.mchid }))
        .status,
    ).toBe(204)
    for (const no of [paid, refunded]) expect((await f.pay(no)).status).toBe(200)
    expect((await f.refund(refunded, 10)).status).toBe(200)

    for (const [no, state] of [
      [open, 'NOTPAY'],
      [closed, 'CLOSED'],
      [paid, 'SUCCESS'],
      [refunded, 'REFUND'],
    ] as const) {
      const v3 = (await f.query(no)).json
      expect({ state: v3.trade_state, desc: v3.trade_state_desc }).toEqual({
        state,
        desc: DESC[state],
      })
      const v2 = await f.v2('/pay/orderquery', { out_trade_no: no })
      expect({ state: v2.trade_state, desc: v2.trade_state_desc }).toEqual({
        state,
        desc: DESC[state],
      })
    }
  })
})

describe('an unpaid (NOTPAY) answer', () => {
  it('has exactly the fields of real ones: amount{payer_currency, total}, promotion_detail, scene_info', async () => {
    const no = await f.prepay({ attach: 'cart=7' })
    const a = await f.query(no)
    expect(a.status).toBe(200)
    expect(f.signed(a)).toBe(true)
    expect(a.json).toEqual({
      amount: { payer_currency: 'CNY', total: 100 },
      appid: f.m.appid,
      mchid: f.m.mchid,
      out_trade_no: no,
      promotion_detail: [],
      scene_info: { device_id: '' },
      trade_state: 'NOTPAY',
      trade_state_desc: '订单未支付',
    })
    // Keys in alphabetical order, as raw captures list them.
    expect(Object.keys(a.json)).toEqual(Object.keys(a.json).sort())
  })

  it('a paid answer adds transaction_id, trade_type, bank_type, success_time, payer and attach', async () => {
    const no = await f.prepay()
    expect((await f.pay(no)).status).toBe(200)
    const a = await f.query(no)
    expect(Object.keys(a.json).sort()).toEqual(
      [
        'amount',
        'appid',
        'attach',
        'bank_type',
        'mchid',
        'out_trade_no',
        'payer',
        'promotion_detail',
        'scene_info',
        'success_time',
        'trade_state',
        'trade_state_desc',
        'trade_type',
        'transaction_id',
      ].sort(),
    )
    expect(a.json.attach).toBe('')
    expect(a.json.amount).toEqual({
      currency: 'CNY',
      payer_currency: 'CNY',
      payer_total: 100,
      total: 100,
    })
    // The control API's own view keeps the trade type of every order.
    const state = await control<{ orders: { out_trade_no: string; trade_type: string }[] }>(
      f.sb.url,
      'GET',
      '/state',
    )
    expect(state.json.orders.find((o) => o.out_trade_no === no)?.trade_type).toBe('JSAPI')
  })
})
