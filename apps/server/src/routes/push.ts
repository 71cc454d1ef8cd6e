import type Router from '@koa/router'
import type { RouterContext } from '@koa/router'
import { AppError } from '../errors'
import { loggable, type Logger } from '../logger'
import type { PushReply, WechatPushService } from '../services/push'
import { boundedBodies, type BodyLimits } from './bounded-body'
import { apiRouter } from './http'

/** A push is a few hundred bytes; encrypted, a little more. */
const PUSH_BODY_LIMIT = 64 * 1024

/**
 * `GET|POST /api/wechat/push`, the URL of 消息推送 in the mini-program console (安全模式, JSON or
 * XML). GET is WeChat's URL check; POST a signed, encrypted push, read raw (the signature covers
 * the `Encrypt` field as sent). Answers are plain text, never sniffed as anything else (the echostr
 * is text the caller chose): the echostr, `success`, or why not. A failure of ours answers 500 so
 * WeChat retries (3 tries in all). Anyone can post here, so bodies are bounded as notifications'
 * are: 64 KiB, read within the body timeout, at most `maxInFlight` at once (beyond: 503 at once,
 * unread), in slots of their own.
 */
export function pushRoutes(push: WechatPushService, logger: Logger, limits: BodyLimits): Router {
  const r = apiRouter('/api/wechat')
  const read = boundedBodies('push', PUSH_BODY_LIMIT, limits, logger)
  const send = (ctx: RouterContext, reply: PushReply) => {
    ctx.status = reply.status
    ctx.type = 'text/plain'
    ctx.set('X-Content-Type-Options', 'nosniff')
    ctx.body = reply.body
  }
  r.get('/push', async (ctx) => send(ctx, await push.verifyUrl(ctx.query)))
  r.post('/push', async (ctx) => {
    let raw: Buffer | undefined
    try {
      raw = await read(ctx)
    } catch (e) {
      if (e instanceof AppError) return send(ctx, { status: e.status, body: e.message })
      throw e
    }
    if (raw === undefined) return send(ctx, { status: 503, body: 'busy' })
    try {
      send(ctx, await push.receive(ctx.query, raw))
    } catch (e) {
      logger.error({ err: loggable(e) }, 'push not handled: answering 500 so WeChat retries')
      send(ctx, { status: 500, body: 'error' })
    }
  })
  return r
}
