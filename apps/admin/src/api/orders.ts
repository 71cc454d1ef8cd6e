// Orders: the list, one order's detail, and what an operator does with it (refund, ship, sync).
import type {
  AdminOrder,
  AdminOrderDetail,
  AdminOrderPage,
  AdminOrdersQuery,
  AdminRefundRequest,
  Refund,
  ShipOrderRequest,
} from '@fen/shared'
import { requestClient, segment } from './request'

const order = (orderNo: string) => `/api/admin/orders/${segment(orderNo)}`

/** `GET /api/admin/orders`: a page of orders matching the filters, newest first. */
export function listOrders(
  query: Omit<AdminOrdersQuery, 'limit'> & { limit?: number },
): Promise<AdminOrderPage> {
  return requestClient.get('/api/admin/orders', query)
}

/** `GET /api/admin/orders/:orderNo`: the order with its payments, refunds, notifications, events. */
export function getOrder(orderNo: string): Promise<AdminOrderDetail> {
  return requestClient.get(order(orderNo))
}

/**
 * `POST /api/admin/orders/:orderNo/refunds`: refunds `amountFen` to the shopper. The
 * `idempotencyKey` names this one confirmed refund: sent again, it is the same refund, not a second.
 */
export function refundOrder(
  orderNo: string,
  body: AdminRefundRequest,
  idempotencyKey: string,
): Promise<Refund> {
  return requestClient.post(`${order(orderNo)}/refunds`, body, {
    'idempotency-key': idempotencyKey,
  })
}

/** `POST /api/admin/orders/:orderNo/ship`: records the delivery (reported to WeChat when it covers the payment). */
export function shipOrder(orderNo: string, body: ShipOrderRequest): Promise<AdminOrder> {
  return requestClient.post(`${order(orderNo)}/ship`, body)
}

/** `POST /api/admin/orders/:orderNo/sync`: asks WeChat about the order and its open refunds. */
export function syncOrder(orderNo: string): Promise<AdminOrderDetail> {
  return requestClient.post(`${order(orderNo)}/sync`)
}
