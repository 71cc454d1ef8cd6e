import { sql } from 'drizzle-orm'
import { index, integer, pgTable, serial, text } from 'drizzle-orm/pg-core'
import { ts } from './columns'

/** Shoppers, keyed by their openid under our appid. */
export const users = pgTable(
  'users',
  {
    id: serial('id').primaryKey(),
    openid: text('openid').notNull().unique(),
    /** Present when the app is bound to a WeChat Open Platform account. */
    unionid: text('unionid'),
    /** code2Session's session key: stays on the server, never returned or logged. */
    sessionKey: text('session_key').notNull(),
    loginCount: integer('login_count').notNull().default(1),
    createdAt: ts('created_at').notNull().defaultNow(),
    lastLoginAt: ts('last_login_at').notNull().defaultNow(),
  },
  // The admin order list's openid-suffix filter: a suffix is a prefix of the reversed openid,
  // which a btree with text_pattern_ops finds (`reverse(openid) like 'dcba%'`).
  (t) => [index('users_openid_reversed').on(sql`reverse(${t.openid}) text_pattern_ops`)],
)
