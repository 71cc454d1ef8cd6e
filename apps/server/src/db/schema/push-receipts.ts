import { index, pgTable, text } from 'drizzle-orm/pg-core'
import { ts } from './columns'

/**
 * The message pushes (and URL checks) received in the last few minutes, by their signature: a
 * push is signed over its timestamp and refused once that is 5 minutes old, so within those
 * minutes a captured push sent again finds its row here and changes nothing. Shared by every
 * instance on the database; rows older than the window are deleted as new ones come.
 */
export const pushReceipts = pgTable(
  'push_receipts',
  {
    /** `push:<msg_signature>` or `url:<signature>`. */
    key: text('key').primaryKey(),
    /** The push's own timestamp (WeChat's clock): the row is needed until it is out of the window. */
    signedAt: ts('signed_at').notNull(),
    receivedAt: ts('received_at').notNull().defaultNow(),
  },
  (t) => [index('push_receipts_signed_at').on(t.signedAt)],
)
