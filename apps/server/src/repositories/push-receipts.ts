import { eq, lt } from 'drizzle-orm'
import type { Db } from '../db/client'
import { pushReceipts } from '../db/schema'

/**
 * Records a push (or URL check) by its signature `key`. False when a row for it is there already:
 * the same signed request seen before, on this instance or another — a replay. First deletes the
 * rows signed before `forgetBefore`, pushes too old to be accepted again anyway.
 */
export async function claimPushReceipt(
  db: Db,
  receipt: { key: string; signedAt: Date },
  forgetBefore: Date,
): Promise<boolean> {
  await db.delete(pushReceipts).where(lt(pushReceipts.signedAt, forgetBefore))
  const rows = await db
    .insert(pushReceipts)
    .values(receipt)
    .onConflictDoNothing({ target: pushReceipts.key })
    .returning({ key: pushReceipts.key })
  return rows.length === 1
}

/** Forgets a receipt: the push failed on our side, so WeChat's identical retry must be handled. */
export async function releasePushReceipt(db: Db, key: string): Promise<void> {
  await db.delete(pushReceipts).where(eq(pushReceipts.key, key))
}
