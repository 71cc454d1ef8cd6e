import { randomBytes } from 'node:crypto'
import type { SandboxClock } from '../clock'
import { WeixinError } from './answers'

/** A stable token (and a `/cgi-bin/token` one) lives 7200 s of sandbox time. */
export const TOKEN_LIFE_MS = 7200_000
/** Normal-mode `stable_token` hands out a new token only in its last 5 minutes. */
export const STABLE_RENEW_WINDOW_MS = 300_000
/** `force_refresh` works at most 20 times a (Beijing) day… */
export const FORCE_REFRESH_PER_DAY = 20
/** …and at least 30 s after the previous one. */
export const FORCE_REFRESH_GAP_MS = 30_000
/** A `/cgi-bin/token` call leaves the previous token working this long. */
export const BASIC_OVERLAP_MS = 300_000
/** Call limits of `stable_token` (wechat-ops-api.md §2). */
export const STABLE_PER_MINUTE = 10_000
export const STABLE_PER_DAY = 500_000
/** Daily quota of `/cgi-bin/token`: 2000 is UNCONFIRMED (one community source), chosen here. */
export const BASIC_PER_DAY = 2000

/** Which endpoint issued a token: the two families never affect each other. */
export type TokenFamily = 'stable' | 'basic'

/** An access_token as WeChat holds it. Times are sandbox ms. */
export interface IssuedToken {
  token: string
  family: TokenFamily
  issuedAt: number
  expiresAt: number
  /** From this instant it answers 40001 (superseded or force-refreshed); absent while current. */
  revokedAt?: number
  /** Set by `POST /__sandbox/access-token/expire`. */
  expiredByControl?: boolean
}

/** What `GET /__sandbox/access-token` shows (tokens are test values, shown in full). */
export interface TokenView {
  access_token: string
  family: TokenFamily
  issued_at: string
  expires_at: string
  revoked_at?: string
  /** `ok`, `expired` (42001) or `invalid` (40001) right now. */
  status: 'ok' | 'expired' | 'invalid'
}

const BEIJING_MS = 8 * 3600_000
const beijingDay = (ms: number) => Math.floor((ms + BEIJING_MS) / 86_400_000)

/**
 * The access_tokens of the sandbox's mini-program (wechat-ops-api.md §2), on the sandbox clock:
 *
 * - `stable_token` normal mode returns the current token while more than 5 minutes are left, and
 *   a new one in its last 5 minutes (the old one keeps working until it expires: the overlap);
 * - `force_refresh: true` revokes the current token at once (40001 afterwards) and issues a new
 *   one — at most 20 times per Beijing day and 30 s apart; beyond that it answers like normal mode
 *   (no refresh, no error: "otherwise no refresh");
 * - `/cgi-bin/token` issues a new token on every call and leaves the previous one working 5 min;
 * - any API call with an unknown or revoked token answers 40001, with an expired one 42001.
 */
export class AccessTokens {
  readonly #clock: SandboxClock
  readonly #tokens = new Map<string, IssuedToken>()
  #current: Record<TokenFamily, IssuedToken | undefined> = { stable: undefined, basic: undefined }
  #forced: number[] = []
  #counts = { minute: -1, perMinute: 0, day: -1, perDay: 0, basicDay: -1, basicPerDay: 0 }

  constructor(clock: SandboxClock) {
    this.#clock = clock
  }

  /** `POST /cgi-bin/stable_token` after its credentials were checked. */
  stable(forceRefresh: boolean): { access_token: string; expires_in: number } {
    const now = this.#clock.now()
    this.#countStable(now)
    const current = this.#current.stable
    const live = current && this.#status(current, now) === 'ok' ? current : undefined
    if (forceRefresh && this.#mayForce(now)) {
      if (live) live.revokedAt = now
      this.#forced.push(now)
      return this.#answer(this.#issue('stable', now), now)
    }
    if (live && live.expiresAt - now > STABLE_RENEW_WINDOW_MS) return this.#answer(live, now)
    // None yet, expired, revoked, or in its last 5 minutes: a new one (an old one that is still
    // valid keeps working until its own expiry).
    return this.#answer(this.#issue('stable', now), now)
  }

