import type { Order } from '@fen/shared'
import { startHarness, type Harness } from '@fen/server/test/harness'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  adminOrder,
  createOrder,
  deliveredTypes,
  fault,
  prepayNative,
  sandboxOrder,
  sandboxPay,
  stockOf,
} from './support'

let h: Harness
beforeAll(async () => {
  h = await startHarness()
})
afterAll(() => h?.close())

const PRODUCT = 2

/** Moves the server's clock past the expiry of every order created so far. */
function pastExpiry() {
  h.advance(h.config.orderTtlSeconds + 60)
}

function closedEvents(orderNo: string) {
  return h.delivered.filter((e) => e.orderNo === orderNo && e.type === 'order.closed')
}

describe('an order nobody pays', () => {
  it('closes on the sweep after its expiry: CLOSED, stock back, one order.closed, closed at WeChat', async () => {
    const token = await h.login()
    const stock = await stockOf(h, PRODUCT)
    const order = await createOrder(h, token, [{ productId: PRODUCT, quantity: 3 }])
    expect(await stockOf(h, PRODUCT)).toBe(stock - 3)
    const codeUrl = await prepayNative(h, token, order.orderNo)
    expect((await sandboxOrder(h, order.orderNo))?.trade_state).toBe('NOTPAY')

    // Before its expiry the sweeper leaves it alone.
    expect(await h.sweep()).toEqual({ orders: 0, refunds: 0, errors: 0 })
    expect((await adminOrder(h, order.orderNo)).status).toBe('PENDING')

    pastExpiry()
    expect(await h.sweep()).toEqual({ orders: 1, refunds: 0, errors: 0 })

    const detail = await adminOrder(h, order.orderNo)
    expect(detail.status).toBe('CLOSED')
    expect(detail.closedAt).toBeDefined()
    expect(detail.payments).toEqual([])
    expect(await stockOf(h, PRODUCT)).toBe(stock)
    expect(await deliveredTypes(h, order.orderNo)).toEqual(['order.closed'])
    expect(closedEvents(order.orderNo)[0]!.payload).toMatchObject({
      orderNo: order.orderNo,
      reason: '超时未支付',
    })
    expect(detail.events.map((e) => e.type)).toEqual(['order.closed'])

    // Closed at WeChat too: the QR code can no longer be paid, and the shop refuses a new prepay.
    expect((await sandboxOrder(h, order.orderNo))?.trade_state).toBe('CLOSED')
    const late = await h.control<{ code: string }>('POST', '/__sandbox/pay', { code_url: codeUrl })
    expect(late.status).toBe(400)
    expect(late.body.code).toBe('ORDER_CLOSED')
    const pay = await h.api<{ code: string }>('POST', `/api/orders/${order.orderNo}/pay`, {
      token,
      body: { channel: 'native' },
    })
    expect(pay.status).toBe(409)
    expect(pay.body.code).toBe('ORDER_NOT_PAYABLE')
    const mine = await h.api<Order>('GET', `/api/orders/${order.orderNo}`, { token })
    expect(mine.body.status).toBe('CLOSED')
  })

  it('closes on the sweep even when it was never prepaid (WeChat never knew it)', async () => {
    const token = await h.login()
    const stock = await stockOf(h, PRODUCT)
    const order = await createOrder(h, token, [{ productId: PRODUCT, quantity: 1 }])
    expect(await stockOf(h, PRODUCT)).toBe(stock - 1)

    pastExpiry()
    expect(await h.sweep()).toEqual({ orders: 1, refunds: 0, errors: 0 })

    const detail = await adminOrder(h, order.orderNo)
    expect(detail.status).toBe('CLOSED')
    expect(detail.channel).toBeUndefined()
    expect(await stockOf(h, PRODUCT)).toBe(stock)
    expect(await deliveredTypes(h, order.orderNo)).toEqual(['order.closed'])
    expect(await sandboxOrder(h, order.orderNo)).toBeUndefined()
  })

  it('cancelled by the shopper: closed at WeChat first, then here', async () => {
    const token = await h.login()
    const stock = await stockOf(h, PRODUCT)
    const order = await createOrder(h, token, [{ productId: PRODUCT, quantity: 2 }])
    await prepayNative(h, token, order.orderNo)

    // WeChat cannot be reached for the close (the SDK's two retries included): nothing changes.
    await fault(h, { target: '/v3/pay/transactions/out-trade-no', kind: 'error500', count: 3 })
    const failed = await h.api<{ code: string }>('POST', `/api/orders/${order.orderNo}/cancel`, {
      token,
    })
    expect(failed.status).toBe(503)
    expect(failed.body.code).toBe('WECHAT_UNAVAILABLE')
    expect((await h.control<unknown[]>('GET', '/__sandbox/faults')).body).toEqual([])
    expect((await adminOrder(h, order.orderNo)).status).toBe('PENDING')
    expect((await sandboxOrder(h, order.orderNo))?.trade_state).toBe('NOTPAY')
    expect(await stockOf(h, PRODUCT)).toBe(stock - 2)
    expect(await deliveredTypes(h, order.orderNo)).toEqual([])

    const cancelled = await h.api<Order>('POST', `/api/orders/${order.orderNo}/cancel`, { token })
    expect(cancelled.status).toBe(200)
    expect(cancelled.body.status).toBe('CLOSED')
    expect(cancelled.body.closedAt).toBeDefined()
    expect((await sandboxOrder(h, order.orderNo))?.trade_state).toBe('CLOSED')
    expect(await stockOf(h, PRODUCT)).toBe(stock)
    expect(await deliveredTypes(h, order.orderNo)).toEqual(['order.closed'])
    expect(closedEvents(order.orderNo)[0]!.payload).toMatchObject({ reason: '用户取消' })

    // Cancelling again is harmless.
    const again = await h.api<Order>('POST', `/api/orders/${order.orderNo}/cancel`, { token })
    expect(again.status).toBe(200)
    expect(again.body.status).toBe('CLOSED')
    expect(await stockOf(h, PRODUCT)).toBe(stock)
    expect(await deliveredTypes(h, order.orderNo)).toEqual(['order.closed'])
  })

  it('cancelled after WeChat took the payment (its notification lost): PAID, not closed', async () => {
    const token = await h.login()
    const stock = await stockOf(h, PRODUCT)
    const order = await createOrder(h, token, [{ productId: PRODUCT, quantity: 1 }])
    const codeUrl = await prepayNative(h, token, order.orderNo)
    await fault(h, { target: 'notifications', kind: 'drop' })
    await sandboxPay(h, { code_url: codeUrl })

    // WeChat refuses the close (ORDERPAID): the server applies the payment instead.
    const res = await h.api<{ code: string }>('POST', `/api/orders/${order.orderNo}/cancel`, {
      token,
    })
    expect(res.status).toBe(409)
    expect(res.body.code).toBe('ORDER_ALREADY_PAID')
    const detail = await adminOrder(h, order.orderNo)
    expect(detail.status).toBe('PAID')
    expect(detail.payments).toEqual([expect.objectContaining({ source: 'query' })])
    expect((await sandboxOrder(h, order.orderNo))?.trade_state).toBe('SUCCESS')
    expect(await stockOf(h, PRODUCT)).toBe(stock - 1)
    expect(await deliveredTypes(h, order.orderNo)).toEqual(['order.paid'])
  })

  it('a later sweep does nothing more', async () => {
    const stock = await stockOf(h, PRODUCT)
    const delivered = h.delivered.length
    const closed = await h.admin<{ items: Order[] }>('GET', '/api/admin/orders?status=CLOSED')
    expect(closed.body.items).toHaveLength(3)

    pastExpiry()
    expect(await h.sweep()).toEqual({ orders: 0, refunds: 0, errors: 0 })
    expect(await h.dispatch()).toEqual({ delivered: 0, failed: 0 })
    expect(h.delivered).toHaveLength(delivered)
    expect(await stockOf(h, PRODUCT)).toBe(stock)
    const after = await h.admin<{ items: Order[] }>('GET', '/api/admin/orders')
    expect(after.body.items.map((o) => o.status).sort()).toEqual([
      'CLOSED',
      'CLOSED',
      'CLOSED',
      'PAID',
    ])
    const events = await h.admin<{ items: { type: string }[] }>('GET', '/api/admin/events')
    expect(events.body.items.map((e) => e.type).sort()).toEqual([
      'order.closed',
      'order.closed',
      'order.closed',
      'order.paid',
    ])
  })
})
