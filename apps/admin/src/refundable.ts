import type { AdminOrderDetail } from '@fen/shared'

const HOLDING = ['SUCCESS', 'SUBMITTING', 'PROCESSING', 'ABNORMAL']

/**
 * What can still be refunded: the total less refunds that succeeded or are under way (as the
 * server counts it; a second payment's refund gives back that payment, not the order's money).
 */
export function refundableFen(o: Pick<AdminOrderDetail, 'totalFen' | 'refunds'>): number {
  const held = o.refunds
    .filter((r) => r.paymentTransactionId === undefined && HOLDING.includes(r.status))
    .reduce((sum, r) => sum + r.amountFen, 0)
  return Math.max(0, o.totalFen - held)
}
