import type Router from '@koa/router'
import { schemas, type DeliveryCompanyList } from '@fen/shared'
import type { AdminService } from '../services/admin'
import type { DeliveryCompanies } from '../services/delivery-companies'
import { apiRouter, idempotencyKey, parse, requireAdmin } from './http'

export function adminRoutes(
  admin: AdminService,
  deliveryCompanies: DeliveryCompanies,
  adminToken: string,
): Router {
  const r = apiRouter('/api/admin')
  const operator = requireAdmin(adminToken)
  const orderNo = (v: unknown) => parse(schemas.OrderNo, v)

  r.get('/orders', operator, async (ctx) => {
    const { limit, cursor, ...filter } = parse(schemas.AdminOrdersQuery, ctx.query)
    ctx.body = await admin.orders(filter, { limit, cursor })
  })
  r.get('/orders/:orderNo', operator, async (ctx) => {
    ctx.body = await admin.order(orderNo(ctx.params.orderNo))
  })
  r.post('/orders/:orderNo/refunds', operator, async (ctx) => {
    const { amountFen, reason } = parse(schemas.AdminRefundRequest, ctx.request.body)
    ctx.body = await admin.refund(
      orderNo(ctx.params.orderNo),
      amountFen,
      reason,
      idempotencyKey(ctx),
    )
    ctx.status = 201
  })
  r.post('/orders/:orderNo/ship', operator, async (ctx) => {
    const body = parse(schemas.ShipOrderRequest, ctx.request.body)
    ctx.body = await admin.ship(orderNo(ctx.params.orderNo), body)
  })
  r.post('/orders/:orderNo/sync', operator, async (ctx) => {
    ctx.body = await admin.sync(orderNo(ctx.params.orderNo))
  })
  r.get('/events', operator, async (ctx) => {
    const { orderNo, limit, cursor } = parse(schemas.AdminEventsQuery, ctx.query)
    ctx.body = await admin.events(orderNo, { limit, cursor })
  })
  r.get('/refunds', operator, async (ctx) => {
    const { status, limit, cursor } = parse(schemas.AdminRefundsQuery, ctx.query)
    ctx.body = await admin.refundList(status, { limit, cursor })
  })
  r.get('/delivery-companies', operator, async (ctx) => {
    ctx.body = { items: await deliveryCompanies.list() } satisfies DeliveryCompanyList
  })
  r.get('/summary', operator, async (ctx) => {
    ctx.body = await admin.summary()
  })
  r.post('/events/:id/redeliver', operator, async (ctx) => {
    ctx.body = await admin.redeliver(parse(schemas.EventId, ctx.params.id))
    ctx.status = 202
  })
  return r
}
