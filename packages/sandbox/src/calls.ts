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
  /** The order the call is about, when it names one (path, JSON or XML body, or its refund). */
  out_trade_no?: string
  /** The fault that answered it instead of WeChat, if any. */
  fault?: string
  /**
   * The HTTP status, once an answer was sent in full. Absent when none was: a `timeout` or `reset`
   * fault, or a client that gave up first — in which case the call may still have changed state.
   */
  status?: number
}

/**
 * Every call the merchant made, so a test can count what a client really sent per order — retries
 * included, and calls a fault answered. Forgotten by a reset. A sandbox left running (`pnpm dev`)
 * keeps only the latest `limit` calls, so the log cannot grow without bound.
 */
export class CallLog {
  #calls: CallRecord[] = []
  #seq = 0

  constructor(readonly limit = 100_000) {}

  /** Records a call, numbering it; returns the stored record (the caller fills in `status`). */
  add(call: Omit<CallRecord, 'seq'>): CallRecord {
    const record: CallRecord = { seq: ++this.#seq, ...call }
    this.#calls.push(record)
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

/** A call's record as it arrives (`status` is filled in once it is answered). */
export function newCallRecord(
  store: Store,
  call: {
    nowMs: number
    method: string
    path: string
    params: Record<string, string>
    body: Buffer
    fault: string | undefined
  },
): Omit<CallRecord, 'seq'> {
  const record: Omit<CallRecord, 'seq'> = {
    at: formatBeijingTime(call.nowMs),
    method: call.method,
    path: call.path,
  }
  const no = orderOf(store, call.path, call.params, call.body)
  if (no !== undefined) record.out_trade_no = no
  if (call.fault !== undefined) record.fault = call.fault
  return record
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
