/**
 * Every error the SDK throws is a `WechatPayError`; each kind of failure has its own class so callers
 * can branch with `instanceof` or the guards below, never by parsing messages.
 *
 * Messages never contain keys, signatures of secrets, session keys or full URLs with credentials.
 */

/** Base class of every error thrown by this SDK. */
export class WechatPayError extends Error {
  override name = 'WechatPayError'
}

/** The SDK was configured wrongly (a missing or malformed key, id or option). */
export class ConfigError extends WechatPayError {
  override name = 'ConfigError'
}

/** A call was made with an argument WeChat would refuse (caught before any network call). */
export class InvalidArgumentError extends WechatPayError {
  override name = 'InvalidArgumentError'
}

/** The body of a WeChat error answer: `{code, message, detail?}` (APIv3 §6.1). */
export interface ApiErrorBody {
  code: string
  message: string
  detail?: unknown
}

/**
 * WeChat answered with a business or protocol error: a non-2xx APIv3 response, or an APIv2 answer
 * whose `return_code` / `result_code` is `FAIL`.
 *
 * @see https://pay.weixin.qq.com/docs/merchant/development/interface-rules/basic-rules.html
 */
export class ApiError extends WechatPayError {
  override name = 'ApiError'
  /** HTTP status (APIv2 errors arrive with 200). */
  readonly status: number
  /** WeChat's error code, e.g. `ORDER_NOT_EXIST`, `PARAM_ERROR`; for APIv2 the `err_code`. */
  readonly code: string
  /** WeChat's free-form detail object, when it sent one. */
  readonly detail: unknown
  /** The `Request-ID` response header: quote it to WeChat support. */
  readonly requestId: string | undefined
  /**
   * True when the answer was signed by WeChat and the signature verified: an APIv3 error answer
   * carrying `Wechatpay-*` headers (WeChat signs its answer to every request it authenticated), or
   * an APIv2 business failure (`result_code FAIL`, whose `sign` is checked). False for an unsigned
   * answer — a gateway refusal (401, missing headers), a 5xx from in front of WeChat, or anything
   * a middlebox made up: act on its `code` only after confirming by a query.
   */
  readonly signed: boolean

  constructor(init: {
    status: number
    code: string
    message: string
    detail?: unknown
    requestId?: string | undefined
    signed?: boolean
  }) {
    super(init.message)
    this.status = init.status
    this.code = init.code
    this.detail = init.detail
    this.requestId = init.requestId
    this.signed = init.signed ?? false
  }
}

/** Why a signature was rejected. */
export type SignatureFailure =
  /** A `Wechatpay-*` header is missing or malformed. */
  | 'missing_headers'
  /** `Wechatpay-Timestamp` is outside the allowed window (±5 minutes by default). */
  | 'stale_timestamp'
  /** A deliberate `WECHATPAY/SIGNTEST/` probe: WeChat checking that we really verify. */
  | 'signtest'
  /** No key is known for the `Wechatpay-Serial` (after one certificate refresh). */
  | 'unknown_serial'
  /** The signature does not match the message. */
  | 'mismatch'
  /** An `Authorization` header (checked by servers and the sandbox) is malformed. */
  | 'bad_authorization'

/**
 * A response or notification failed verification. Treat it as forged: do not process it.
 * @see https://pay.weixin.qq.com/docs/merchant/development/interface-rules/signature-verification.html
 */
export class SignatureError extends WechatPayError {
  override name = 'SignatureError'
  readonly reason: SignatureFailure
  /** The `Wechatpay-Serial` that was presented, if any. */
  readonly serial: string | undefined

  constructor(reason: SignatureFailure, message: string, serial?: string) {
    super(message)
    this.reason = reason
    this.serial = serial
  }
}

/** AEAD_AES_256_GCM (or APIv2 AES) decryption failed: wrong key, or tampered ciphertext or tag. */
export class DecryptionError extends WechatPayError {
  override name = 'DecryptionError'
}

/** The request never got a complete HTTP answer (DNS, refused, reset, aborted). */
export class NetworkError extends WechatPayError {
  override name = 'NetworkError'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}

/** No complete answer arrived within the client's timeout. The request may still have been applied. */
export class TimeoutError extends NetworkError {
  override name = 'TimeoutError'
  readonly timeoutMs: number
  constructor(timeoutMs: number, options?: { cause?: unknown }) {
    super(`no answer from WeChat Pay within ${timeoutMs} ms`, options)
    this.timeoutMs = timeoutMs
  }
}

/**
 * True when `e` is an {@link ApiError}, and (when `code` is given) carries that WeChat code.
 * @example if (isApiError(e, 'ORDER_NOT_EXIST')) { ... }
 */
export function isApiError(e: unknown, code?: string): e is ApiError {
  return e instanceof ApiError && (code === undefined || e.code === code)
}

/**
 * True when WeChat refused because the order is already paid. The APIv3 spelling is not documented:
 * both `ORDERPAID` (the APIv2 code, seen in v3 tutorials) and `ORDER_PAID` are accepted.
 */
export function isOrderPaidError(e: unknown): e is ApiError {
  return isApiError(e) && (e.code === 'ORDERPAID' || e.code === 'ORDER_PAID')
}

/**
 * Builds the {@link ApiError} for a non-2xx APIv3 response. Bodies that are not WeChat's JSON
 * error shape (a proxy's HTML page, an empty 502) still give a useful error. `signed`: the answer's
 * signature was verified.
 */
export function createApiError(
  status: number,
  body: string,
  requestId?: string,
  signed = false,
): ApiError {
  let parsed: unknown
  try {
    parsed = body ? JSON.parse(body) : undefined
  } catch {
    parsed = undefined
  }
  if (isErrorBody(parsed)) {
    return new ApiError({
      status,
      code: parsed.code,
      message: parsed.message,
      detail: parsed.detail,
      requestId,
      signed,
    })
  }
  return new ApiError({
    status,
    code: status >= 500 ? 'SYSTEM_ERROR' : 'HTTP_ERROR',
    message: `HTTP ${status} without a WeChat error body`,
    requestId,
    signed,
  })
}

function isErrorBody(v: unknown): v is ApiErrorBody {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as ApiErrorBody).code === 'string' &&
    typeof (v as ApiErrorBody).message === 'string'
  )
}
