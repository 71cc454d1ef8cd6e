import type { Order } from '@fen/shared'
import { startHarness, type Harness } from '@fen/server/test/harness'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  adminOrder,
  createOrder,
  deliveredTypes,
  prepayJsapi,
  prepayNative,
  sandboxOrder,
  sandboxPay,
  untilNotificationsDelivered,
  untilStatus,
} from './support'

// The whole loop once per API version: each version is its own server configuration
// (WECHATPAY_API_VERSION), so each describe block runs one harness of its own.
describe.each([
  { api: 'v3' as const, signType: 'RSA', notifyPath: '/api/pay/notify' },
  { api: 'v2' as const, signType: 'MD5', notifyPath: '/api/pay/notify/v2' },
])('paying on API$api', ({ api, signType, notifyPath }) => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness({ apiVersion: api })
  })
  afterAll(() => h?.close())

  /** PAID by the notification (the admin view never syncs), with one payment and one order.paid. */
  async function expectPaidOnce(order: Order, channel: 'jsapi' | 'native') {
    const paid = await untilStatus(h, order.orderNo, 'PAID')
    expect(paid.apiVersion).toBe(api)
    expect(paid.channel).toBe(channel)
    expect(paid.paidAt).toBeDefined()
    expect(paid.payments).toHaveLength(1)
    expect(paid.payments[0]).toMatchObject({ amountFen: order.totalFen, source: 'notify' })
    expect(paid.transactionId).toBe(paid.payments[0]!.transactionId)
    expect(paid.notifications).toHaveLength(1)
    expect(paid.notifications[0]).toMatchObject({
      eventType: 'TRANSACTION.SUCCESS',
      outcome: 'applied',
    })

    // WeChat got its success answer, on the version's own notify URL, and sends no more.
    const [n] = await untilNotificationsDelivered(h, order.orderNo)
    expect(n!.version).toBe(api)
    expect(new URL(n!.url).pathname).toBe(notifyPath)
    expect(n!.attempts).toHaveLength(1)
    expect((await sandboxOrder(h, order.orderNo))?.trade_state).toBe('SUCCESS')

    expect(await deliveredTypes(h, order.orderNo)).toEqual(['order.paid'])
    const event = h.delivered.find((e) => e.orderNo === order.orderNo)!
    expect(event.payload).toMatchObject({
      orderNo: order.orderNo,
      totalFen: order.totalFen,
      transactionId: paid.transactionId,
    })
    const detail = await adminOrder(h, order.orderNo)
    expect(detail.events.map((e) => e.type)).toEqual(['order.paid'])
    expect(detail.events[0]!.deliveredAt).not.toBeNull()
  }

  it('JSAPI: login → order → pay → wx.requestPayment → notification → PAID → one order.paid', async () => {
    const token = await h.login()
    const order = await createOrder(h, token, [{ productId: 4, quantity: 2 }])
    expect(order.totalFen).toBe(2 * 2990)

    const params = await prepayJsapi(h, token, order.orderNo)
    expect(params.signType).toBe(signType)
    expect(params.package).toMatch(/^prepay_id=/)
    expect(params.appId).toBe(h.sandbox.merchant.appid)

    const cashier = await h.control<{ errMsg: string }>(
      'POST',
      '/__sandbox/request-payment',
      params,
    )
    expect(cashier.status).toBe(200)
    expect(cashier.body.errMsg).toBe('requestPayment:ok')

    await expectPaidOnce(order, 'jsapi')
    const mine = await h.api<Order>('GET', `/api/orders/${order.orderNo}`, { token })
    expect(mine.body).toMatchObject({ status: 'PAID', refundedFen: 0 })

    // A paid order cannot be paid or cancelled again.
    const again = await h.api<{ code: string }>('POST', `/api/orders/${order.orderNo}/pay`, {
      token,
      body: { channel: 'jsapi' },
    })
    expect(again.status).toBe(409)
    expect(again.body.code).toBe('ORDER_ALREADY_PAID')
    const cancel = await h.api<{ code: string }>('POST', `/api/orders/${order.orderNo}/cancel`, {
      token,
    })
    expect(cancel.status).toBe(409)
    expect(cancel.body.code).toBe('ORDER_ALREADY_PAID')
  })

  it('Native: login → order → code_url → the shopper scans and pays → PAID → one order.paid', async () => {
    const token = await h.login()
    const order = await createOrder(h, token, [
      { productId: 1, quantity: 1 },
      { productId: 3, quantity: 2 },
    ])
    expect(order.totalFen).toBe(5900 + 2 * 3900)

    const codeUrl = await prepayNative(h, token, order.orderNo)
    expect(codeUrl).toMatch(/^weixin:\/\//)
    // A second prepay reuses the live code_url.
    expect(await prepayNative(h, token, order.orderNo)).toBe(codeUrl)

    const tx = await sandboxPay(h, { code_url: codeUrl })
    expect(tx.trade_state).toBe('SUCCESS')

    await expectPaidOnce(order, 'native')
    expect((await adminOrder(h, order.orderNo)).transactionId).toBe(tx.transaction_id)
  })

  it('a cashier CANCEL leaves the order PENDING and payable', async () => {
    const token = await h.login()
    const order = await createOrder(h, token, [{ productId: 3, quantity: 1 }])
    const params = await prepayJsapi(h, token, order.orderNo)

    const cancelled = await h.control<{ errMsg: string }>('POST', '/__sandbox/request-payment', {
      ...params,
      result: 'CANCEL',
    })
    expect(cancelled.body.errMsg).toBe('requestPayment:fail cancel')

    h.advance(5) // past the GET's sync interval: the GET asks WeChat, which says NOTPAY
    const mine = await h.api<Order>('GET', `/api/orders/${order.orderNo}`, { token })
    expect(mine.status).toBe(200)
    expect(mine.body.status).toBe('PENDING')
    expect((await sandboxOrder(h, order.orderNo))?.trade_state).toBe('NOTPAY')
    expect(await deliveredTypes(h, order.orderNo)).toEqual([])

    // Still payable: pay again (the live prepay is reused) and it goes through.
    const retry = await prepayJsapi(h, token, order.orderNo)
    expect(retry.package).toBe(params.package)
    const ok = await h.control<{ errMsg: string }>('POST', '/__sandbox/request-payment', retry)
    expect(ok.body.errMsg).toBe('requestPayment:ok')
    await expectPaidOnce(order, 'jsapi')
  })

  it('a failed payment leaves the order PENDING (and payable), NOTPAY at WeChat', async () => {
    const token = await h.login()
    const order = await createOrder(h, token, [{ productId: 5, quantity: 3 }])
    const params = await prepayJsapi(h, token, order.orderNo)

    const failed = await h.control<{ errMsg: string }>('POST', '/__sandbox/request-payment', {
      ...params,
      result: 'PAYERROR',
    })
    expect(failed.body.errMsg).toMatch(/^requestPayment:fail /)
    // A failed attempt is the client's to see, not a state: WeChat still says NOTPAY.
    expect((await sandboxOrder(h, order.orderNo))?.trade_state).toBe('NOTPAY')

    h.advance(5)
    const mine = await h.api<Order>('GET', `/api/orders/${order.orderNo}`, { token })
    expect(mine.body.status).toBe('PENDING')
    const detail = await adminOrder(h, order.orderNo)
    expect(detail.status).toBe('PENDING')
    expect(detail.payments).toEqual([])
    expect(detail.notifications).toEqual([])
    expect(await deliveredTypes(h, order.orderNo)).toEqual([])

    const ok = await h.control<{ errMsg: string }>(
      'POST',
      '/__sandbox/request-payment',
      await prepayJsapi(h, token, order.orderNo),
    )
    expect(ok.body.errMsg).toBe('requestPayment:ok')
    await expectPaidOnce(order, 'jsapi')
  })
})
