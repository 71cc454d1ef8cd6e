import Router from '@koa/router'
import { schemas } from '@fen/shared'
import type { AuthService } from '../services/auth'
import type { OrderService } from '../services/orders'
import type { ShippingService } from '../services/shipping'
import { idempotencyKey, parse, requireUser } from './http'

export function orderRoutes(
  orders: OrderService,
  auth: AuthService,
  shipping: ShippingService,
): Router {
  const r = new Router({ prefix: '/api/orders' })
  r.use(requireUser(auth))
  const orderNo = (v: unknown) => parse(schemas.OrderNo, v)

  r.get('/', async (ctx) => {
    ctx.body = await orders.list(ctx.state.shopper.id)
  })
  r.post('/', async (ctx) => {
    const body = parse(schemas.CreateOrderRequest, ctx.request.body)
    ctx.body = await orders.create(ctx.state.shopper.id, body, idempotencyKey(ctx))
    ctx.status = 201
  })
  r.get('/:orderNo', async (ctx) => {
    ctx.body = await orders.get(ctx.state.shopper.id, orderNo(ctx.params.orderNo))
  })
  r.post('/:orderNo/pay', async (ctx) => {
    const { channel } = parse(schemas.PayRequest, ctx.request.body)
    ctx.body = await orders.pay(ctx.state.shopper, orderNo(ctx.params.orderNo), channel, ctx.ip)
  })
  r.post('/:orderNo/cancel', async (ctx) => {
    ctx.body = await orders.cancel(ctx.state.shopper.id, orderNo(ctx.params.orderNo))
  })
  // The shopper confirmed receipt in wx.openBusinessView: checked with WeChat, never trusted.
  // What the mini-program opens wx.openBusinessView with (the merchant id comes from the server).
  r.get('/:orderNo/confirm-receipt', async (ctx) => {
    ctx.body = await shipping.receiptConfirmation(ctx.state.shopper.id, orderNo(ctx.params.orderNo))
  })
  r.post('/:orderNo/confirm-receipt', async (ctx) => {
    ctx.body = await shipping.confirmReceipt(ctx.state.shopper.id, orderNo(ctx.params.orderNo))
  })
  return r
}
