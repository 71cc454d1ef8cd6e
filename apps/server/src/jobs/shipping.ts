import { loggable } from '../logger'
import type { ServiceContext } from '../services/context'
import type { ShippingService } from '../services/shipping'

const BATCH = 20

/**
 * The shipping job, one run:
 * - PAID orders of virtual goods only are shipped (logistics_type virtual), never inside the
 *   payment's transaction;
 * - shipping reports WeChat has not accepted yet are uploaded: those just shipped, and those whose
 *   earlier try failed and whose backoff is over (ShippingService.upload);
 * - orders whose receipt is the shop's, shipped `ORDER_AUTO_RECEIVE_DAYS` ago, are received.
 * Safe with several instances: deliveries are claimed with `FOR UPDATE SKIP LOCKED` and a lease,
 * and shipping a virtual order is a compare-and-set PAID → SHIPPED under the order's row lock.
 */
export async function shipOnce(
  ctx: ServiceContext,
  shipping: ShippingService,
): Promise<{
  virtualShipped: number
  uploaded: number
  failed: number
  autoReceived: number
  errors: number
}> {
  let errors = 0
  let virtualShipped = 0
  try {
    virtualShipped = await shipping.shipVirtualOrders(BATCH)
  } catch (e) {
    errors++
    ctx.logger.warn({ err: loggable(e) }, 'shipping job: virtual orders left for the next run')
  }
  const uploads = await shipping.uploadDue(BATCH)
  errors += uploads.errors
  const { uploaded, failed } = uploads
  let autoReceived = 0
  try {
    autoReceived = await shipping.receiveOverdue(BATCH)
  } catch (e) {
    errors++
    ctx.logger.warn({ err: loggable(e) }, 'shipping job: overdue receipts left for the next run')
  }
  return { virtualShipped, uploaded, failed, autoReceived, errors }
}
