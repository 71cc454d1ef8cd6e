import { sql } from 'drizzle-orm'
import {
  bigint,
  bigserial,
  check,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
} from 'drizzle-orm/pg-core'
import { ts } from './columns'

/**
 * The result of each Beijing day's reconciliation (services/reconciliation.ts): one row per day,
 * replaced with its discrepancies and bill files in one transaction when the day is run again.
 * `not_run` is never stored: it is the absence of a row.
 */
export const reconciliations = pgTable(
  'reconciliations',
  {
    /** The Beijing day, `YYYY-MM-DD` (WeChat's `bill_date`). */
    billDate: text('bill_date').primaryKey(),
    status: text('status').notNull(),
    ranAt: ts('ran_at').notNull(),
    oursCount: integer('ours_count').notNull(),
    theirsCount: integer('theirs_count').notNull(),
    matchedCount: integer('matched_count').notNull(),
  },
  (t) => [
    check(
      'reconciliations_status',
      sql`${t.status} in ('matched','discrepancies','not_ready','no_bill')`,
    ),
    index('reconciliations_ran_at').on(t.ranAt),
  ],
)

/** What one day's reconciliation found: a bill row and our record disagreeing. */
export const reconciliationDiscrepancies = pgTable(
  'reconciliation_discrepancies',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    billDate: text('bill_date')
      .notNull()
      .references(() => reconciliations.billDate, { onDelete: 'cascade' }),
    kind: text('kind').notNull(),
    outTradeNo: text('out_trade_no'),
    outRefundNo: text('out_refund_no'),
    transactionId: text('transaction_id'),
    // bigint: a bill row may bill more than int4 holds (2,147,483,648 fen), and must still be stored.
    oursFen: bigint('ours_fen', { mode: 'number' }),
    theirsFen: bigint('theirs_fen', { mode: 'number' }),
    detail: text('detail').notNull(),
    /** An `unparseable_row`'s line of the bill, as WeChat sent it. */
    rawLine: text('raw_line'),
  },
  (t) => [
    check(
      'reconciliation_discrepancies_kind',
      sql`${t.kind} in ('missing_here','missing_at_wechat','amount_differs','status_differs','no_statement','unparseable_row')`,
    ),
    index('reconciliation_discrepancies_day').on(t.billDate),
  ],
)

/**
 * The bill files a reconciliation downloaded, as WeChat sent them (decompressed CSV text, its
 * SHA1 checked): the trade bill (`trade_all`) it compared, and the BASIC account's fund-flow bill
 * (`fund_flow_basic`), kept for the accountant. Kept as text rather than parsed rows: it is the
 * evidence of what WeChat said, its digest can be checked again, and a parser fix re-reads it.
 * A day's files are replaced with its result.
 */
export const billFiles = pgTable(
  'bill_files',
  {
    billDate: text('bill_date')
      .notNull()
      .references(() => reconciliations.billDate, { onDelete: 'cascade' }),
    kind: text('kind').notNull(),
    sha1: text('sha1').notNull(),
    content: text('content').notNull(),
    downloadedAt: ts('downloaded_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.billDate, t.kind] }),
    check('bill_files_kind', sql`${t.kind} in ('trade_all','fund_flow_basic')`),
  ],
)
