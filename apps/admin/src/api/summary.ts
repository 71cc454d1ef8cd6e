// The dashboard's figures, and the sign-in page's check of a token.
import type { AdminSummary } from '@fen/shared'
import { requestClient } from './request'

/** `GET /api/admin/summary`: today's figures, orders by status, backlogs, the last reconciliation. */
export function getSummary(): Promise<AdminSummary> {
  return requestClient.get('/api/admin/summary')
}

/**
 * Tries `candidate` as the admin token (on the summary) without keeping it: resolves when the
 * server accepts it, rejects with its ApiError (401 for a wrong token) otherwise.
 */
export async function tryAdminToken(candidate: string): Promise<void> {
  await requestClient.request('/api/admin/summary', { bearer: candidate })
}
