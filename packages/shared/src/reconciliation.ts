import { z } from 'zod'

/**
 * Daily reconciliation (对账): one Beijing day's WeChat Pay trade bill against our payments and
 * refunds. `GET /api/admin/reconciliation?date=` and `POST /api/admin/reconciliation {date}`.
 */

/**
 * How a day's reconciliation ended: every row agreed (`matched`); some did not
 * (`discrepancies`); WeChat is still generating the bill (`not_ready`: retried later); WeChat has
 * no bill and we have no payments or refunds that day (`no_bill`); never run (`not_run`).
 */
export const RECONCILIATION_STATUSES = [
  'matched',
  'discrepancies',
  'not_ready',
  'no_bill',
  'not_run',
] as const
export type ReconciliationStatus = (typeof RECONCILIATION_STATUSES)[number]

/**
 * What disagreed: a bill row with no record here (`missing_here`); a record here the bill lacks
 * (`missing_at_wechat`); the amounts differ (`amount_differs`); WeChat says paid or refunded and
 * we say otherwise (`status_differs`); WeChat has no bill for a day we have payments or refunds
 * (`no_statement`); a line of the bill that is not a readable row (`unparseable_row`: its text in
 * `rawLine`).
 */
export const DISCREPANCY_KINDS = [
  'missing_here',
  'missing_at_wechat',
  'amount_differs',
  'status_differs',
  'no_statement',
  'unparseable_row',
] as const
export type DiscrepancyKind = (typeof DISCREPANCY_KINDS)[number]

/** A Beijing calendar day, `YYYY-MM-DD` (2026-02-30 is refused). */
export const BeijingDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, '日期格式应为 YYYY-MM-DD')
  .refine((s) => {
    // An impossible day (2026-02-30) is an Invalid Date or rolls over into the next month.
    const d = new Date(`${s}T00:00:00Z`)
    return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s
  }, '不是有效的日期')

export const ReconciliationQuery = z.object({ date: BeijingDate })
export const ReconciliationRunRequest = z.object({ date: BeijingDate })

/** One disagreement between the bill and our records; amounts in fen. */
export interface Discrepancy {
  kind: DiscrepancyKind
  outTradeNo?: string
  outRefundNo?: string
  transactionId?: string
  /** Our amount (payment or refund), when we have the record. */
  oursFen?: number
  /** WeChat's amount on the bill, when it has the row. */
  theirsFen?: number
  /** An `unparseable_row`'s line of the bill, as WeChat sent it. */
  rawLine?: string
  /** What differs, for the operator. */
  detail: string
}

/** A day's reconciliation as the admin API answers it. */
export interface ReconciliationResult {
  date: string
  status: ReconciliationStatus
  /** When it last ran (ISO); absent when `not_run`. */
  ranAt?: string
  counts: {
    /** Our payments and successful refunds that took part (the day's, and those the bill named). */
    ours: number
    /** Payment and refund rows of the bill. */
    theirs: number
    /** Bill rows that agree with our record. */
    matched: number
    discrepancies: number
  }
  discrepancies: Discrepancy[]
}
