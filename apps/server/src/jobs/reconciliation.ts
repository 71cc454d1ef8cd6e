import type { ReconciliationStatus } from '@fen/shared'
import { formatBeijingTime } from '@fen/wechatpay'
import type { ServiceContext } from '../services/context'
import type { ReconciliationService } from '../services/reconciliation'

/** How often the job looks (it does work at most once a day, plus retries while not ready). */
export const RECONCILIATION_JOB_INTERVAL_MS = 10 * 60_000

/** The Beijing day before the one `now` falls on, `YYYY-MM-DD`. */
export function previousBeijingDay(now: Date): string {
  return formatBeijingTime(now.getTime() - 86_400_000).slice(0, 10)
}

/**
 * The reconciliation job, one run: from RECONCILE_AFTER (Beijing time) on, reconciles yesterday
 * (Beijing) unless that day already has a final result; a `not_ready` day (WeChat still
 * generating the bill) is tried again on each run, and so is a run that failed (WeChat
 * unreachable, a file digest mismatch: nothing was stored). Several instances may run it at
 * once: each run replaces the day's result in one transaction, so the last one stands.
 */
export async function reconcileOnce(
  ctx: ServiceContext,
  reconciliation: ReconciliationService,
): Promise<{ date: string; outcome: 'too_early' | 'already_done' | ReconciliationStatus }> {
  const now = ctx.clock()
  const date = previousBeijingDay(now)
  // `HH:MM` compares as text.
  if (formatBeijingTime(now).slice(11, 16) < ctx.config.reconcile.after)
    return { date, outcome: 'too_early' }
  const stored = await reconciliation.result(date)
  if (stored.status !== 'not_run' && stored.status !== 'not_ready')
    return { date, outcome: 'already_done' }
  return { date, outcome: (await reconciliation.run(date)).status }
}
