import { createHash, timingSafeEqual } from 'node:crypto'
import Router from '@koa/router'
import type { Context, Next } from 'koa'
import type { z } from 'zod'
import { AppError } from '../errors'
import type { AuthService } from '../services/auth'

/**
 * A router for one area of the API, its paths matched case-sensitively: `/API/ADMIN/orders` is no
 * route at all (404). Left to its defaults, @koa/router matches routes without regard to case but
 * checks a router's `use()` layers case-sensitively, so a capitalised path reached a handler with
 * the router's guard skipped (issue #23). Hence the second rule: a guard is given to each route
 * (`r.get(path, admin, handler)`), never to `use()` — it is then part of whatever route a request
 * matched, however the path was spelled. test/hostile/path-spellings.test.ts walks every route.
 */
export function apiRouter(prefix?: string): Router {
  return new Router({ ...(prefix === undefined ? {} : { prefix }), sensitive: true })
}

/** Parses input with a shared schema; the first problem becomes a 400 INVALID_INPUT naming the field. */
export function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value)
  if (r.success) return r.data
  const issue = r.error.issues[0]!
  const where = issue.path.length ? `${issue.path.join('.')}: ` : ''
  throw new AppError('INVALID_INPUT', `${where}${issue.message}`)
}

/** The signed-in shopper: a valid `Authorization: Bearer <jwt>`, or 401. Sets `ctx.state.shopper`. */
export function requireUser(auth: AuthService) {
  return async (ctx: Context, next: Next) => {
    const m = /^Bearer (\S+)$/.exec(ctx.get('authorization'))
    if (!m) throw new AppError('UNAUTHORIZED', '请先登录')
    ctx.state.shopper = await auth.authenticate(m[1]!)
    await next()
  }
}

const sha256 = (s: string) => createHash('sha256').update(s).digest()

/**
 * A check of `given` against `secret` whose time says nothing about either: both are compared as
 * SHA-256 digests (32 bytes whatever the length) with `timingSafeEqual`, with no length check
 * before it that would answer sooner for a token of another length. The secret is digested once.
 */
export function secretMatcher(secret: string): (given: string) => boolean {
  const expected = sha256(secret)
  return (given) => timingSafeEqual(sha256(given), expected)
}

/** An operator: `Authorization: Bearer $ADMIN_TOKEN`, compared in constant time. */
export function requireAdmin(adminToken: string) {
  const isAdminToken = secretMatcher(adminToken)
  return async (ctx: Context, next: Next) => {
    const m = /^Bearer (\S+)$/.exec(ctx.get('authorization'))
    // No header, or another scheme, is compared too: as an empty token (never the admin token,
    // which config requires to be 16 characters or more).
    if (!isAdminToken(m?.[1] ?? '')) {
      throw new AppError('ADMIN_UNAUTHORIZED', 'admin token missing or wrong')
    }
    await next()
  }
}

/** The optional `Idempotency-Key` header: 1–128 printable ASCII characters. */
export function idempotencyKey(ctx: Context): string | undefined {
  const key = ctx.get('idempotency-key')
  if (!key) return undefined
  if (!/^[\x21-\x7e]{1,128}$/.test(key))
    throw new AppError('INVALID_INPUT', 'Idempotency-Key: 1–128 printable ASCII characters')
  return key
}

/**
 * The raw request body, untouched (notifications are verified over these exact bytes). Bounded:
 * more than `limit` bytes → 413; not all there within `timeoutMs` → 408 (the connection is closed,
 * so a trickling sender holds nothing longer). A sender that aborts mid-body gets a 400 it will
 * never read: its failure, not ours.
 */
export function rawBody(ctx: Context, limit: number, timeoutMs: number): Promise<Buffer> {
  const req = ctx.req
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let done = false
    const finish = (error?: Error) => {
      if (done) return
      done = true
      clearTimeout(timer)
      // The 'error' listener stays: a stream that errors after we gave up (the sender's socket
      // ending mid-body) must not throw an unhandled 'error'.
      req.off('data', onData).off('end', onEnd).off('aborted', onAborted)
      if (error) {
        // Whatever is still coming is not read: close the connection after our answer.
        ctx.set('Connection', 'close')
        req.resume()
        reject(error)
      } else resolve(Buffer.concat(chunks))
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) finish(new AppError('PAYLOAD_TOO_LARGE', 'body too large'))
      else chunks.push(chunk)
    }
    const onEnd = () => finish()
    const onAborted = () => finish(new AppError('INVALID_INPUT', 'the sender aborted the body'))
    const onError = (e: Error) =>
      finish(
        req.destroyed || (e as { code?: string }).code === 'ECONNRESET'
          ? new AppError('INVALID_INPUT', 'the sender aborted the body')
          : e,
      )
    const timer = setTimeout(
      () => finish(new AppError('REQUEST_TIMEOUT', `body not received within ${timeoutMs} ms`)),
      timeoutMs,
    )
    req.on('data', onData).on('end', onEnd).on('error', onError).on('aborted', onAborted)
  })
}
