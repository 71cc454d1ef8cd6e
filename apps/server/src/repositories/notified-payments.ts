import type { EventPayload } from '@fen/shared'
import type { Db } from '../db/client'
import { preparedQuery } from '../db/prepared'

/** A verified payment notification whose appid and mchid the caller has checked against ours. */
export interface NotifiedPayment {
  notificationId: string
  eventType: string
  orderNo: string
  transactionId: string
  totalFen: number
  payerOpenid: string | null
  paidAt: Date
  /** APIv2 notifications may only pay orders prepaid through APIv2. */
  api: 'v3' | 'v2'
  /** The app clock's now: the outbox event's due time. */
  at: Date
}

/**
 * What the one statement did: `paid` — the order went PENDING → PAID with its payment, the
 * notification and the `order.paid` event, all in that statement; `seen` — the notification was
 * stored before (a retry: nothing was written); `neither` — the common case did not apply (an
 * unknown order, a mismatch, an order already paid or closed, a transaction we know): the caller
 * takes the careful path, which decides and records why.
 */
export type NotifiedPaymentResult =
  { kind: 'paid' } | { kind: 'seen'; outcome: string } | { kind: 'neither' }

/**
 * The common case of a payment notification in ONE statement (one round trip, its own
 * transaction): the first delivery for a PENDING order whose amount, API and transaction all
 * agree. Every sub-statement sees the same snapshot, and the inserts happen only when the UPDATE
 * did, so it is all or nothing like the careful path's transaction. The UPDATE is the
 * compare-and-set: a concurrent payment of the same order waits on the row lock, re-checks
 * `status = 'PENDING'` and matches nothing. A retry of a stored notification reads one row and
 * writes none (the UPDATE's `not exists` fails first). A transaction id already recorded for
 * another order is left to the careful path; one recorded by a racing statement fails the payments
 * primary key, the statement rolls back, and the route answers 500 so WeChat retries.
 */
export async function applyNotifiedPayment(
  db: Db,
  p: NotifiedPayment,
): Promise<NotifiedPaymentResult> {
  const [row] = await preparedQuery<{ paid: number; prior: string | null }>(
    db,
    'apply_notified_payment',
    APPLY_NOTIFIED_PAYMENT,
    [
      p.notificationId,
      p.orderNo,
      p.transactionId,
      p.totalFen,
      p.payerOpenid,
      p.paidAt,
      p.api,
      p.eventType,
      p.at,
    ],
  )
  if (row?.paid === 1) return { kind: 'paid' }
  if (row?.prior) return { kind: 'seen', outcome: row.prior }
  return { kind: 'neither' }
}

/**
 * `order.paid`'s payload as columns of the paid order's row (the `paid` CTE returns them). Typed by
 * the event contract: a payload field without a column here fails to compile, so this path and
 * the domain's `orderPaidPayload` (domain/orders.ts) write the same event.
 */
const ORDER_PAID_COLUMNS = {
  orderNo: 'order_no',
  userId: 'user_id',
  totalFen: 'total_fen',
  transactionId: 'transaction_id',
} as const satisfies Record<keyof EventPayload<'order.paid'>, string>

/**
 * $1 notification id, $2 order_no, $3 transaction id, $4 total_fen, $5 payer openid, $6 paid at,
 * $7 api ('v3' | 'v2'), $8 event type, $9 the app clock's now. Constant text: a prepared statement.
 */
const APPLY_NOTIFIED_PAYMENT = `
  with prior as (
    select outcome from notifications where id = $1
  ), paid as (
    update orders set status = 'PAID', transaction_id = $3, paid_at = $6
    where order_no = $2
      and status = 'PENDING'
      and total_fen = $4
      and transaction_id is null
      and ($7::text = 'v3' or api_version = 'v2')
      and not exists (select 1 from prior)
      and not exists (select 1 from payments where transaction_id = $3)
    returning order_no, user_id, total_fen, transaction_id
  ), payment as (
    insert into payments (transaction_id, order_no, amount_fen, payer_openid, paid_at, source)
    select $3, order_no, total_fen, $5, $6, 'notify' from paid
  ), notification as (
    insert into notifications (id, event_type, order_no, outcome)
    select $1, $8, order_no, 'applied' from paid
  ), event as (
    -- the order.paid payload the domain's pay() writes too
    insert into outbox_events (type, order_no, dedupe_key, payload, created_at, next_attempt_at)
    select 'order.paid', order_no, order_no,
      jsonb_build_object(${Object.entries(ORDER_PAID_COLUMNS)
        .map(([field, column]) => `'${field}', ${column}`)
        .join(', ')}),
      $9, $9
    from paid
    on conflict do nothing
  )
  select (select count(*) from paid)::int as paid, (select outcome from prior) as prior`
