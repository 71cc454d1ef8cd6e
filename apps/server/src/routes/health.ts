import type Router from '@koa/router'
import type { Database } from '../db/client'
import type { Metrics } from '../metrics'
import { apiRouter, requireAdmin } from './http'

/** `/healthz` and `/readyz` are open (load balancers); `/metrics` needs the admin token. */
export function healthRoutes(database: Database, metrics: Metrics, adminToken: string): Router {
  const r = apiRouter()
  r.get('/healthz', (ctx) => {
    ctx.body = { ok: true }
  })
  r.get('/readyz', async (ctx) => {
    try {
      await database.ping()
      ctx.body = { ok: true, database: database.kind }
    } catch {
      ctx.status = 503
      ctx.body = { ok: false, database: 'unreachable' }
    }
  })
  r.get('/metrics', requireAdmin(adminToken), async (ctx) => {
    ctx.type = metrics.registry.contentType
    ctx.body = await metrics.registry.metrics()
  })
  return r
}
