import { timingSafeEqual } from 'node:crypto'
import type { Context, Next } from 'koa'
import type { z } from 'zod'
import { AppError } from '../errors'
import type { AuthService } from '../services/auth'

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

/** An operator: `Authorization: Bearer $ADMIN_TOKEN`, compared in constant time. */
export function requireAdmin(adminToken: string) {
  const expected = Buffer.from(adminToken)
  return async (ctx: Context, next: Next) => {
    const m = /^Bearer (\S+)$/.exec(ctx.get('authorization'))
    const given = Buffer.from(m?.[1] ?? '')
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
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

/** The raw request body, untouched (notifications are verified over these exact bytes). */
export async function rawBody(ctx: Context, limit = 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length
    if (size > limit) throw new AppError('PAYLOAD_TOO_LARGE', 'body too large')
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}
