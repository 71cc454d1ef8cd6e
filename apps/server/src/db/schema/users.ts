import { integer, pgTable, serial, text, timestamp } from 'drizzle-orm/pg-core'

/** Shoppers, keyed by their openid under our appid. */
export const users = pgTable('users', {
  id: serial('id').primaryKey(),
  openid: text('openid').notNull().unique(),
  /** Present when the app is bound to a WeChat Open Platform account. */
  unionid: text('unionid'),
  /** code2Session's session key: stays on the server, never returned or logged. */
  sessionKey: text('session_key').notNull(),
  loginCount: integer('login_count').notNull().default(1),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  lastLoginAt: timestamp('last_login_at', { withTimezone: true }).notNull().defaultNow(),
})
