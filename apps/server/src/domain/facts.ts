import type { DeliveryMethod, OrderFacts, OrderStatus, PayChannel, RefundStatus } from '@fen/shared'
import type { DeliveryRow } from '../repositories/deliveries'
import type { OrderRow } from '../repositories/orders'
import type { RefundRequestRow } from '../repositories/refund-requests'
import type { RefundRow } from '../repositories/refunds'

/** What an order's view and its rules are built from besides its row (see services/order-views.ts). */
export interface OrderHistory {
  delivery?: DeliveryRow | undefined
  refunds?: RefundRow[]
  /** Newest first. */
  refundRequests?: RefundRequestRow[]
}

/**
 * The facts the shared lifecycle rules decide on (packages/shared/src/lifecycle.ts), read off the
 * order's row and its history. One place, so every answer and every check sees the same order.
 */
export function orderFacts(
  o: OrderRow,
  { delivery, refunds = [], refundRequests = [] }: OrderHistory,
): OrderFacts {
  return {
    status: o.status as OrderStatus,
    totalFen: o.totalFen,
    channel: o.channel as PayChannel | null,
    deliveryMethod: o.deliveryMethod as DeliveryMethod,
    shipped: delivery !== undefined,
    received: o.completedAt !== null,
    paidAfterClose: o.closedAt !== null && o.transactionId !== null,
    refunds: refunds.map((r) => ({
      amountFen: r.amountFen,
      status: r.status as RefundStatus,
      paymentTransactionId: r.paymentTransactionId,
    })),
    refundRequestPending: refundRequests.some((r) => r.status === 'pending'),
  }
}
