// Refunds: the list of every order's refunds (an order's own are in its detail).
import type { AdminRefundPage, RefundStatus } from '@fen/shared'
import { requestClient } from './request'

/** `GET /api/admin/refunds`: a page of refunds, newest first, of one status or all. */
export function listRefunds(query: {
  status?: RefundStatus | undefined
  limit?: number
  cursor?: string | undefined
}): Promise<AdminRefundPage> {
  return requestClient.get('/api/admin/refunds', query)
}
