/**
 * What the console's read endpoints (`GET /__sandbox/console/…`, routes/console.ts) answer: the
 * wire types the console page (packages/sandbox/console) imports, so both sides read one
 * definition. Times are RFC 3339 in Beijing time (`…+08:00`), amounts integer fen, lists newest
 * first.
 *
 * This module imports nothing: the page is type-checked with the DOM's types, under which the
 * sandbox's and the SDK's Node code does not compile. The records the sandbox keeps (CallRecord,
 * NotificationRecord, Fault) are restated here as they go on the wire; routes/console.ts assigns
 * the real ones to these types, so the compiler says when the two drift apart.
 */

/** A call the merchant made to WeChat's side (calls.ts `CallRecord`). */
export interface ConsoleCall {
  seq: number
  at: string
  method: string
  path: string
  out_trade_no?: string
  fault?: string
  /** Absent when no answer was sent in full (a timeout or reset fault, a client that gave up). */
  status?: number
}

/** An armed fault (faults.ts `Fault`). */
export interface ConsoleFault {
  target: string
  kind: string
  remaining?: number
  rate?: number
  seed?: number
  hits?: number
  seconds?: number
}

/** One delivery attempt (notifier.ts `Attempt`). */
export interface Attempt {
  at: string
  /** The merchant's HTTP status; 0 when there was none. */
  status: number
  ms: number
  /** The first 200 characters of the reply, or what went wrong. */
  reply: string
  ok: boolean
  probe?: boolean
}

/** A notification (notifier.ts `NotificationRecord`). */
export interface ConsoleNotificationRecord {
  id: string
  event_type: string
  out_trade_no: string
  out_refund_no?: string
  version: 'v3' | 'v2'
  url: string
  status: 'pending' | 'delivered' | 'failed' | 'dropped'
  attempts: Attempt[]
  next_attempt_at?: string
}

/** `GET /__sandbox/console/overview`: what the console's header and controls show. */
export interface ConsoleOverview {
  /** Sandbox time. */
  now: string
  /** Sandbox seconds per real second. */
  scale: number
  merchant: { mchid: string; appid: string; platform_mode: string }
  /** Refunds settle to SUCCESS by themselves this long after creation; null: only by hand. */
  refund_settle_seconds: number | null
  /** The fault kinds `POST /__sandbox/faults` takes, by target. */
  fault_kinds: { paths: readonly string[]; notifications: readonly string[] }
  faults: ConsoleFault[]
  counts: {
    orders: number
    refunds: number
    /** Refunds still PROCESSING or ABNORMAL: they can be settled by hand. */
    refunds_pending: number
    notifications: number
    calls: number
  }
}

/** A refund as the console lists it. */
export interface ConsoleRefund {
  out_refund_no: string
  refund_id: string
  out_trade_no: string
  status: string
  /** The refund's amount. */
  refund: number
  /** The order's amount. */
  total: number
  reason?: string
  created_at: string
  success_time?: string
  /** A PROCESSING refund that settles by itself: when. */
  settles_at?: string
}

/** An order as `GET /__sandbox/console/orders` lists it. */
export interface ConsoleOrderSummary {
  out_trade_no: string
  api: 'v3' | 'v2'
  trade_type: string
  trade_state: string
  description: string
  total: number
  created_at: string
  transaction_id?: string
  refunds: ConsoleRefund[]
}

/** Every field of an order the sandbox holds. */
export interface ConsoleOrder extends ConsoleOrderSummary {
  appid: string
  mchid: string
  attach?: string
  currency: string
  notify_url: string
  payer_openid?: string
  prepay_id?: string
  prepay_expires_at?: string
  code_url?: string
  h5_url?: string
  expires_at: string
  success_time?: string
  closed_at?: string
}

/** One delivery attempt with what it sent. */
export interface ConsoleAttempt extends Attempt {
  /** The request headers it sent (absent when it failed before sending, or once forgotten). */
  headers?: Record<string, string>
  /** The raw request body it sent. */
  body?: string
  /**
   * What the body carries, readable: APIv3 — the decrypted `resource` (the Transaction or Refund);
   * APIv2 — the XML's fields (APIv2 does not encrypt).
   */
  resource?: unknown
  /** Why `resource` could not be read. */
  resource_error?: string
}

/** A notification with its attempts in full. */
export interface ConsoleNotification extends Omit<ConsoleNotificationRecord, 'attempts'> {
  attempts: ConsoleAttempt[]
  /** The sandbox no longer keeps what this notification's attempts sent (it keeps the newest). */
  details_forgotten?: true
}

/** `GET /__sandbox/console/orders/:out_trade_no`. */
export interface ConsoleOrderDetail {
  order: ConsoleOrder
  /** Calls the merchant made about this order. */
  calls: ConsoleCall[]
  notifications: ConsoleNotification[]
}

/** A page of a list: the newest `limit` that match, how many match, how many there are. */
export interface ConsolePage<T> {
  total: number
  matched: number
  items: T[]
}
