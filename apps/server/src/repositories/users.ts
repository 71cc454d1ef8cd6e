import { eq, sql } from 'drizzle-orm'
import type { Db } from '../db/client'
import { prepared, preparedQuery } from '../db/prepared'
import { users } from '../db/schema'

/** Creates the user on first login, or records another login; returns the user's id. */
export async function upsertUser(
  db: Db,
  u: { openid: string; unionid: string | undefined; sessionKey: string },
): Promise<number> {
  const [row] = await prepared(db, 'upsert_user', (d) =>
    d
      .insert(users)
      .values({
        openid: sql.placeholder('openid'),
        unionid: sql.placeholder('unionid'),
        sessionKey: sql.placeholder('sessionKey'),
      })
      .onConflictDoUpdate({
        target: users.openid,
        set: {
          sessionKey: sql`excluded.session_key`,
          unionid: sql`coalesce(excluded.unionid, ${users.unionid})`,
          lastLoginAt: sql`now()`,
          loginCount: sql`${users.loginCount} + 1`,
        },
      })
      .returning({ id: users.id }),
  ).execute({ openid: u.openid, unionid: u.unionid ?? null, sessionKey: u.sessionKey })
  return row!.id
}

/** The openid of user `id` (every signed-in request reads it), or undefined. */
export async function findUserOpenid(db: Db, id: number): Promise<string | undefined> {
  const [row] = await prepared(db, 'find_user_openid', (d) =>
    d
      .select({ openid: users.openid })
      .from(users)
      .where(eq(users.id, sql.placeholder('id'))),
  ).execute({ id })
  return row?.openid
}

/**
 * Locks the user's row until the transaction ends (so one shopper's concurrent order creations
 * count their open orders one after another); false when there is no such user.
 */
export async function lockUser(db: Db, id: number): Promise<boolean> {
  const rows = await preparedQuery(
    db,
    'lock_user',
    'select id from users where id = $1 for update',
    [id],
  )
  return rows.length === 1
}
