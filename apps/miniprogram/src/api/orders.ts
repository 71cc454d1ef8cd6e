import type {
  CreateOrderRequest,
  Order,
  PayChannel,
  PayResponse,
  ReceiptConfirmation,
  RefundRequestView,
} from '@fen/shared'
import { request } from '@/http/request'

/**
 * `POST /api/orders`: the lines (a spec each, when chosen), 配送方式, the address (express) and a
 * remark. The server prices the order (the client never sends an amount) and validates the address.
 * The Idempotency-Key makes a retried submission return the same order.
 */
export function createOrder(draft: CreateOrderRequest, idempotencyKey: string): Promise<Order> {
  return request<Order>('/api/orders', {
    method: 'POST',
    body: draft,
    headers: { 'idempotency-key': idempotencyKey },
  })
}

/** `GET /api/orders`: mine, newest first. */
export function listOrders(): Promise<Order[]> {
  return request<Order[]>('/api/orders')
}

/** `GET /api/orders/:orderNo` (the server checks WeChat when a pending order is a few seconds stale). */
export function getOrder(orderNo: string): Promise<Order> {
  if (!orderNo) return Promise.reject(new Error('缺少订单号'))
  return request<Order>(`/api/orders/${encodeURIComponent(orderNo)}`)
}

/** `POST /api/orders/:orderNo/pay`: `wx.requestPayment` parameters (jsapi) or a `code_url` (native). */
export function payOrder(orderNo: string, channel: PayChannel): Promise<PayResponse> {
  return request<PayResponse>(`/api/orders/${encodeURIComponent(orderNo)}/pay`, {
    method: 'POST',
    body: { channel },
  })
}

/** `POST /api/orders/:orderNo/cancel`: closed at WeChat, then here; stock released. */
export function cancelOrder(orderNo: string): Promise<Order> {
  return request<Order>(`/api/orders/${encodeURIComponent(orderNo)}/cancel`, { method: 'POST' })
}

/**
 * `GET /api/orders/:orderNo/confirm-receipt`: what wx.openBusinessView needs (shipped orders paid by
 * JSAPI only; 409 for any other, whose receipt is the shop's).
 */
export function receiptConfirmation(orderNo: string): Promise<ReceiptConfirmation> {
  return request<ReceiptConfirmation>(`/api/orders/${encodeURIComponent(orderNo)}/confirm-receipt`)
}

/**
 * `POST /api/orders/:orderNo/confirm-receipt`: for a JSAPI payment the server checks with WeChat's
 * get_order; for any other the shopper's word completes the order.
 */
export function confirmReceipt(orderNo: string): Promise<Order> {
  return request<Order>(`/api/orders/${encodeURIComponent(orderNo)}/confirm-receipt`, {
    method: 'POST',
  })
}

/**
 * `POST /api/orders/:orderNo/refund-requests`: 申请退款 (the amount defaults, on the server, to what
 * is left refundable). The Idempotency-Key makes a retried submission one request.
 */
export function requestRefund(
  orderNo: string,
  body: { amountFen?: number; reason: string },
  idempotencyKey: string,
): Promise<RefundRequestView> {
  return request<RefundRequestView>(`/api/orders/${encodeURIComponent(orderNo)}/refund-requests`, {
    method: 'POST',
    body,
    headers: { 'idempotency-key': idempotencyKey },
  })
}
