import type { AdminOrderDetail, Order, OutboxEvent } from '@fen/shared'
import type { Harness } from '../harness'

/**
 * Orders product 1 as `shopper`, pays it at the sandbox (native) and waits until it is PAID here;
 * returns the order's `order.paid` event (what the outbox delivers to the shop's systems).
 */
export async function paidOrderEvent(h: Harness, shopper: string): Promise<OutboxEvent> {
  const order = await h.api<Order>('POST', '/api/orders', {
    token: shopper,
    body: { items: [{ productId: 1, quantity: 1 }] },
  })
  if (order.status !== 201) throw new Error(`order: ${order.status}`)
  const { orderNo } = order.body
  const pay = await h.api('POST', `/api/orders/${orderNo}/pay`, {
    token: shopper,
    body: { channel: 'native' },
  })
  if (pay.status !== 200) throw new Error(`pay: ${pay.status}`)
  await h.control('POST', '/__sandbox/pay', { out_trade_no: orderNo })
  return h.until(async () => {
    const res = await h.admin<AdminOrderDetail>('GET', `/api/admin/orders/${orderNo}`)
    return res.body.events.find((e) => e.type === 'order.paid')
  }, 10_000)
}
