import { claimExpiredOrders } from '../repositories/orders'
import { loggable } from '../logger'
import { claimUnsettledRefunds, deferRefund, findRefund } from '../repositories/refunds'
import type { ServiceContext } from '../services/context'
import type { PaymentService } from '../services/payments'
import type { RefundService } from '../services/refunds'

/** A claim lasts this long: long enough for a few WeChat calls, short enough to recover a crash. */
const LEASE_MS = 60_000
const BATCH = 20
/** A refund with no notification after this long is queried (or resubmitted, if never accepted). */
const REFUND_QUERY_AFTER_MS = 60_000
/** An ABNORMAL refund is asked about again after this long. */
const ABNORMAL_RECHECK_MS = 3600_000

/**
 * The sweeper, one run:
 * - expired PENDING orders: ask WeChat first — paid → PAID; otherwise close at WeChat, then here,
 *   with the stock back;
 * - refunds WeChat has not accepted yet (SUBMITTING) are resubmitted with the same number, and
 *   refunds still PROCESSING after a minute are queried.
 * Safe with several instances on one database: rows are claimed with `FOR UPDATE SKIP LOCKED` and
 * a lease, and every change is a compare-and-set.
 */
export async function sweepOnce(
  ctx: ServiceContext,
  payments: PaymentService,
  refunds: RefundService,
): Promise<{ orders: number; refunds: number; errors: number }> {
  const now = ctx.clock()
  let errors = 0
  const expired = await claimExpiredOrders(ctx.db, now, LEASE_MS, BATCH)
  for (const order of expired) {
    try {
      await payments.sync(order.orderNo) // paid after all? then it is PAID now, and close() does nothing
      const result = await payments.close(order.orderNo, '超时未支付')
      ctx.metrics.sweeperActions.inc({
        action: result === 'closed' ? 'closed' : result === 'paid' ? 'found_paid' : 'unchanged',
      })
    } catch (e) {
      errors++
      ctx.logger.warn(
        { orderNo: order.orderNo, err: loggable(e) },
        'sweeper: order left for the next run',
      )
    }
  }
  const open = await claimUnsettledRefunds(ctx.db, now, REFUND_QUERY_AFTER_MS, LEASE_MS, BATCH)
  for (const r of open) {
    try {
      await refunds.sync(r.outRefundNo)
      if ((await findRefund(ctx.db, r.outRefundNo))?.status === 'ABNORMAL') {
        // Waits for a person in 商户平台: ask WeChat again in an hour, not every run.
        await deferRefund(
          ctx.db,
          r.outRefundNo,
          new Date(ctx.clock().getTime() + ABNORMAL_RECHECK_MS),
        )
      }
      ctx.metrics.sweeperActions.inc({
        action: r.status === 'SUBMITTING' ? 'refund_resubmitted' : 'refund_queried',
      })
    } catch (e) {
      errors++
      ctx.logger.warn(
        { outRefundNo: r.outRefundNo, err: loggable(e) },
        'sweeper: refund left for the next run',
      )
    }
  }
  ctx.metrics.sweeperRuns.inc({ result: errors ? 'partial' : 'ok' })
  return { orders: expired.length, refunds: open.length, errors }
}
