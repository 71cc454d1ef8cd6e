import Router from '@koa/router'
import { ReconciliationQuery, ReconciliationRunRequest } from '@fen/shared'
import type { ReconciliationService } from '../services/reconciliation'
import { parse, requireAdmin } from './http'

/**
 * `GET /api/admin/reconciliation?date=YYYY-MM-DD`: a Beijing day's stored result (`not_run` when
 * it never ran). `POST /api/admin/reconciliation {date}`: reconciles that day now and answers the
 * new result (a day already reconciled is replaced).
 */
export function reconciliationRoutes(
  reconciliation: ReconciliationService,
  adminToken: string,
): Router {
  const r = new Router({ prefix: '/api/admin/reconciliation' })
  r.use(requireAdmin(adminToken))
  r.get('/', async (ctx) => {
    const { date } = parse(ReconciliationQuery, ctx.query)
    ctx.body = await reconciliation.result(date)
  })
  r.post('/', async (ctx) => {
    const { date } = parse(ReconciliationRunRequest, ctx.request.body)
    ctx.body = await reconciliation.run(date)
  })
  return r
}
