import { sql } from 'drizzle-orm'
import { boolean, check, index, integer, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core'
import { ts } from './columns'
import { orders } from './orders'

/**
 * Refunds. `out_refund_no` is WeChat's: a retry reuses it, so WeChat refunds it once. SUBMITTING
 * means not yet accepted by WeChat (the call failed or its answer was lost); the sweeper
 * resubmits those with the same number.
 */
export const refunds = pgTable(
  'refunds',
  {
    outRefundNo: text('out_refund_no').primaryKey(),
    orderNo: text('order_no')
      .notNull()
      .references(() => orders.orderNo),
    amountFen: integer('amount_fen').notNull(),
    reason: text('reason').notNull(),
    status: text('status').notNull(),
    refundId: text('refund_id'),
    /** A refund the server made by itself: a payment after close, or a second payment. */
    automatic: boolean('automatic').notNull().default(false),
    /**
     * Set on the refund of a second payment (another transaction on an order already paid): the
     * transaction it gives back, refunded by this `transaction_id`. Such a refund is outside the
     * order's refundable amount: the order's `refunded_fen` and status never count it.
     */
    paymentTransactionId: text('payment_transaction_id'),
    idempotencyKey: text('idempotency_key'),
    createdAt: ts('created_at').notNull().defaultNow(),
    settledAt: ts('settled_at'),
    lastError: text('last_error'),
    leaseUntil: ts('lease_until'),
  },
  (t) => [
    check(
      'refunds_status',
      sql`${t.status} in ('SUBMITTING','PROCESSING','SUCCESS','ABNORMAL','CLOSED','FAILED')`,
    ),
    check('refunds_amount_positive', sql`${t.amountFen} > 0`),
    uniqueIndex('refunds_order_idempotency').on(t.orderNo, t.idempotencyKey),
    // One refund per second payment, however often it is reported.
    uniqueIndex('refunds_payment_transaction').on(t.paymentTransactionId),
    index('refunds_order').on(t.orderNo),
    // The admin refund list's pages (see orders_created) and the dashboard's refunds today.
    index('refunds_created').on(t.createdAt, t.outRefundNo),
    index('refunds_status_created').on(t.status, t.createdAt, t.outRefundNo),
    index('refunds_settled').on(t.settledAt),
  ],
)
