import type { LoginResponse } from '@fen/shared'
import { Code2SessionError, type MiniProgramClient } from '@fen/wechatpay'
import { createHash, createSecretKey, type KeyObject } from 'node:crypto'
import jwt from 'jsonwebtoken'
import { AppError } from '../errors'
import { RateLimiter } from '../rate-limit'
import { findUserOpenid, upsertUser } from '../repositories/users'
import type { ServiceContext } from './context'
import { wechatFailure } from './wechat-errors'

/** Logins per IP address per minute. */
const LOGINS_PER_MINUTE = 30

/** Mini-program login: a `wx.login` code → code2Session → our user → a JWT. */
export class AuthService {
  readonly #limiter: RateLimiter
  /**
   * The JWT secret as a KeyObject, made once: given a string, jsonwebtoken first tries to parse it
   * as a public key on every call, which made each verify ~0.5 ms instead of ~10 µs.
   */
  readonly #jwtKey: KeyObject

  constructor(
    private readonly ctx: ServiceContext,
    private readonly miniProgram: MiniProgramClient,
  ) {
    this.#limiter = new RateLimiter(LOGINS_PER_MINUTE, 60_000, () => ctx.clock().getTime())
    this.#jwtKey = createSecretKey(Buffer.from(ctx.config.jwtSecret, 'utf8'))
  }

  async login(code: string, ip: string): Promise<LoginResponse> {
    if (!this.#limiter.take(ip)) throw new AppError('RATE_LIMITED', '登录过于频繁，请稍后再试')
    let session
    try {
      session = await this.miniProgram.code2Session(code)
    } catch (e) {
      if (e instanceof Code2SessionError) {
        if (e.reason === 'invalid_code' || e.reason === 'code_used') {
          throw new AppError('LOGIN_CODE_INVALID', '登录凭证无效或已使用，请重新登录')
        }
        if (e.reason === 'blocked') throw new AppError('LOGIN_BLOCKED', '微信拒绝了本次登录')
        if (e.reason === 'rate_limited' || e.reason === 'system_busy') {
          throw new AppError('WECHAT_UNAVAILABLE', '微信登录繁忙，请稍后重试')
        }
        this.ctx.logger.error({ errcode: e.errcode }, 'code2Session refused our appid or secret')
        throw new AppError('WECHAT_ERROR', '微信登录配置有误')
      }
      throw wechatFailure(e)
    }
    // The session key stays here: stored, never returned, never logged.
    const userId = await upsertUser(this.ctx.db, {
      openid: session.openid,
      unionid: session.unionid,
      sessionKey: session.sessionKey,
    })
    const now = Math.floor(this.ctx.clock().getTime() / 1000)
    const exp = now + this.ctx.config.jwtTtlSeconds
    const claims = { sub: String(userId), oid: openidTag(session.openid), iat: now, exp }
    const token = jwt.sign(claims, this.#jwtKey, { algorithm: 'HS256' })
    return { token, expiresAt: new Date(exp * 1000).toISOString(), user: { id: userId } }
  }

  /**
   * The user of a valid token; anything else is 401. Only HS256 is accepted, and the token must
   * name the user's openid as well as their id: after a database restore or reset, an id can be
   * reused by another shopper, and an old token must not read their orders. The openid read for
   * that check comes back with the id, so a JSAPI prepay needs no second read.
   */
  async authenticate(token: string): Promise<Shopper> {
    let id: number
    let oid: unknown
    try {
      const payload = jwt.verify(token, this.#jwtKey, {
        algorithms: ['HS256'],
        clockTimestamp: Math.floor(this.ctx.clock().getTime() / 1000),
      })
      if (typeof payload !== 'object') throw new Error('not an object')
      // jsonwebtoken checks exp only when there is one: a token without it would never end.
      if (typeof payload.exp !== 'number') throw new Error('no exp')
      id = Number(payload.sub)
      oid = payload.oid
    } catch {
      throw new AppError('UNAUTHORIZED', '登录已失效，请重新登录')
    }
    // users.id is a PostgreSQL integer: a larger id names nobody (and would fail the query).
    if (!Number.isSafeInteger(id) || id <= 0 || id > 2_147_483_647 || typeof oid !== 'string') {
      throw new AppError('UNAUTHORIZED', '登录已失效，请重新登录')
    }
    const openid = await findUserOpenid(this.ctx.db, id)
    if (!openid || openidTag(openid) !== oid) {
      throw new AppError('UNAUTHORIZED', '登录已失效，请重新登录')
    }
    return { id, openid }
  }
}

/** The signed-in shopper, as a valid token names them (read once per request, by `authenticate`). */
export interface Shopper {
  id: number
  openid: string
}

/** A short, one-way tag of an openid for tokens (the openid itself stays out of them). */
function openidTag(openid: string): string {
  return createHash('sha256').update(openid).digest('base64url').slice(0, 16)
}
