import { formatBeijingTime } from '@fen/wechatpay'
import { tryDecodePathParam } from './errors'
import type { Store } from './state'

/** One call a merchant made to WeChat's side (APIv3, APIv2 or login), as `GET /__sandbox/calls` lists it. */
export interface CallRecord {
  /** 1 for the first call the sandbox saw, then counting up (a reset does not restart it). */
  seq: number
  /** Sandbox time the call arrived (RFC 3339, Beijing). */
  at: string
  method: string
  /** The path, without the query. */
  path: string
  /** The query as sent, without the `?`, when there was one. */
  query?: string
  /** The order the call is about, when it names one (path, JSON or XML body, or its refund). */
  out_trade_no?: string
  /** The fault that answered it instead of WeChat, if any. */
  fault?: string
  /** `backup` for a call that reached the backup host (`backupPort`); absent at the primary. */
  host?: 'backup'
  /**
   * The HTTP status, once an answer was sent in full. Absent when none was: a `timeout` or `reset`
   * fault, or a client that gave up first — in which case the call may still have changed state.
   */
  status?: number
  /** Real milliseconds from arrival to the end of the answer (or of the connection). */
  ms?: number
  /**
   * The request body as text (empty bodies left out), cut at {@link BODY_CHARS} characters. Kept
   * for the latest {@link CallLog.bodiesKept} calls only, so a long-running sandbox stays small.
   */
  request_body?: string
  /** The answer's body likewise; a binary answer (the bill file) reads `<N bytes, type>`. */
  response_body?: string
}

/** How much of a body a call record keeps. */
export const BODY_CHARS = 8192

/**
 * Every call the merchant made, so a test can count what a client really sent per order — retries
 * included, and calls a fault answered. Forgotten by a reset. A sandbox left running (`pnpm dev`)
 * keeps only the latest `limit` calls, so the log cannot grow without bound.
 */
export class CallLog {
  #calls: CallRecord[] = []
  #seq = 0

  constructor(
    readonly limit = 100_000,
    readonly bodiesKept = 1000,
  ) {}

