import Router, { type RouterContext } from '@koa/router'
import type { NotificationReply } from '@fen/wechatpay'
import type { Logger } from '../logger'
import type { PaymentService } from '../services/payments'
import { rawBody } from './http'

/**
 * WeChat's notifications. The raw body is read here, never parsed first: verification is over the
 * exact bytes. Any failure of ours (a database error) answers 500, so WeChat retries.
 */
export function notifyRoutes(payments: PaymentService, logger: Logger): Router {
  const r = new Router({ prefix: '/api/pay' })
  const send = (ctx: RouterContext, reply: NotificationReply) => {
    ctx.status = reply.status
    ctx.set(reply.headers)
    ctx.body = reply.body || null
  }
  const guarded = async (
    ctx: RouterContext,
    handle: (raw: Buffer) => Promise<NotificationReply>,
    xml: boolean,
  ) => {
    try {
      send(ctx, await handle(await rawBody(ctx)))
    } catch (e) {
      logger.error(
        { err: (e as Error).message },
        'notification not handled: answering 500 so WeChat retries',
      )
      ctx.status = 500
      if (xml) {
        ctx.type = 'text/xml'
        ctx.body =
          '<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[系统错误]]></return_msg></xml>'
      } else {
        ctx.body = { code: 'FAIL', message: '系统错误' }
      }
    }
  }
  r.post('/notify', (ctx) => guarded(ctx, (raw) => payments.receiveV3(ctx.headers, raw), false))
  r.post('/notify/v2', (ctx) =>
    guarded(ctx, (raw) => payments.receiveV2(raw.toString('utf8')), true),
  )
  return r
}
