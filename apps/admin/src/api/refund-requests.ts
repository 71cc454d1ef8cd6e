// Refund requests (售后申请): the shoppers' requests, which an operator approves or rejects.
import type { RefundRequestStatus, RefundRequestView } from '@fen/shared'
import { requestClient, segment, type Page } from './request'

const request = (id: number) => `/api/admin/refund-requests/${segment(id)}`

/** `GET /api/admin/refund-requests`: a page of requests, newest first, of one status or all. */
export function listRefundRequests(query: {
  status?: RefundRequestStatus | undefined
  limit?: number
  cursor?: string | undefined
}): Promise<Page<RefundRequestView>> {
  return requestClient.get('/api/admin/refund-requests', query)
}

/** `POST /api/admin/refund-requests/:id/approve`: approves it, which starts its refund. */
export function approveRefundRequest(id: number): Promise<RefundRequestView> {
  return requestClient.post(`${request(id)}/approve`)
}

/** `POST /api/admin/refund-requests/:id/reject`: rejects it, telling the shopper `reason`. */
export function rejectRefundRequest(id: number, reason: string): Promise<RefundRequestView> {
  return requestClient.post(`${request(id)}/reject`, { reason })
}
