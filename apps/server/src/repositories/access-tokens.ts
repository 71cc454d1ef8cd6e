import type { AccessToken, AccessTokenStore } from '@fen/wechatpay'
import { eq, lte, sql } from 'drizzle-orm'
import type { Db } from '../db/client'
import { accessTokens } from '../db/schema'

/**
 * The SDK's {@link AccessTokenStore} on PostgreSQL, so every server instance uses one
 * access_token. Newest wins, atomically: the upsert replaces the stored token only when the stored
 * one expires no later than the new one (`WHERE expires_at <= excluded.expires_at`), and the row
 * is read back — whichever token won is what the caller uses. See the SDK's access-token.ts for
 * why that is enough with `stable_token`.
 */
export class DbAccessTokenStore implements AccessTokenStore {
  constructor(private readonly db: Db) {}

  async get(appid: string): Promise<AccessToken | undefined> {
    const [row] = await this.db.select().from(accessTokens).where(eq(accessTokens.appid, appid))
    return row ? { accessToken: row.accessToken, expiresAt: row.expiresAt.getTime() } : undefined
  }

  async save(appid: string, token: AccessToken): Promise<AccessToken> {
    const expiresAt = new Date(token.expiresAt)
    const [won] = await this.db
      .insert(accessTokens)
      .values({ appid, accessToken: token.accessToken, expiresAt, updatedAt: sql`now()` })
      .onConflictDoUpdate({
        target: accessTokens.appid,
        set: { accessToken: token.accessToken, expiresAt, updatedAt: sql`now()` },
        setWhere: lte(accessTokens.expiresAt, expiresAt),
      })
      .returning()
    // Not written: the stored token expires later (another instance's newer one), and it wins.
    const row =
      won ?? (await this.db.select().from(accessTokens).where(eq(accessTokens.appid, appid)))[0]
    return { accessToken: row!.accessToken, expiresAt: row!.expiresAt.getTime() }
  }
}
