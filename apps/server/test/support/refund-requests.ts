import type {
  AdminOrderDetail,
  ErrorBody,
  Order,
  PayResponse,
  RefundRequestView,
} from '@fen/shared'
import { expect } from 'vitest'
import type { ApiResponse, Harness } from '../harness'

/**
 * Orders product 1 (5900 fen) as `token`, pays it at the sandbox and waits until it is PAID here.
 * `jsapi` pays as the mini-program does (WeChat's shipping management knows those payments only).
 */
export async function paidOrder(
  h: Harness,
  token: string,
  channel: 'native' | 'jsapi' = 'native',
): Promise<Order> {
  const created = await h.api<Order>('POST', '/api/orders', {
    token,
    body: { items: [{ productId: 1, quantity: 1 }] },
  })
  expect(created.status).toBe(201)
  const no = created.body.orderNo
  const pay = await h.api<PayResponse>('POST', `/api/orders/${no}/pay`, {
    token,
    body: { channel },
  })
  expect(pay.status).toBe(200)
  if (pay.body.channel === 'jsapi') {
    const cashier = await h.control<{ errMsg: string }>(
      'POST',
      '/__sandbox/request-payment',
      pay.body.params,
    )
    expect(cashier.body.errMsg).toBe('requestPayment:ok')
  } else {
    await h.control('POST', '/__sandbox/pay', { out_trade_no: no })
  }
  return h.until(async () => {
    const o = await h.api<Order>('GET', `/api/orders/${no}`, { token })
    return o.body.status === 'PAID' && o.body
  })
}

/** The operator ships a paid order by express: SHIPPED. */
export async function shipByExpress(h: Harness, orderNo: string): Promise<void> {
  const res = await h.admin<AdminOrderDetail>('POST', `/api/admin/orders/${orderNo}/ship`, {
    logisticsType: 'express',
    expressCompany: 'YTO',
    trackingNo: `YT${orderNo.slice(-10)}`,
  })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  expect(res.body.status).toBe('SHIPPED')
}

/** The shopper's refund request for their order. */
export function askRefund(
  h: Harness,
  token: string,
  orderNo: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<ApiResponse<RefundRequestView & ErrorBody>> {
  return h.api('POST', `/api/orders/${orderNo}/refund-requests`, { token, body, headers })
}

/** The order's refunds as WeChat (the sandbox) has them. */
export async function sandboxRefunds(h: Harness, orderNo: string): Promise<{ amount: number }[]> {
  const state = await h.control<{
    orders: { out_trade_no: string; refunds: { amount: { refund: number } }[] }[]
  }>('GET', '/__sandbox/state')
  const refunds = state.body.orders.find((o) => o.out_trade_no === orderNo)?.refunds ?? []
  return refunds.map((r) => ({ amount: r.amount.refund }))
}

/** A series of the server's `GET /metrics` (0 when absent), e.g. `fen_x_total{a="b"}`. */
export async function metricValue(h: Harness, series: string): Promise<number> {
  const text = (await h.admin<string>('GET', '/metrics')).body
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue
    const at = line.lastIndexOf(' ')
    if (line.slice(0, at) === series) return Number(line.slice(at + 1))
  }
  return 0
}
