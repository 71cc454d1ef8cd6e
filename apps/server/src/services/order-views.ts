import type { AdminOrder, Order } from '@fen/shared'
import type { Db } from '../db/client'
import { deliveriesOf } from '../repositories/deliveries'
import { itemsOf, type OrderRow } from '../repositories/orders'
import { refundRequestsOfOrders } from '../repositories/refund-requests'
import { refundsOfOrders } from '../repositories/refunds'
import type { OrderHistory } from '../domain/facts'
import { adminOrderView, orderView } from './views'

/**
 * Orders as the API shows them: the rows with their lines, delivery, refunds and refund requests
 * (the timeline's sources), loaded with one query per table however many orders. Every order
 * answer goes through here, so each shows the same timeline.
 */
export async function orderViews(db: Db, rows: OrderRow[]): Promise<Order[]> {
  const parts = await partsOf(db, rows)
  return rows.map((r) => orderView(r, parts.items(r), parts.history(r)))
}

export async function adminOrderViews(db: Db, rows: OrderRow[]): Promise<AdminOrder[]> {
  const parts = await partsOf(db, rows)
  return rows.map((r) => adminOrderView(r, parts.items(r), parts.history(r)))
}

async function partsOf(db: Db, rows: OrderRow[]) {
  const orderNos = rows.map((r) => r.orderNo)
  const [items, deliveries, refunds, requests] = await Promise.all([
    itemsOf(db, orderNos),
    deliveriesOf(db, orderNos),
    refundsOfOrders(db, orderNos),
    refundRequestsOfOrders(db, orderNos),
  ])
  return {
    items: (r: OrderRow) => items.get(r.orderNo) ?? [],
    history: (r: OrderRow): OrderHistory => ({
      delivery: deliveries.get(r.orderNo),
      refunds: refunds.get(r.orderNo) ?? [],
      refundRequests: requests.get(r.orderNo) ?? [],
    }),
  }
}
