import type { Context } from 'koa'
import type { Logger } from '../logger'
import { rawBody } from './http'

/**
 * What bounds the bodies of a route anyone may post to (WeChat's notifications, its message
 * pushes): see `BODY_TIMEOUT_SECONDS`, `NOTIFY_MAX_IN_FLIGHT`.
 */
export interface BodyLimits {
  /** A body must arrive within this (else 408, the connection closed). */
  bodyTimeoutMs: number
  /** Bodies read at once; beyond it, 503 at once with the body unread. */
  maxInFlight: number
  /** Bodies being read now (a gauge). */
  inFlight: { inc(): void; dec(): void }
}

/**
 * A reader of one route's raw bodies, at most `limits.maxInFlight` at once (its own count: a
 * route's flood never takes another route's slots) and each at most `maxBytes` (413), within the
 * body timeout (408). `read(ctx)` resolves to the body, or to `undefined` when that many bodies are
 * being read already: the caller then answers 503 at once, the body unread (`Connection: close`
 * and `Retry-After: 1` are set here, and the refusal logged as `<what> refused: too many bodies in
 * flight`). rawBody's refusals (413, 408, 400 for an aborted body) are thrown as AppErrors.
 */
export function boundedBodies(
  what: string,
  maxBytes: number,
  limits: BodyLimits,
  logger: Logger,
): (ctx: Context) => Promise<Buffer | undefined> {
  let reading = 0
  return async (ctx) => {
    if (reading >= limits.maxInFlight) {
      logger.warn({ inFlight: reading }, `${what} refused: too many bodies in flight`)
      ctx.set('Connection', 'close')
      ctx.set('Retry-After', '1')
      return undefined
    }
    reading += 1
    limits.inFlight.inc()
    try {
      return await rawBody(ctx, maxBytes, limits.bodyTimeoutMs)
    } finally {
      reading -= 1
      limits.inFlight.dec()
    }
  }
}
