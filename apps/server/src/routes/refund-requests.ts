import type Router from '@koa/router'
import { schemas } from '@fen/shared'
import type { AuthService } from '../services/auth'
import type { RefundRequestService } from '../services/refund-requests'
import { apiRouter, idempotencyKey, parse, requireAdmin, requireUser } from './http'

/** 申请退款: the shopper's `/api/orders/:orderNo/refund-requests`. */
export function refundRequestRoutes(requests: RefundRequestService, auth: AuthService): Router {
  const r = apiRouter('/api/orders/:orderNo/refund-requests')
  const shopper = requireUser(auth)
  const orderNo = (v: unknown) => parse(schemas.OrderNo, v)

  r.post('/', shopper, async (ctx) => {
    const body = parse(schemas.CreateRefundRequest, ctx.request.body)
    ctx.body = await requests.create(
      ctx.state.shopper.id,
      orderNo(ctx.params.orderNo),
      body,
      idempotencyKey(ctx),
    )
    ctx.status = 201
  })
  r.get('/', shopper, async (ctx) => {
    ctx.body = await requests.ofOrder(ctx.state.shopper.id, orderNo(ctx.params.orderNo))
  })
  return r
}

/** The operators' side: `/api/admin/refund-requests`, list, approve, reject. */
export function adminRefundRequestRoutes(
  requests: RefundRequestService,
  adminToken: string,
): Router {
  const r = apiRouter('/api/admin/refund-requests')
  const operator = requireAdmin(adminToken)
  const id = (v: unknown) => parse(schemas.RefundRequestId, v)

  r.get('/', operator, async (ctx) => {
    const { status, limit, cursor } = parse(schemas.AdminRefundRequestsQuery, ctx.query)
    ctx.body = await requests.list(status, { limit, cursor })
  })
  r.post('/:id/approve', operator, async (ctx) => {
    ctx.body = await requests.approve(id(ctx.params.id))
  })
  r.post('/:id/reject', operator, async (ctx) => {
    const { reason } = parse(schemas.RejectRefundRequest, ctx.request.body)
    ctx.body = await requests.reject(id(ctx.params.id), reason)
  })
  return r
}
