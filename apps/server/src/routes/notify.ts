import type Router from '@koa/router'
import type { RouterContext } from '@koa/router'
import { v2NotificationReply, type NotificationReply } from '@fen/wechatpay'
import { AppError } from '../errors'
import { loggable, type Logger } from '../logger'
import type { PaymentService } from '../services/payments'
import { boundedBodies, type BodyLimits } from './bounded-body'
import { apiRouter } from './http'

/**
 * A notification is a few KiB; the limit stays the documented 1 MiB, and what all of them may
 * hold at once is bounded by `maxInFlight` × this.
 */
const NOTIFY_BODY_LIMIT = 1024 * 1024

/**
 * WeChat's notifications. The raw body is read here, never parsed first: verification is over the
 * exact bytes. Any failure of ours (a database error) answers 500, so WeChat retries. Anyone can
 * post here, so what one request may hold is bounded: 1 MiB, read within the body timeout, and
 * at most `maxInFlight` bodies at once (beyond: 503 at once, unread — WeChat retries later).
 */
export function notifyRoutes(payments: PaymentService, logger: Logger, limits: BodyLimits): Router {
  const r = apiRouter('/api/pay')
  const read = boundedBodies('notification', NOTIFY_BODY_LIMIT, limits, logger)
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
      const raw = await read(ctx)
      if (raw === undefined) return e503(ctx, xml)
      send(ctx, await handle(raw))
    } catch (e) {
      // A body we refuse (too large) is the sender's problem: 4xx. Anything else is ours: 500, so
      // WeChat retries once we are well again.
      const status = e instanceof AppError ? e.status : 500
      if (e instanceof AppError && status < 500) {
        logger.info({ code: e.code, detail: e.message }, 'notification body refused')
      } else if (status >= 500) {
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
  const e503 = (ctx: RouterContext, xml: boolean) => {
    ctx.status = 503
    if (xml) {
      ctx.type = 'text/xml'
      ctx.body = v2NotificationReply(false, '系统繁忙')
    } else ctx.body = { code: 'FAIL', message: '系统繁忙' }
  }
  r.post('/notify', (ctx) => guarded(ctx, (raw) => payments.receiveV3(ctx.headers, raw), false))
  r.post('/notify/v2', (ctx) =>
    guarded(ctx, (raw) => payments.receiveV2(raw.toString('utf8')), true),
  )
  return r
}