  /** `GET /cgi-bin/token`: a new token every call; the previous one works 5 more minutes. */
  basic(): { access_token: string; expires_in: number } {
    const now = this.#clock.now()
    const day = beijingDay(now)
    if (day !== this.#counts.basicDay)
      this.#counts = { ...this.#counts, basicDay: day, basicPerDay: 0 }
    if (++this.#counts.basicPerDay > BASIC_PER_DAY) throw new WeixinError(45009)
    const previous = this.#current.basic
    if (previous && previous.revokedAt === undefined) {
      previous.revokedAt = Math.min(previous.expiresAt, now + BASIC_OVERLAP_MS)
    }
    return this.#answer(this.#issue('basic', now), now)
  }

  /** Throws 41001 / 40001 / 42001 unless `token` may call an API now. */
  check(token: string | null): void {
    if (!token) throw new WeixinError(41001)
    const issued = this.#tokens.get(token)
    if (!issued) throw new WeixinError(40001)
    const status = this.#status(issued, this.#clock.now())
    if (status === 'invalid') throw new WeixinError(40001)
    if (status === 'expired') throw new WeixinError(42001)
  }

  /**
   * For tests: makes `token` (default: the current stable token) answer 42001 (`expired`) or
   * 40001 (`invalid`) from now on. Returns the token it spoiled, or undefined when there is none.
   */
  spoil(how: 'expired' | 'invalid', token?: string): TokenView | undefined {
    const issued = token === undefined ? this.#current.stable : this.#tokens.get(token)
    if (!issued) return undefined
    const now = this.#clock.now()
    if (how === 'expired') issued.expiresAt = Math.min(issued.expiresAt, now)
    else issued.revokedAt = Math.min(issued.revokedAt ?? now, now)
    issued.expiredByControl = true
    return this.view(issued)
  }

  /** The current tokens of both families and today's force-refresh count. */
  overview(): {
    stable: TokenView | null
    basic: TokenView | null
    force_refreshes_today: number
    force_refreshes_left_today: number
  } {
    const now = this.#clock.now()
    const today = this.#forced.filter((t) => beijingDay(t) === beijingDay(now)).length
    return {
      stable: this.#current.stable ? this.view(this.#current.stable) : null,
      basic: this.#current.basic ? this.view(this.#current.basic) : null,
      force_refreshes_today: today,
      force_refreshes_left_today: Math.max(0, FORCE_REFRESH_PER_DAY - today),
    }
  }

  view(t: IssuedToken): TokenView {
    const iso = (ms: number) => new Date(ms).toISOString()
    return {
      access_token: t.token,
      family: t.family,
      issued_at: iso(t.issuedAt),
      expires_at: iso(t.expiresAt),
      ...(t.revokedAt !== undefined ? { revoked_at: iso(t.revokedAt) } : {}),
      status: this.#status(t, this.#clock.now()),
    }
  }

  /** Forgets every token and counter (a fresh app). */
  clear(): void {
    this.#tokens.clear()
    this.#current = { stable: undefined, basic: undefined }
    this.#forced = []
  }

  #status(t: IssuedToken, now: number): 'ok' | 'expired' | 'invalid' {
    // A revoked token answers 40001 even once it would have expired: WeChat says "not latest".
    if (t.revokedAt !== undefined && t.revokedAt <= now) return 'invalid'
    return t.expiresAt <= now ? 'expired' : 'ok'
  }

  #mayForce(now: number): boolean {
    const last = this.#forced[this.#forced.length - 1]
    if (last !== undefined && now - last < FORCE_REFRESH_GAP_MS) return false
    const today = this.#forced.filter((t) => beijingDay(t) === beijingDay(now)).length
    return today < FORCE_REFRESH_PER_DAY
  }

  #countStable(now: number): void {
    const minute = Math.floor(now / 60_000)
    const day = beijingDay(now)
    const c = this.#counts
    if (minute !== c.minute) Object.assign(c, { minute, perMinute: 0 })
    if (day !== c.day) Object.assign(c, { day, perDay: 0 })
    if (++c.perDay > STABLE_PER_DAY) throw new WeixinError(45009)
    if (++c.perMinute > STABLE_PER_MINUTE) throw new WeixinError(45011)
  }

  #issue(family: TokenFamily, now: number): IssuedToken {
    // Real tokens are ~136 characters of [A-Za-z0-9_-] after a short numeric prefix.
    const token = `${family === 'stable' ? 90 : 89}_${randomBytes(100).toString('base64url')}`
    const issued: IssuedToken = { token, family, issuedAt: now, expiresAt: now + TOKEN_LIFE_MS }
    this.#tokens.set(token, issued)
    this.#current[family] = issued
    // Old tokens are kept so they keep answering 40001/42001 rather than "unknown"; the map is
    // trimmed of tokens long dead so a sandbox left running stays small.
    if (this.#tokens.size > 10_000) {
      for (const [k, t] of this.#tokens) {
        if (t.expiresAt < now - 86_400_000) this.#tokens.delete(k)
      }
    }
    return issued
  }

  #answer(t: IssuedToken, now: number): { access_token: string; expires_in: number } {
    // Whole seconds, rounded up: a token issued within the last second still says 7200 (WeChat
    // keeps expiries in seconds). Rounding down would make a token issued a moment after another
    // look as if it expired sooner, and a client comparing expiries (the SDK's "newest wins"
    // store) would keep the older, revoked one.
    return { access_token: t.token, expires_in: Math.ceil((t.expiresAt - now) / 1000) }
  }
}
