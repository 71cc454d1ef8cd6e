import type { Clock } from '../core/clock'
import { ConfigError } from '../core/errors'
import { exchange, retryDelay } from '../core/http'
import { fetchTransport, type Transport } from '../core/transport'
import type { CallOptions } from '../resources/transactions'
import { AccessTokenManager, parseAnswer, type AccessTokenStore } from './access-token'
import type {
  MiniProgramCaller,
  MiniProgramCallOptions,
  Sleep,
  TransientRetryOptions,
} from './call'
import { code2Session, type MiniProgramSession } from './code2session'
import { createMiniProgramError, TOKEN_REJECTED_ERRCODES } from './errors'
import { Shipping } from './shipping'

/** The host of the mini-program server APIs. */
export const DEFAULT_WECHAT_API_BASE_URL = 'https://api.weixin.qq.com'

/** Options of {@link MiniProgramClient}. Only `appid` and `secret` are required. */
export interface MiniProgramClientOptions {
  appid: string
  /** The mini-program's AppSecret. */
  secret: string
  /** Default `https://api.weixin.qq.com`; point it at the Fen sandbox for offline work. */
  baseUrl?: string
  /** Per HTTP exchange, covering the whole answer. Default 5 000 ms. */
  timeoutMs?: number
  transport?: Transport
  clock?: Clock
  /** Where access_tokens are shared between instances; default in memory (one instance). */
  tokenStore?: AccessTokenStore
  /** Renew a token this long before it expires (0–299 s). Default 120 s. */
  tokenRefreshMarginSeconds?: number
  /** Retries of transient errcodes (system busy; 10060001 right after payment). */
  retry?: TransientRetryOptions
  /** How retries wait; default a real timer. Tests pass one that returns at once. */
  sleep?: Sleep
}

/**
 * Mini-program server APIs (`api.weixin.qq.com`): login (code2Session), the access_token, and
 * shipping management (`shipping`). Message push needs no client: see `parsePush`.
 */
export class MiniProgramClient implements MiniProgramCaller {
  readonly appid: string
  /** The access_token source every call uses (stable_token, cached, shared through the store). */
  readonly accessToken: AccessTokenManager
  /** 发货信息管理: upload and query shipping, confirm receipt. */
  readonly shipping: Shipping
  readonly #secret: string
  readonly #baseUrl: string
  readonly #timeoutMs: number
  readonly #transport: Transport
  readonly #retry: Required<TransientRetryOptions>
  readonly #sleep: Sleep

  constructor(options: MiniProgramClientOptions) {
    if (!options.appid || !options.secret) throw new ConfigError('appid and secret are required')
    this.appid = options.appid
    this.#secret = options.secret
    this.#baseUrl = (options.baseUrl ?? DEFAULT_WECHAT_API_BASE_URL).replace(/\/+$/, '')
    this.#timeoutMs = options.timeoutMs ?? 5_000
    this.#transport = options.transport ?? fetchTransport
    this.#retry = { attempts: 4, delayMs: 1_000, maxDelayMs: 10_000, ...options.retry }
    if (!(Number.isInteger(this.#retry.attempts) && this.#retry.attempts >= 1)) {
      throw new ConfigError('retry.attempts must be a whole number of at least 1')
    }
    this.#sleep = options.sleep ?? retryDelay
    this.accessToken = new AccessTokenManager({
      appid: this.appid,
      secret: this.#secret,
      baseUrl: this.#baseUrl,
      transport: this.#transport,
      timeoutMs: this.#timeoutMs,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.tokenStore ? { store: options.tokenStore } : {}),
      ...(options.tokenRefreshMarginSeconds !== undefined
        ? { refreshMarginSeconds: options.tokenRefreshMarginSeconds }
        : {}),
    })
    this.shipping = new Shipping(this, options.clock)
  }

  /**
   * Exchanges a `wx.login` code for the user's openid (and unionid) and session key.
   * Throws `Code2SessionError` for WeChat's errcodes.
   *
   * @see https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/code2Session.html
   */
  code2Session(jsCode: string, options?: CallOptions): Promise<MiniProgramSession> {
    return code2Session(
      {
        appid: this.appid,
        secret: this.#secret,
        baseUrl: this.#baseUrl,
        timeoutMs: this.#timeoutMs,
        transport: this.#transport,
      },
      jsCode,
      options,
    )
  }

  /**
   * POSTs `body` as JSON to `api` (e.g. `/wxa/sec/order/get_order`) with `?access_token=` added,
   * and returns the answer once its errcode is 0 (or absent). A 40001/42001 answer refreshes the
   * token once and repeats the call; an errcode in `retryOn` is retried with doubling waits;
   * anything else throws its `MiniProgramError`. Network errors are not retried: the call may have
   * been applied (an `upload_shipping_info` repeated counts as the order's one re-ship).
   */
  async call<T>(
    api: string,
    body: unknown,
    retryOn: readonly number[] = [],
    options: MiniProgramCallOptions = {},
  ): Promise<T> {
    const retry =
      options.retry === false
        ? { ...this.#retry, attempts: 1 }
        : { ...this.#retry, ...options.retry }
    const json = JSON.stringify(body ?? {})
    let token = await this.accessToken.get()
    let tokenRefreshed = false
    for (let attempt = 1; ;) {
      const res = await exchange(
        this.#transport,
        `${this.#baseUrl}${api}?access_token=${encodeURIComponent(token)}`,
        {
          method: 'POST',
          headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
          body: json,
        },
        this.#timeoutMs,
        `POST ${api}`, // never the URL: it carries the access_token
        options.signal,
      )
      const answer = parseAnswer<T>(api, res)
      const error = createMiniProgramError(api, answer)
      if (!error) return answer
      if (!tokenRefreshed && TOKEN_REJECTED_ERRCODES.includes(error.errcode)) {
        tokenRefreshed = true
        token = await this.accessToken.refresh({ rejected: token })
        continue
      }
      if (!retryOn.includes(error.errcode) || attempt >= retry.attempts) throw error
      await this.#sleep(
        Math.min(retry.delayMs * 2 ** (attempt - 1), retry.maxDelayMs),
        options.signal,
      )
      attempt++
    }
  }
}
