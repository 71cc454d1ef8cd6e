import Router, { type RouterContext } from '@koa/router'
import { v2NotificationReply, type NotificationReply } from '@fen/wechatpay'
import { AppError } from '../errors'
import { loggable, type Logger } from '../logger'
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
      // A body we refuse (too large) is the sender's problem: 4xx. Anything else is ours: 500, so
      // WeChat retries once we are well again.
      const status = e instanceof AppError ? e.status : 500
      if (status >= 500) {
        logger.error(
          { err: loggable(e) },
          'notification not handled: answering 500 so WeChat retries',
        )
      }
      ctx.status = status
      if (xml) {
        ctx.type = 'text/xml'
        ctx.body = v2NotificationReply(false, '系统错误')
      } else {
        ctx.body =
          e instanceof AppError
            ? { code: e.code, message: e.message }
            : { code: 'FAIL', message: '系统错误' }
      }
    }
  }
  r.post('/notify', (ctx) => guarded(ctx, (raw) => payments.receiveV3(ctx.headers, raw), false))
  r.post('/notify/v2', (ctx) =>
    guarded(ctx, (raw) => payments.receiveV2(raw.toString('utf8')), true),
  )
  return r
}
