import { eq, sql } from 'drizzle-orm'
import type { Db } from '../db/client'
import { users } from '../db/schema'

/** Creates the user on first login, or records another login; returns the user's id. */
export async function upsertUser(
  db: Db,
  u: { openid: string; unionid: string | undefined; sessionKey: string },
): Promise<number> {
  const [row] = await db
    .insert(users)
    .values({ openid: u.openid, unionid: u.unionid ?? null, sessionKey: u.sessionKey })
    .onConflictDoUpdate({
      target: users.openid,
      set: {
        sessionKey: u.sessionKey,
        unionid: sql`coalesce(excluded.unionid, ${users.unionid})`,
        lastLoginAt: sql`now()`,
        loginCount: sql`${users.loginCount} + 1`,
      },
    })
    .returning({ id: users.id })
  return row!.id
}

/**
 * Locks the user's row until the transaction ends (so one shopper's concurrent order creations
 * count their open orders one after another); false when there is no such user.
 */
export async function lockUser(db: Db, id: number): Promise<boolean> {
  const rows = await db.select({ id: users.id }).from(users).where(eq(users.id, id)).for('update')
  return rows.length === 1
}
