import { sql } from 'drizzle-orm'
import { boolean, check, index, integer, pgTable, text } from 'drizzle-orm/pg-core'
import { ts } from './columns'
import { orders } from './orders'

/**
 * How each shipped order was delivered (one row per order: we ship in one parcel, WeChat's
 * 统一发货), and the state of its report to WeChat (`upload_shipping_info`). The row is written in
 * the transaction that marks the order SHIPPED; the upload happens after it and, while it fails,
 * is retried by the shipping job (jobs/shipping.ts) until WeChat accepts it or refuses it for good.
 */
export const deliveries = pgTable(
  'deliveries',
  {
    orderNo: text('order_no')
      .primaryKey()
      .references(() => orders.orderNo),
    /** express, same_city, virtual or pickup (WeChat's logistics_type 1–4). */
    logisticsType: text('logistics_type').notNull(),
    /** WeChat's `delivery_id` of the carrier (express only). */
    expressCompany: text('express_company'),
    /** The carrier's name on WeChat's list when shipped (顺丰速运), for the shop to show. */
    expressCompanyName: text('express_company_name'),
    trackingNo: text('tracking_no'),
    itemDesc: text('item_desc').notNull(),
    /** The shopper's phone with all but the last 4 digits masked; never the full number. */
    contactMasked: text('contact_masked'),
    shippedAt: ts('shipped_at').notNull(),
    /**
     * Whether the delivery is reported to WeChat's shipping management at all: only for
     * mini-program (JSAPI) payments, which it covers (`reportsShipping` in packages/shared). Others
     * are never uploaded, and their receipt is the shop's own (see domain/orders.ts).
     */
    reportToWechat: boolean('report_to_wechat').notNull().default(true),
    /** When WeChat accepted the shipping report. */
    uploadedAt: ts('uploaded_at'),
    uploadAttempts: integer('upload_attempts').notNull().default(0),
    lastUploadError: text('last_upload_error'),
    /** The next upload try is due then (the app clock's time). */
    nextUploadAt: ts('next_upload_at').notNull(),
    /** One uploader holds the row until then (see claimDueUploads). */
    uploadLeaseUntil: ts('upload_lease_until'),
    /** WeChat refused the report for good (e.g. 10060004, refunded): a person must look. */
    uploadGaveUpAt: ts('upload_gave_up_at'),
  },
  (t) => [
    check(
      'deliveries_logistics_type',
      sql`${t.logisticsType} in ('express','same_city','virtual','pickup')`,
    ),
    index('deliveries_pending_upload').on(t.uploadedAt, t.nextUploadAt),
  ],
)

/**
 * The mini-program's access_token, one row per appid, shared by every server instance (the SDK's
 * `AccessTokenStore`, "newest wins": see repositories/access-tokens.ts). Holds a live credential:
 * never logged, never returned by the API.
 */
export const accessTokens = pgTable('access_tokens', {
  appid: text('appid').primaryKey(),
  accessToken: text('access_token').notNull(),
  expiresAt: ts('expires_at').notNull(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
})
