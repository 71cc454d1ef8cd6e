// Shapes of the admin API that @fen/shared does not (yet) export: refund requests are built by
// another part of the server, to the contract in docs/api.md.

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
