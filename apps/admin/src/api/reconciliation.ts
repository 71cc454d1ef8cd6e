// Reconciliation: a Beijing day's WeChat Pay bill against our orders and refunds.
import type { ReconciliationResult } from '@fen/shared'
import { requestClient } from './request'

/** `GET /api/admin/reconciliation?date=`: the day's stored result (`not_run` when it never ran). */
export function getReconciliation(date: string): Promise<ReconciliationResult> {
  return requestClient.get('/api/admin/reconciliation', { date })
}

/** `POST /api/admin/reconciliation`: reconciles the day now and answers the new result. */
export function runReconciliation(date: string): Promise<ReconciliationResult> {
  return requestClient.post('/api/admin/reconciliation', { date })
}
