import { sql } from 'drizzle-orm'
import {
  bigserial,
  boolean,
  check,
  index,
  integer,
  pgTable,
  text,
  uniqueIndex,
} from 'drizzle-orm/pg-core'
import { ts } from './columns'
import { orders } from './orders'
import { users } from './users'

/**
 * The shopper's 申请退款: pending until an operator (or, under REFUND_AUTO_APPROVE_MAX_FEN, the
 * server) approves it — which starts the refund `refund_no` in the same transaction — or rejects
 * it. Each decision is a compare-and-set from pending. An order has at most one pending request.
 */
export const refundRequests = pgTable(
  'refund_requests',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    orderNo: text('order_no')
      .notNull()
      .references(() => orders.orderNo),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id),
    amountFen: integer('amount_fen').notNull(),
    reason: text('reason').notNull(),
    status: text('status').notNull().default('pending'),
    rejectReason: text('reject_reason'),
    /** The refund's `out_refund_no`, set by the approval. */
    refundNo: text('refund_no'),
    automatic: boolean('automatic').notNull().default(false),
    /** A retried POST with the same Idempotency-Key finds this request. */
    idempotencyKey: text('idempotency_key'),
    requestHash: text('request_hash'),
    createdAt: ts('created_at').notNull(),
    decidedAt: ts('decided_at'),
  },
  (t) => [
    check('refund_requests_status', sql`${t.status} in ('pending','approved','rejected')`),
    check('refund_requests_amount_positive', sql`${t.amountFen} > 0`),
    uniqueIndex('refund_requests_one_pending')
      .on(t.orderNo)
      .where(sql`${t.status} = 'pending'`),
    uniqueIndex('refund_requests_order_idempotency').on(t.orderNo, t.idempotencyKey),
    index('refund_requests_status_created').on(t.status, t.createdAt),
    // A shopper's automatic approvals of the last 30 days, read on each (the budget).
    index('refund_requests_user_automatic')
      .on(t.userId, t.decidedAt)
      .where(sql`${t.automatic}`),
  ],
)
