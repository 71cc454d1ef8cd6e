import type { Order, PayResponse } from '@fen/shared'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHarness, type Harness } from './harness'

let h: Harness
beforeAll(async () => {
  h = await startHarness()
})
afterAll(() => h.close())

describe('the payment loop through the sandbox', () => {
  it('login → order → JSAPI pay → the WeChat client pays → notification → PAID → one order.paid', async () => {
    const token = await h.login()
    const created = await h.api<Order>('POST', '/api/orders', {
      token,
      body: { items: [{ productId: 4, quantity: 2 }] },
    })
    expect(created.status).toBe(201)
    expect(created.body.totalFen).toBe(2 * 2990)
    expect(created.body.status).toBe('PENDING')

    const pay = await h.api<PayResponse>('POST', `/api/orders/${created.body.orderNo}/pay`, {
      token,
      body: { channel: 'jsapi' },
    })
    expect(pay.status).toBe(200)
    if (pay.body.channel !== 'jsapi') throw new Error('expected jsapi')
    expect(pay.body.params.signType).toBe('RSA')

    const cashier = await h.control<{ errMsg: string }>(
      'POST',
      '/__sandbox/request-payment',
      pay.body.params,
    )
    expect(cashier.body.errMsg).toBe('requestPayment:ok')

    const paid = await h.until(async () => {
      const o = await h.api<Order>('GET', `/api/orders/${created.body.orderNo}`, { token })
      return o.body.status === 'PAID' && o.body
    })
    expect(paid.paidAt).toBeDefined()

    await h.dispatch()
    expect(
      h.delivered.filter((e) => e.orderNo === created.body.orderNo).map((e) => e.type),
    ).toEqual(['order.paid'])
  })
})
