import type { ServiceContext } from '../services/context'
import type { PaymentService } from '../services/payments'
import type { RefundService } from '../services/refunds'

/** A claim lasts this long: long enough for a few WeChat calls, short enough to recover a crash. */
const LEASE_MS = 60_000
const BATCH = 20

/**
 * The sweeper, one run (every 10 s, on every instance):
 * - expired PENDING orders: asked about at WeChat — paid → PAID — else closed at WeChat, then
 *   here, with the stock back (PaymentService.closeExpired);
 * - refunds WeChat has not accepted yet are resubmitted with the same number, and those still
 *   open after a minute are queried (RefundService.checkUnsettled).
 * Safe with several instances on one database: rows are claimed with `FOR UPDATE SKIP LOCKED` and
 * a lease, and every change is a compare-and-set.
 */
export async function sweepOnce(
  ctx: ServiceContext,
  payments: PaymentService,
  refunds: RefundService,
): Promise<{ orders: number; refunds: number; errors: number }> {
  const orders = await payments.closeExpired(BATCH, LEASE_MS)
  const open = await refunds.checkUnsettled(BATCH, LEASE_MS)
  const errors = orders.errors + open.errors
  ctx.metrics.sweeperRuns.inc({ result: errors ? 'partial' : 'ok' })
  return { orders: orders.orders, refunds: open.refunds, errors }
}
