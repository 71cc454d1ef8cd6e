import type Router from '@koa/router'
import { ReconciliationQuery, ReconciliationRunRequest } from '@fen/shared'
import type { ReconciliationService } from '../services/reconciliation'
import { apiRouter, parse, requireAdmin } from './http'

/**
 * `GET /api/admin/reconciliation?date=YYYY-MM-DD`: a Beijing day's stored result (`not_run` when
 * it never ran). `POST /api/admin/reconciliation {date}`: reconciles that day now and answers the
 * new result (a day already reconciled is replaced).
 */
export function reconciliationRoutes(
  reconciliation: ReconciliationService,
  adminToken: string,
): Router {
  const r = apiRouter('/api/admin/reconciliation')
  const operator = requireAdmin(adminToken)
  r.get('/', operator, async (ctx) => {
    const { date } = parse(ReconciliationQuery, ctx.query)
    ctx.body = await reconciliation.result(date)
  })
  r.post('/', operator, async (ctx) => {
    const { date } = parse(ReconciliationRunRequest, ctx.request.body)
    ctx.body = await reconciliation.run(date)
  })
  return r
}
