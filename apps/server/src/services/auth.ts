import type { LoginResponse } from '@fen/shared'
import { Code2SessionError, type MiniProgramClient } from '@fen/wechatpay'
import jwt from 'jsonwebtoken'
import { AppError } from '../errors'
import { RateLimiter } from '../rate-limit'
import { upsertUser } from '../repositories/users'
import type { ServiceContext } from './context'
import { wechatFailure } from './wechat-errors'

/** Logins per IP address per minute. */
const LOGINS_PER_MINUTE = 30

/** Mini-program login: a `wx.login` code → code2Session → our user → a JWT. */
export class AuthService {
  readonly #limiter: RateLimiter

  constructor(
    private readonly ctx: ServiceContext,
    private readonly miniProgram: MiniProgramClient,
  ) {
    this.#limiter = new RateLimiter(LOGINS_PER_MINUTE, 60_000, () => ctx.clock().getTime())
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
    const token = jwt.sign({ sub: String(userId), iat: now, exp }, this.ctx.config.jwtSecret, {
      algorithm: 'HS256',
    })
    return { token, expiresAt: new Date(exp * 1000).toISOString(), user: { id: userId } }
  }

  /** The user id in a valid token; anything else is 401. Only HS256 is accepted. */
  verify(token: string): number {
    try {
      const payload = jwt.verify(token, this.ctx.config.jwtSecret, {
        algorithms: ['HS256'],
        clockTimestamp: Math.floor(this.ctx.clock().getTime() / 1000),
      })
      const id = typeof payload === 'object' ? Number(payload.sub) : NaN
      if (!Number.isSafeInteger(id) || id <= 0) throw new Error('no subject')
      return id
    } catch {
      throw new AppError('UNAUTHORIZED', '登录已失效，请重新登录')
    }
  }
}
