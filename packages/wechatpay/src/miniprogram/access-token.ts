import { systemClock, type Clock } from '../core/clock'
import { ConfigError, WechatPayError } from '../core/errors'
import { exchange } from '../core/http'
import type { Transport } from '../core/transport'
import { createMiniProgramError } from './errors'

/** An access_token and the instant it stops working (ms since the epoch, by the fetcher's clock). */
export interface AccessToken {
  accessToken: string
  expiresAt: number
}

/**
 * Where access_tokens are shared between the server instances of one appid (the Fen server backs
 * it with PostgreSQL). The contract, which every implementation must keep, is **newest wins**:
 *
 * - `get(appid)` returns the stored token, or `undefined`.
 * - `save(appid, token)` stores `token` unless the stored token expires strictly later; it returns
 *   the token stored afterwards, whichever won (a tie goes to the later save). It must be atomic
 *   (one statement), e.g. in SQL:
 *   `INSERT … ON CONFLICT (appid) DO UPDATE SET … WHERE t.expires_at <= excluded.expires_at`,
 *   then read the row back.
 *
 * Why this is enough for several instances: `/cgi-bin/stable_token` gives every caller the same
 * token while it is valid, so instances refreshing at once agree; a newer token (issued after an
 * expiry or a `force_refresh`) always expires later, so a slow instance can never overwrite it
 * with the one it replaced. Instances' clocks must agree to well within the refresh margin.
 */
export interface AccessTokenStore {
  get(appid: string): Promise<AccessToken | undefined>
  save(appid: string, token: AccessToken): Promise<AccessToken>
}

/** The default {@link AccessTokenStore}: one process's memory (enough for a single instance). */
export class MemoryAccessTokenStore implements AccessTokenStore {
  readonly #tokens = new Map<string, AccessToken>()

  async get(appid: string): Promise<AccessToken | undefined> {
    return this.#tokens.get(appid)
  }

  async save(appid: string, token: AccessToken): Promise<AccessToken> {
    const stored = this.#tokens.get(appid)
    if (stored && stored.expiresAt > token.expiresAt) return stored
    const copy = { accessToken: token.accessToken, expiresAt: token.expiresAt }
    this.#tokens.set(appid, copy)
    return copy
  }
}

/** Options of {@link AccessTokenManager}. */
export interface AccessTokenManagerOptions {
  appid: string
  secret: string
  /** `https://api.weixin.qq.com` or the Fen sandbox. */
  baseUrl: string
  transport: Transport
  timeoutMs: number
  clock?: Clock
  /** Shared storage; default a {@link MemoryAccessTokenStore}. */
  store?: AccessTokenStore
  /**
   * A token is renewed this long before it expires. Default 120 s. Must be under 300 s: WeChat
   * hands out a new stable token only in its last 5 minutes, so a larger margin would fetch the
   * same, still "too old", token on every call.
   */
  refreshMarginSeconds?: number
}

/**
 * The mini-program's access_token, from `POST /cgi-bin/stable_token` — never `/cgi-bin/token`,
 * whose every call invalidates the tokens other instances hold.
 *
 * `get()` answers from memory, then from the shared store, and only then asks WeChat; concurrent
 * callers in one process share one request (single-flight). `refresh({ rejected })` is for a call
 * that WeChat refused with 40001/42001: it never hands back the rejected token from the cache or
 * the store, and asks WeChat in normal mode, which returns the current valid token (a new one if
 * the old expired or was force-refreshed elsewhere). `force_refresh: true`, which invalidates the
 * current token for every instance and is limited to 20 a day, is only sent when asked for.
 *
 * @see https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-access-token/getStableAccessToken.html
 */
export class AccessTokenManager {
  readonly appid: string
  readonly #secret: string
  readonly #baseUrl: string
  readonly #transport: Transport
  readonly #timeoutMs: number
  readonly #clock: Clock
  readonly #store: AccessTokenStore
  readonly #marginMs: number
  #cached: AccessToken | undefined
  #inflight: { rejected: string | undefined; promise: Promise<AccessToken> } | undefined

  constructor(options: AccessTokenManagerOptions) {
    const margin = options.refreshMarginSeconds ?? 120
    if (!(margin >= 0 && margin < 300)) {
      throw new ConfigError('refreshMarginSeconds must be at least 0 and under 300')
    }
    this.appid = options.appid
    this.#secret = options.secret
    this.#baseUrl = options.baseUrl
    this.#transport = options.transport
    this.#timeoutMs = options.timeoutMs
    this.#clock = options.clock ?? systemClock
    this.#store = options.store ?? new MemoryAccessTokenStore()
    this.#marginMs = margin * 1000
  }

