import type Router from '@koa/router'
import { schemas } from '@fen/shared'
import type { AuthService } from '../services/auth'
import type { OrderService } from '../services/orders'
import type { ShippingService } from '../services/shipping'
import { apiRouter, idempotencyKey, parse, requireUser } from './http'

export function orderRoutes(
  orders: OrderService,
  auth: AuthService,
  shipping: ShippingService,
): Router {
  const r = apiRouter('/api/orders')
  const shopper = requireUser(auth)
  const orderNo = (v: unknown) => parse(schemas.OrderNo, v)

  r.get('/', shopper, async (ctx) => {
    ctx.body = await orders.list(ctx.state.shopper.id)
  })
  r.post('/', shopper, async (ctx) => {
    const body = parse(schemas.CreateOrderRequest, ctx.request.body)
    ctx.body = await orders.create(ctx.state.shopper.id, body, idempotencyKey(ctx))
    ctx.status = 201
  })
  r.get('/:orderNo', shopper, async (ctx) => {
    ctx.body = await orders.get(ctx.state.shopper.id, orderNo(ctx.params.orderNo))
  })
  r.post('/:orderNo/pay', shopper, async (ctx) => {
    const { channel } = parse(schemas.PayRequest, ctx.request.body)
    ctx.body = await orders.pay(ctx.state.shopper, orderNo(ctx.params.orderNo), channel, ctx.ip)
  })
  r.post('/:orderNo/cancel', shopper, async (ctx) => {
    ctx.body = await orders.cancel(ctx.state.shopper.id, orderNo(ctx.params.orderNo))
  })
  // The shopper confirmed receipt in wx.openBusinessView: checked with WeChat, never trusted.
  // What the mini-program opens wx.openBusinessView with (the merchant id comes from the server).
  r.get('/:orderNo/confirm-receipt', shopper, async (ctx) => {
    ctx.body = await shipping.receiptConfirmation(ctx.state.shopper.id, orderNo(ctx.params.orderNo))
  })
  r.post('/:orderNo/confirm-receipt', shopper, async (ctx) => {
    ctx.body = await shipping.confirmReceipt(ctx.state.shopper.id, orderNo(ctx.params.orderNo))
  })
  return r
}
