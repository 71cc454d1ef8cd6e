import { WechatPayError } from '../core/errors'

/**
 * The errcodes of the mini-program server APIs that the SDK acts on or that callers commonly
 * branch on. Any other errcode still arrives as a {@link MiniProgramError}; this list only names.
 *
 * @see ../../../../shared/wechat-ops-api.md §1.3 and §2 (copied from WeChat's tables)
 */
export const MiniProgramErrcode = {
  /** System busy: retry. */
  SYSTEM_BUSY: -1,
  /** access_token invalid or not the latest (superseded), or a wrong AppSecret for stable_token. */
  INVALID_TOKEN: 40001,
  /** Invalid appid. */
  INVALID_APPID: 40013,
  /** Invalid AppSecret. */
  INVALID_SECRET: 40125,
  /** The caller's IP is not on the whitelist. */
  IP_NOT_WHITELISTED: 40164,
  /** The AppSecret is frozen. */
  SECRET_FROZEN: 40243,
  /** access_token expired. */
  TOKEN_EXPIRED: 42001,
  /** Daily API quota reached. */
  DAILY_QUOTA: 45009,
  /** 支付单不存在: no such order — also transient right after payment, while WeChat ingests it. */
  ORDER_NOT_FOUND: 10060001,
  /** Already fully shipped. */
  ALREADY_SHIPPED: 10060002,
  /** The single re-ship has been used. */
  RESHIP_USED: 10060003,
  /** Not in a shippable state (refunded, completed). */
  NOT_SHIPPABLE: 10060004,
  /** System busy (shipping). */
  SHIPPING_BUSY: 10060012,
  /** System busy (shipping). */
  SHIPPING_BUSY_2: 10060019,
  /** Shipping info unchanged (the upload was a no-op). */
  SHIPPING_UNCHANGED: 10060023,
  /** The order does not belong to `payer.openid`. */
  NOT_PAYER: 10060031,
  /** `upload_time` is not RFC 3339. */
  BAD_UPLOAD_TIME: 268485216,
} as const

/** The errcodes that mean "the access_token is no longer good": refresh it once and retry. */
export const TOKEN_REJECTED_ERRCODES: readonly number[] = [
  MiniProgramErrcode.INVALID_TOKEN,
  MiniProgramErrcode.TOKEN_EXPIRED,
]

/**
 * A mini-program server API (`api.weixin.qq.com`) answered with a non-zero `errcode`.
 * `errmsg` is WeChat's text (it usually ends in ` rid: …`, which `rid` carries on its own: quote
 * it to WeChat support). `api` is the path that was called, never its query (which holds the
 * access_token).
 */
export class MiniProgramError extends WechatPayError {
  override name = 'MiniProgramError'
  readonly errcode: number
  readonly errmsg: string
  readonly rid: string | undefined
  readonly api: string

  constructor(init: { errcode: number; errmsg: string; api: string }) {
    super(`${init.api} failed: ${init.errcode} ${init.errmsg}`)
    this.errcode = init.errcode
    this.errmsg = init.errmsg
    this.api = init.api
    this.rid = /\brid: ([0-9a-f-]+)/i.exec(init.errmsg)?.[1]
  }
}

/**
 * The one factory of {@link MiniProgramError}: from a parsed answer body, or `undefined` when the
 * body says success (`errcode` absent or 0).
 */
export function createMiniProgramError(
  api: string,
  body: { errcode?: unknown; errmsg?: unknown },
): MiniProgramError | undefined {
  const errcode = typeof body.errcode === 'number' ? body.errcode : Number(body.errcode ?? 0)
  if (errcode === 0 || Number.isNaN(errcode)) return undefined
  return new MiniProgramError({
    errcode,
    errmsg: typeof body.errmsg === 'string' ? body.errmsg : '',
    api,
  })
}

/**
 * True when `e` is a {@link MiniProgramError}, and (when given) carries one of these errcodes.
 * @example if (isMiniProgramError(e, 10060001)) { ... } // order not (yet) known to WeChat
 */
export function isMiniProgramError(e: unknown, ...errcodes: number[]): e is MiniProgramError {
  return e instanceof MiniProgramError && (errcodes.length === 0 || errcodes.includes(e.errcode))
}