  /** A valid access_token: cached, shared, or freshly fetched. */
  async get(): Promise<string> {
    if (this.#cached && this.#fresh(this.#cached)) return this.#cached.accessToken
    return (await this.#singleFlight(undefined)).accessToken
  }

  /**
   * A token other than `rejected` if one can be had: the store's, when another instance already
   * renewed it, else WeChat's current one. With `forceRefresh: true`, asks WeChat to invalidate
   * the current token and issue a new one (for a leaked token; WeChat allows 20 a day, 30 s apart).
   */
  async refresh(options: { rejected?: string; forceRefresh?: boolean } = {}): Promise<string> {
    if (options.forceRefresh) {
      const token = await this.#fetchAndSave(true, options.rejected)
      return token.accessToken
    }
    if (this.#cached?.accessToken === options.rejected) this.#cached = undefined
    return (await this.#singleFlight(options.rejected)).accessToken
  }

  #fresh(token: AccessToken): boolean {
    return token.expiresAt - this.#marginMs > this.#clock()
  }

  /**
   * One store read (and at most one WeChat request) at a time in this process. A caller that must
   * avoid a rejected token joins a flight only if that flight avoids it too; otherwise it waits
   * for the flight and starts its own when the flight came back with the rejected token.
   */
  async #singleFlight(rejected: string | undefined): Promise<AccessToken> {
    const current = this.#inflight
    if (current && (rejected === undefined || current.rejected === rejected)) return current.promise
    if (current) {
      const token = await current.promise.catch(() => undefined)
      if (token && token.accessToken !== rejected) return token
      return this.#singleFlight(rejected)
    }
    const promise = this.#readThrough(rejected).finally(() => {
      if (this.#inflight?.promise === promise) this.#inflight = undefined
    })
    this.#inflight = { rejected, promise }
    return promise
  }

  async #readThrough(rejected: string | undefined): Promise<AccessToken> {
    const stored = await this.#store.get(this.appid)
    if (stored && stored.accessToken !== rejected && this.#fresh(stored)) {
      this.#cached = stored
      return stored
    }
    return this.#fetchAndSave(false, rejected)
  }

  /**
   * Fetches a token and stores it. Newest wins: another instance may have stored a newer token
   * meanwhile, and that winner is used — unless it is the token WeChat just rejected. That can
   * happen: the store keeps whichever expires later, and a rejected token saved by an instance
   * whose clock runs ahead (or counted from an earlier send) can "expire later" than the fresh one.
   * Then the freshly fetched token is used (and cached here) although the store kept the other.
   */
  async #fetchAndSave(forceRefresh: boolean, rejected?: string): Promise<AccessToken> {
    const fetched = await this.#fetch(forceRefresh)
    const winner = await this.#store.save(this.appid, fetched)
    const use = rejected !== undefined && winner.accessToken === rejected ? fetched : winner
    this.#cached = use
    return use
  }

  async #fetch(forceRefresh: boolean): Promise<AccessToken> {
    const api = '/cgi-bin/stable_token'
    const startedAt = this.#clock()
    const res = await exchange(
      this.#transport,
      this.#baseUrl + api,
      {
        method: 'POST',
        headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
        body: JSON.stringify({
          grant_type: 'client_credential',
          appid: this.appid,
          secret: this.#secret,
          ...(forceRefresh ? { force_refresh: true } : {}),
        }),
      },
      this.#timeoutMs,
      `POST ${api}`,
    )
    const body = parseAnswer<{ access_token?: unknown; expires_in?: unknown }>(api, res)
    const error = createMiniProgramError(api, body)
    if (error) throw error
    if (typeof body.access_token !== 'string' || typeof body.expires_in !== 'number') {
      throw new WechatPayError(`${api} answered without access_token or expires_in`)
    }
    // Counted from when the request was sent: the token may have aged while the answer travelled.
    return { accessToken: body.access_token, expiresAt: startedAt + body.expires_in * 1000 }
  }
}

/**
 * The JSON body of an `api.weixin.qq.com` answer, whatever its Content-Type (some say
 * text/plain). Anything else (a proxy's HTML page) is a {@link WechatPayError} naming the status.
 */
export function parseAnswer<T>(
  api: string,
  res: { status: number; body: Buffer },
): T & { errcode?: unknown; errmsg?: unknown } {
  try {
    const parsed: unknown = JSON.parse(res.body.toString('utf8'))
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      return parsed as T & { errcode?: unknown; errmsg?: unknown }
    }
  } catch {
    // fall through
  }
  throw new WechatPayError(`${api} answered HTTP ${res.status} without a JSON object`)
}
