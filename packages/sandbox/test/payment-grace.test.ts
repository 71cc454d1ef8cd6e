/**
 * A payment may complete shortly after `time_expire` (seen 12–60 s late at WeChat): the sandbox
 * lets one complete up to `paymentGraceSeconds` (default 60) after it — even when the merchant
 * closed the order after its expiry, so a server's paid-after-close path runs by default.
 */
import { describe, expect, it } from 'vitest'
import { control } from './support/independent-client'
import { useFidelitySandbox } from './support/fidelity'

const f = useFidelitySandbox()

/** A JSAPI order whose time_expire is two minutes from sandbox now. */
async function expiringOrder(): Promise<string> {
  const at = (await f.now()) + 120_000
  const time_expire = new Date(at + 8 * 3600_000).toISOString().slice(0, 19) + '+08:00'
  return f.prepay({ time_expire })
}

const close = (no: string) =>
  f.v3.post(`/v3/pay/transactions/out-trade-no/${no}/close`, { mchid: f.m.mchid })

describe('a payment after time_expire', () => {
  it('completes within the grace, with a notification', async () => {
    expect((await control(f.sb.url, 'GET', '/settings')).json).toMatchObject({
      paymentGraceSeconds: 60,
    })
    const no = await expiringOrder()
    await f.advance(130)
    const paid = await f.pay(no)
    expect(paid.status).toBe(200)
    expect(paid.json.trade_state).toBe('SUCCESS')
    expect((await f.query(no)).json.trade_state).toBe('SUCCESS')
    const sent = await control<{ event_type: string }[]>(
      f.sb.url,
      'GET',
      `/notifications?out_trade_no=${no}`,
    )
    expect(sent.json.map((n) => n.event_type)).toEqual(['TRANSACTION.SUCCESS'])
  })

  it('completes within the grace on an order the merchant closed after its expiry', async () => {
    const no = await expiringOrder()
    await f.advance(125)
    expect((await close(no)).status).toBe(204)
    expect((await f.query(no)).json.trade_state).toBe('CLOSED')
    const paid = await f.pay(no)
    expect(paid.status).toBe(200)
    expect((await f.query(no)).json.trade_state).toBe('SUCCESS')
  })

  it('does not complete on an order closed before its expiry', async () => {
    const no = await expiringOrder()
    expect((await close(no)).status).toBe(204)
    await f.advance(125)
    const late = await f.pay(no)
    expect({ status: late.status, code: late.json.code }).toEqual({
      status: 400,
      code: 'ORDER_CLOSED',
    })
  })

  it('does not complete once the grace is over, or with the grace set to 0', async () => {
    const no = await expiringOrder()
    await f.advance(181)
    const late = await f.pay(no)
    expect({ status: late.status, code: late.json.code }).toEqual({
      status: 400,
      code: 'ORDER_EXPIRED',
    })

    const set = await control(f.sb.url, 'POST', '/settings', { paymentGraceSeconds: 0 })
    expect(set.json).toMatchObject({ paymentGraceSeconds: 0 })
    try {
      const strict = await expiringOrder()
      await f.advance(121)
      expect((await f.pay(strict)).json.code).toBe('ORDER_EXPIRED')
    } finally {
      await control(f.sb.url, 'POST', '/settings', { paymentGraceSeconds: 60 })
    }
  })

  it('is never started by the cashier after time_expire: only one already confirmed completes', async () => {
    const no = await expiringOrder()
    await f.advance(125)
    const r = await f.requestPayment(no)
    expect(r.status).toBe(400)
    expect(r.json.errMsg).toBe('requestPayment:fail 订单已过期，请重新下单')
    expect((await f.query(no)).json.trade_state).toBe('NOTPAY')
  })
})
