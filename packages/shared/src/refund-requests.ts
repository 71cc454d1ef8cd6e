import { z } from 'zod'
import { fen, isoTime, text } from './fields'

/**
 * A shopper's 申请退款 (issue #13): a request the operator approves (which starts the refund) or
 * rejects; small ones may be approved at once (`REFUND_AUTO_APPROVE_MAX_FEN`). Re-exported by
 * schemas.ts.
 */

export const REFUND_REQUEST_STATUSES = ['pending', 'approved', 'rejected'] as const
export type RefundRequestStatus = (typeof REFUND_REQUEST_STATUSES)[number]

/**
 * `POST /api/orders/:orderNo/refund-requests`. `amountFen` defaults to what is left refundable.
 * The reason becomes the refund's reason at WeChat, which shows it to the shopper (≤ 80).
 */
export const CreateRefundRequest = z.object({
  amountFen: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
  reason: text(80),
})
export type CreateRefundRequest = z.infer<typeof CreateRefundRequest>

/** `POST /api/admin/refund-requests/:id/reject`: why, shown to the shopper. */
export const RejectRefundRequest = z.object({ reason: text(80) })
export type RejectRefundRequest = z.infer<typeof RejectRefundRequest>

export const RefundRequestView = z.object({
  id: z.number().int().positive(),
  orderNo: z.string(),
  amountFen: fen,
  reason: z.string(),
  status: z.enum(REFUND_REQUEST_STATUSES),
  rejectReason: z.string().optional(),
  /** The refund an approval started (`out_refund_no`): its progress is the order's refund. */
  refundNo: z.string().optional(),
  /** Approved at once, under `REFUND_AUTO_APPROVE_MAX_FEN`, not by an operator. */
  automatic: z.literal(true).optional(),
  createdAt: isoTime,
  decidedAt: isoTime.optional(),
})
export type RefundRequestView = z.infer<typeof RefundRequestView>

/** `GET /api/admin/refund-requests?status=&limit=`: newest first. */
export const AdminRefundRequestsQuery = z.object({
  status: z.enum(REFUND_REQUEST_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
})

/** A refund request's id in a path. */
export const RefundRequestId = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER)
