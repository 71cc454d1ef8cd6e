// Shapes of the admin API that @fen/shared does not (yet) export: refund requests and
// reconciliation are built by other parts of the server, to the contract in docs/api.md.

export type Page<T> = { items: T[]; nextCursor: string | null }

export interface RefundRequestView {
  id: number
  orderNo: string
  amountFen: number
  reason: string
  status: 'pending' | 'approved' | 'rejected'
  rejectReason?: string
  refundNo?: string
  createdAt: string
  decidedAt?: string
}

export type DiscrepancyKind =
  'missing_here' | 'missing_at_wechat' | 'amount_differs' | 'status_differs' | 'no_statement'

export interface Discrepancy {
  kind: DiscrepancyKind
  outTradeNo?: string
  outRefundNo?: string
  transactionId?: string
  oursFen?: number
  theirsFen?: number
  detail: string
}

export interface ReconciliationResult {
  date: string
  status: 'matched' | 'discrepancies' | 'not_ready' | 'no_bill' | 'not_run'
  ranAt?: string
  counts: { ours: number; theirs: number; matched: number; discrepancies: number }
  discrepancies: Discrepancy[]
}
