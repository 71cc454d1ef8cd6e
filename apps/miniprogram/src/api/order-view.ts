import type { Order, OrderItem } from '@fen/shared'
import type { DeliveryMethod, ShippingAddress } from './orders'

/**
 * The shopper's order as the order centre reads it: `Order` plus the brief's OrderView fields
 * (address, 配送方式, 备注, item images, timeline, refund requests). All optional here, so the pages
 * also work against a server that does not send them yet; `@fen/shared` takes these over once the
 * server's schemas carry them.
 */
export type TimelineKind =
  | 'created'
  | 'paid'
  | 'shipped'
  | 'received'
  | 'refund_requested'
  | 'refunded'
  | 'closed'
  | 'completed'

export interface TimelineEntry {
  kind: TimelineKind
  at: string
}

export interface RefundRequestView {
  id: number
  orderNo: string
  amountFen: number
  reason: string
  status: 'pending' | 'approved' | 'rejected'
  rejectReason?: string
  refundNo?: string
  createdAt: string
  decidedAt?: string
}

export interface OrderView extends Omit<Order, 'items'> {
  items: (OrderItem & { imageUrl?: string; spec?: Record<string, string> })[]
  address?: ShippingAddress
  deliveryMethod?: DeliveryMethod
  remark?: string
  timeline?: TimelineEntry[]
  refundRequests?: RefundRequestView[]
}
