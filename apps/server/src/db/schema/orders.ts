import { sql } from 'drizzle-orm'
import type { Address } from '@fen/shared'
import {
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  serial,
  text,
  uniqueIndex,
} from 'drizzle-orm/pg-core'
import { ts } from './columns'
import { products } from './products'
import { users } from './users'

/**
 * Orders. `order_no` is WeChat's `out_trade_no`. Every status change is a compare-and-set
 * (`UPDATE … WHERE status = …`), never a read-then-write.
 */
export const orders = pgTable(
  'orders',
  {
    orderNo: text('order_no').primaryKey(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id),
    status: text('status').notNull(),
    totalFen: integer('total_fen').notNull(),
    refundedFen: integer('refunded_fen').notNull().default(0),
    /** Which WeChat Pay API the order was prepaid through: its queries and closes follow. */
    apiVersion: text('api_version').notNull(),
    /** The channel of the first prepay (jsapi or native); a second channel is refused. */
    channel: text('channel'),
    prepayId: text('prepay_id'),
    codeUrl: text('code_url'),
    prepayExpiresAt: ts('prepay_expires_at'),
    transactionId: text('transaction_id').unique(),
    createdAt: ts('created_at').notNull().defaultNow(),
    expiresAt: ts('expires_at').notNull(),
    paidAt: ts('paid_at'),
    closedAt: ts('closed_at'),
    /** Why it closed: cancelled by the shopper, or expired. */
    closeReason: text('close_reason'),
    /**
     * When WeChat reported receipt confirmed (push or get_order). Set once; it stays when a later
     * after-sales refund changes the status (see recomputeRefundState).
     */
    completedAt: ts('completed_at'),
    /** When we last asked WeChat about this order (GET sync, sweeper). */
    lastSyncedAt: ts('last_synced_at'),
    /** A sweeper instance holds the order until then (see jobs/sweeper.ts). */
    leaseUntil: ts('lease_until'),
    idempotencyKey: text('idempotency_key'),
    /** A digest of the create request, to tell a retry from a reuse of the key. */
    requestHash: text('request_hash'),
    /** Where an express order goes; its phone, masked, is the shipping report's contact. */
    address: jsonb('address').$type<Address>(),
    /** express or pickup (the shopper's choice at checkout). */
    deliveryMethod: text('delivery_method').notNull().default('pickup'),
    remark: text('remark'),
    /**
     * Every line is a virtual product (is_virtual when the order was created): the shipping job
     * ships such an order itself once it is PAID. Decided at creation, like the prices, so the job
     * finds its orders through a small partial index instead of reading every PAID order's lines.
     */
    virtualGoods: boolean('virtual_goods').notNull().default(false),
  },
  (t) => [
    check(
      'orders_status',
      sql`${t.status} in ('PENDING','PAID','CLOSED','REFUNDING','PARTIALLY_REFUNDED','REFUNDED','SHIPPED','COMPLETED')`,
    ),
    check('orders_total_positive', sql`${t.totalFen} > 0`),
    check(
      'orders_refunded_range',
      sql`${t.refundedFen} >= 0 and ${t.refundedFen} <= ${t.totalFen}`,
    ),
    check('orders_api_version', sql`${t.apiVersion} in ('v3','v2')`),
    check('orders_delivery_method', sql`${t.deliveryMethod} in ('express','pickup')`),
    uniqueIndex('orders_user_idempotency').on(t.userId, t.idempotencyKey),
    index('orders_user_created').on(t.userId, t.createdAt),
    // Partial indexes hold only the rows their job looks for, so an order turning PAID adds no
    // entry to them (every status change is a non-HOT update: status is indexed).
    index('orders_pending_expires')
      .on(t.expiresAt)
      .where(sql`${t.status} = 'PENDING'`),
    // A shopper's unpaid orders, counted on every create (ORDER_MAX_OPEN_PER_USER): without it the
    // count read all of a regular shopper's orders through orders_user_created.
    index('orders_user_pending')
      .on(t.userId)
      .where(sql`${t.status} = 'PENDING'`),
    index('orders_paid_virtual')
      .on(t.paidAt)
      .where(sql`${t.status} = 'PAID' and ${t.virtualGoods}`),
    // The admin list's pages (newest first, keyset on created_at then order_no), with and
    // without a status filter.
    index('orders_created').on(t.createdAt, t.orderNo),
    index('orders_status_created').on(t.status, t.createdAt, t.orderNo),
  ],
)

/**
 * The lines of an order, priced (and pictured) when it was created. One product is on several
 * lines only with different specs: `spec_label` (the chosen options joined by '/', '' without
 * specs) is part of the unique key.
 */
export const orderItems = pgTable(
  'order_items',
  {
    id: serial('id').primaryKey(),
    orderNo: text('order_no')
      .notNull()
      .references(() => orders.orderNo),
    productId: integer('product_id')
      .notNull()
      .references(() => products.id),
    title: text('title').notNull(),
    unitPriceFen: integer('unit_price_fen').notNull(),
    quantity: integer('quantity').notNull(),
    imageUrl: text('image_url'),
    /** The chosen spec by name, every spec of the product filled in; null: it has none. */
    spec: jsonb('spec').$type<Record<string, string>>(),
    specLabel: text('spec_label').notNull().default(''),
  },
  (t) => [
    uniqueIndex('order_items_line').on(t.orderNo, t.productId, t.specLabel),
    check('order_items_quantity', sql`${t.quantity} > 0`),
  ],
)

/** Payments as WeChat reported them (one per order, normally). */
export const payments = pgTable(
  'payments',
  {
    transactionId: text('transaction_id').primaryKey(),
    orderNo: text('order_no')
      .notNull()
      .references(() => orders.orderNo),
    amountFen: integer('amount_fen').notNull(),
    payerOpenid: text('payer_openid'),
    paidAt: ts('paid_at').notNull(),
    /** notify or query */
    source: text('source').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  // The dashboard's money paid today.
  (t) => [index('payments_paid_at').on(t.paidAt)],
)