  /** Records a call, numbering it; returns the stored record (the caller fills in `status`). */
  add(call: Omit<CallRecord, 'seq'>): CallRecord {
    const record: CallRecord = { seq: ++this.#seq, ...call }
    this.#calls.push(record)
    // Bodies are dropped from calls that fall out of the latest `bodiesKept`.
    const old = this.#calls[this.#calls.length - 1 - this.bodiesKept]
    if (old) {
      delete old.request_body
      delete old.response_body
    }
    // Trimmed in slices of a tenth, so a full log is not copied on every call.
    if (this.#calls.length > this.limit + this.limit / 10) {
      this.#calls = this.#calls.slice(-this.limit)
    }
    return record
  }

  /** How many calls the log holds. */
  get size(): number {
    return this.#calls.length
  }

  /** The log itself, oldest first, for reading in place (copy what you keep: `status` changes). */
  entries(): readonly CallRecord[] {
    return this.#calls
  }

  list(outTradeNo?: string): CallRecord[] {
    return this.#calls
      .filter((c) => outTradeNo === undefined || c.out_trade_no === outTradeNo)
      .map((c) => ({ ...c }))
  }

  clear(): void {
    this.#calls = []
  }
}

/** A call's record as it arrives (`status`, `ms` and the answer are filled in once it is answered). */
export function newCallRecord(
  store: Store,
  call: {
    nowMs: number
    method: string
    path: string
    query: string
    params: Record<string, string>
    body: Buffer
    fault: string | undefined
    host?: 'backup'
  },
): Omit<CallRecord, 'seq'> {
  const record: Omit<CallRecord, 'seq'> = {
    at: formatBeijingTime(call.nowMs),
    method: call.method,
    path: call.path,
  }
  if (call.query) record.query = redactQuery(call.query)
  const no = orderOf(store, call.path, call.params, call.body)
  if (no !== undefined) record.out_trade_no = no
  if (call.fault !== undefined) record.fault = call.fault
  if (call.host !== undefined) record.host = call.host
  if (call.body.length > 0) record.request_body = clip(redactBody(call.body.toString('utf8')))
  return record
}

/** Content types whose bodies a call record keeps as text. */
const TEXTUAL = /^(application\/(json|xml)|text\/)/

/**
 * Credentials a call record never shows, even the sandbox's: the access_token (query of every
 * mini-program API call, answer of stable_token), the appsecret (stable_token's body,
 * jscode2session's query) and the login answer's session_key. Their values read `[redacted]`.
 */
const SECRET_NAMES = ['access_token', 'secret', 'appsecret', 'session_key']
const SECRET_QUERY = new RegExp(`(^|&)(${SECRET_NAMES.join('|')})=[^&]*`, 'g')
const SECRET_JSON = new RegExp(
  `("(?:${SECRET_NAMES.join('|')})"\\s*:\\s*")(?:[^"\\\\]|\\\\.)*"`,
  'g',
)

/** A query string with each credential's value replaced. */
export function redactQuery(query: string): string {
  return query.replace(SECRET_QUERY, '$1$2=[redacted]')
}

/** A JSON (or form-encoded) body with each credential's value replaced; other text as it is. */
export function redactBody(text: string): string {
  const json = text.replace(SECRET_JSON, '$1[redacted]"')
  // A form body (`a=1&secret=…`) is a query by another name.
  return /^[\w.%-]+=/.test(json) && !json.includes('\n') ? redactQuery(json) : json
}

/**
 * An answer's body as a call record keeps it: text cut at {@link BODY_CHARS}, a binary body as its
 * size. Credentials are replaced ({@link redactBody}): logs never hold tokens, secrets or session
 * keys, even sandbox ones.
 */
export function answerText(payload: string | Buffer, contentType: string | undefined): string {
  if (typeof payload !== 'string' && !TEXTUAL.test(contentType ?? '')) {
    return `<${payload.length} bytes, ${contentType ?? 'no type'}>`
  }
  const text = typeof payload === 'string' ? payload : payload.toString('utf8')
  return clip(redactBody(text))
}

function clip(text: string): string {
  return text.length > BODY_CHARS ? `${text.slice(0, BODY_CHARS)}… (${text.length} chars)` : text
}

/** `<out_trade_no>` / `<transaction_id>` of an APIv2 XML body, CDATA or not. */
const XML_OUT_TRADE_NO = /<out_trade_no>(?:<!\[CDATA\[)?([^<\]]+)/
const XML_TRANSACTION_ID = /<transaction_id>(?:<!\[CDATA\[)?([^<\]]+)/

/** The out_trade_no a call names: in its path, its JSON or XML body, or through its refund or transaction. */
function orderOf(
  store: Store,
  path: string,
  params: Record<string, string>,
  body: Buffer,
): string | undefined {
  if (params.no !== undefined) {
    const no = tryDecodePathParam(params.no) ?? params.no
    // `/v3/refund/domestic/refunds/{out_refund_no}` names a refund, not an order.
    return path.startsWith('/v3/refund/') ? store.refunds.get(no)?.order.outTradeNo : no
  }
  if (params.id !== undefined) {
    return store.byTransactionId.get(tryDecodePathParam(params.id) ?? params.id)?.outTradeNo
  }
  if (body.length === 0) return undefined
  const text = body.toString('utf8')
  const { no, txn } = text.trimStart().startsWith('{') ? jsonIds(text) : xmlIds(text)
  if (no !== undefined) return no
  // A call may name its payment by WeChat's transaction id alone (a refund, an APIv2 query).
  return txn === undefined ? undefined : store.byTransactionId.get(txn)?.outTradeNo
}

function jsonIds(text: string): { no?: string; txn?: string } {
  try {
    const { out_trade_no: no, transaction_id: txn } = JSON.parse(text) as Record<string, unknown>
    return {
      ...(typeof no === 'string' ? { no } : {}),
      ...(typeof txn === 'string' ? { txn } : {}),
    }
  } catch {
    return {}
  }
}

function xmlIds(text: string): { no?: string; txn?: string } {
  const no = XML_OUT_TRADE_NO.exec(text)?.[1]
  const txn = XML_TRANSACTION_ID.exec(text)?.[1]
  return { ...(no === undefined ? {} : { no }), ...(txn === undefined ? {} : { txn }) }
}
