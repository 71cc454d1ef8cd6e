import { formatBeijingTime } from '@fen/wechatpay'
import type { SandboxClock, ScheduledTask } from './clock'
import type { Faults } from './faults'

/**
 * WeChat's retry intervals after a failed delivery, in seconds: 15s/15s/30s/3m/10m/20m/30m/30m/30m/
 * 60m/3h/3h/3h/6h/6h — at most 16 deliveries over 24 h 4 min (APIv3 payment notifications).
 */
export const V3_RETRY_SCHEDULE = [
  15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600,
]
/** The legacy APIv2 schedule: 15/15/30/180/1800/1800/1800/1800/3600 seconds. */
export const V2_RETRY_SCHEDULE = [15, 15, 30, 180, 1800, 1800, 1800, 1800, 3600]

/** A notification on its way to the merchant. */
export interface OutgoingNotification {
  id: string
  version: 'v3' | 'v2'
  eventType: string
  outTradeNo: string
  outRefundNo?: string | undefined
  url: string
  body: string
  /** Headers for one attempt; `probe` makes its signature a `WECHATPAY/SIGNTEST/` probe. */
  headers(probe: boolean): Promise<Record<string, string>>
  /** APIv2 only: the body of a probe (a wrong `sign`). */
  probeBody?: () => string
}

/** One delivery attempt as the control API reports it. */
export interface Attempt {
  /** Sandbox time the attempt was sent (RFC 3339, Beijing). */
  at: string
  /** The merchant's HTTP status; 0 when there was none (refused, reset, or too slow). */
  status: number
  /** Real milliseconds the attempt took. */
  ms: number
  /** The first 200 characters of the merchant's reply, or what went wrong. */
  reply: string
  /** This attempt delivered the notification. */
  ok: boolean
  /** A `WECHATPAY/SIGNTEST/` probe: the merchant should have refused it (4xx/5xx). */
  probe?: boolean
  /** A copy sent to a forward (`fen-sandbox listen`): the URL it went to instead of `notify_url`. */
  forwarded_to?: string
}

/** What one attempt sent: its headers, and its body when that differs from the notification's (an APIv2 probe). */
export interface SentRequest {
  headers: Record<string, string>
  body?: string
}

/** A notification with what each attempt sent (`undefined` for an attempt that failed before sending). */
export interface NotificationDetail {
  record: NotificationRecord
  /** The body every attempt sent but a probe of an APIv2 notification. */
  body: string
  /** One per attempt, in the order of `record.attempts`; absent once forgotten (see SENT_KEPT). */
  sent: (SentRequest | undefined)[] | undefined
}

/**
 * How many notifications keep what their attempts sent (the newest; about 1 KB of headers per
 * attempt), so a sandbox left running holds a bounded amount of it. Older ones keep their record.
 */
export const SENT_KEPT = 1000

/** One delivery attempt of a notification, to its `notify_url` or to a forward (`fen-sandbox listen`). */
export interface DeliveryEvent {
  /** The notification's id (as in `GET /__sandbox/notifications`). */
  id: string
  event_type: string
  out_trade_no: string
  out_refund_no?: string
  /** Where this attempt went. */
  url: string
  /** The forward it went to, when it was a forwarded copy; absent for the `notify_url` attempt. */
  forward?: string
  attempt: Attempt
}

/** A notification's record: `GET /__sandbox/notifications` returns these. */
export interface NotificationRecord {
  id: string
  event_type: string
  out_trade_no: string
  out_refund_no?: string
  version: 'v3' | 'v2'
  url: string
  /** pending (more attempts to come), delivered, failed (schedule exhausted), dropped (a fault). */
  status: 'pending' | 'delivered' | 'failed' | 'dropped'
  attempts: Attempt[]
  /** When the next attempt is due (sandbox time), while pending. */
  next_attempt_at?: string
}

interface Entry {
  n: OutgoingNotification
  record: NotificationRecord
  /** Sandbox ms the current attempt was due: the next is due an interval after it. */
  dueMs: number
  /** Failed attempts so far, which index the retry schedule. */
  failures: number
  probeNext: boolean
  duplicateNext: boolean
  timer: ScheduledTask | undefined
  /** A notification a `reorder` fault held, to go out once this one's first attempt is answered. */
  releases?: Entry
}

/**
 * Delivers notifications the way WeChat does: POST to `notify_url`; success only on 200/204 (v2: 200
 * with `return_code` SUCCESS) within the deadline; otherwise retried on the schedule. Retry `k` is due
 * its interval after the due time of the attempt before it, so offsets from the first attempt are
 * exactly 15 s, 30 s, 60 s, 4 min, … in sandbox time (an attempt recorded late is sent at once).
 */
export class Notifier {
  readonly #clock: SandboxClock
  readonly #faults: Faults
  readonly #timeoutMs: number
  readonly #log: (line: string) => void
  readonly #entries = new Map<string, Entry>()
  /** What each attempt sent, for the newest SENT_KEPT notifications (oldest first). */
  readonly #sent = new Map<string, (SentRequest | undefined)[]>()
  readonly #onAttempt: (event: DeliveryEvent) => void
  /** A notification held by a `reorder` fault until the next one has gone out. */
  #held: Entry | undefined
  /** Forwards by id: URLs that get a copy of every attempt (`fen-sandbox listen`). */
  readonly #forwards = new Map<string, string>()
  #nextForward = 1

  constructor(options: {
    clock: SandboxClock
    faults: Faults
    timeoutMs: number
    log: (line: string) => void
    /** Told of every attempt once it is answered (the live event stream). */
    onAttempt?: (event: DeliveryEvent) => void
  }) {
    this.#clock = options.clock
    this.#faults = options.faults
    this.#timeoutMs = options.timeoutMs
    this.#log = options.log
    this.#onAttempt = options.onAttempt ?? (() => undefined)
  }

  /**
   * Sends every attempt from now on to `url` too — the same body, signed afresh — whatever
   * `notify_url` the order named. An attempt succeeds when any of its copies is accepted, so a
   * forward that answers 200 ends the retries as the merchant's `notify_url` would (see the
   * README, "fen-sandbox listen"). Returns the forward's id, for {@link removeForward}.
   */
  addForward(url: string): string {
    const id = `fwd_${this.#nextForward++}`
    this.#forwards.set(id, url)
    this.#log(`forwarding notifications to ${url} (${id})`)
    return id
  }

  removeForward(id: string): boolean {
    const removed = this.#forwards.delete(id)
    if (removed) this.#log(`stopped forwarding (${id})`)
    return removed
  }

  /** `GET /__sandbox/forwards` */
  forwards(): { id: string; url: string }[] {
    return [...this.#forwards].map(([id, url]) => ({ id, url }))
  }

  enqueue(n: OutgoingNotification): void {
    const entry: Entry = {
      n,
      record: {
        id: n.id,
        event_type: n.eventType,
        out_trade_no: n.outTradeNo,
        ...(n.outRefundNo ? { out_refund_no: n.outRefundNo } : {}),
        version: n.version,
        url: n.url,
        status: 'pending',
        attempts: [],
      },
      dueMs: this.#clock.now(),
      failures: 0,
      probeNext: false,
      duplicateNext: false,
      timer: undefined,
    }
    this.#entries.set(n.id, entry)
    this.#sent.set(n.id, [])
    if (this.#sent.size > SENT_KEPT) this.#sent.delete(this.#sent.keys().next().value!)
    const fault = this.#faults.forNotification()
    const held = this.#held
    this.#held = undefined
    switch (fault?.kind) {
      case 'drop':
        entry.record.status = 'dropped'
        this.#log(`notification ${n.id} dropped (fault)`)
        break
      case 'delay':
        this.#schedule(entry, this.#clock.now() + (fault.seconds ?? 60) * 1000)
        break
      case 'reorder':
        // Held until the next notification goes out, or 60 s, whichever is first.
        this.#held = entry
        this.#schedule(entry, this.#clock.now() + 60_000)
        break
      default:
        entry.probeNext = fault?.kind === 'probe'
        entry.duplicateNext = fault?.kind === 'duplicate'
        this.#schedule(entry, this.#clock.now())
        // The held one follows this one out: once this one's first attempt has been answered, so
        // it reaches the merchant second however long signing takes (it runs on the thread pool).
        if (held && held !== entry) entry.releases = held
        return
    }
    // This one is not going out now: the held one goes at once.
    if (held && held !== entry) queueMicrotask(() => this.#schedule(held, this.#clock.now()))
  }

  /** `GET /__sandbox/notifications?out_trade_no=` */
  list(outTradeNo?: string): NotificationRecord[] {
    const out: NotificationRecord[] = []
    for (const e of this.#entries.values()) {
      if (outTradeNo === undefined || e.record.out_trade_no === outTradeNo) {
        out.push(structuredClone(e.record))
      }
    }
    return out
  }

  /** How many notifications the sandbox holds. */
  get size(): number {
    return this.#entries.size
  }

  /** A notification with its body and what each attempt sent (the sandbox console's detail). */
  detail(id: string): NotificationDetail | undefined {
    const entry = this.#entries.get(id)
    if (!entry) return undefined
    const sent = this.#sent.get(id)
    return {
      record: structuredClone(entry.record),
      body: entry.n.body,
      sent: sent && structuredClone(sent),
    }
  }

  /** Delivers a notification again now (whatever its status); a success ends its retries. */
  async resend(id: string): Promise<NotificationRecord | undefined> {
    const entry = this.#entries.get(id)
    if (!entry) return undefined
    await this.#send(entry, false, true)
    return structuredClone(entry.record)
  }

  reset(): void {
    for (const e of this.#entries.values()) e.timer?.cancel()
    this.#entries.clear()
    this.#sent.clear()
    this.#held = undefined
  }

  #schedule(entry: Entry, dueMs: number): void {
    entry.timer?.cancel()
    entry.dueMs = dueMs
    entry.record.next_attempt_at = formatBeijingTime(dueMs)
    entry.timer = this.#clock.at(dueMs, () => {
      entry.timer = undefined
      void this.#attempt(entry)
    })
  }

  /** Sends the notification `entry` held back (a `reorder` fault), unless a reset forgot it. */
  #release(entry: Entry): void {
    const held = entry.releases
    entry.releases = undefined
    if (held && this.#entries.get(held.n.id) === held) this.#schedule(held, this.#clock.now())
  }

  async #attempt(entry: Entry): Promise<void> {
    if (entry.record.status !== 'pending') return this.#release(entry)
    delete entry.record.next_attempt_at
    const probe = entry.probeNext
    entry.probeNext = false
    const copies = entry.duplicateNext ? 2 : 1
    entry.duplicateNext = false
    const results = await Promise.all(
      Array.from({ length: copies }, () => this.#send(entry, probe, false)),
    )
    this.#release(entry)
    // Delivered meanwhile, or forgotten by a reset while the attempt was in flight.
    if (entry.record.status !== 'pending' || this.#entries.get(entry.n.id) !== entry) return
    if (results.some(Boolean)) return
    const schedule = entry.n.version === 'v2' ? V2_RETRY_SCHEDULE : V3_RETRY_SCHEDULE
    const interval = schedule[entry.failures]
    entry.failures += 1
    if (interval === undefined) {
      entry.record.status = 'failed'
      this.#log(`notification ${entry.n.id} failed after ${entry.record.attempts.length} attempts`)
      return
    }
    // Exactly on the schedule; a retry already overdue (a slow attempt) is sent at once but keeps
    // its due time, so offsets stay 15 s, 30 s, 60 s, … whatever the time scale.
    this.#schedule(entry, entry.dueMs + interval * 1000)
  }

  /** One attempt: to `notify_url` and to every forward at once; true when any copy was accepted. */
  async #send(entry: Entry, probe: boolean, resend: boolean): Promise<boolean> {
    const targets = [
      { url: entry.n.url, forward: undefined as string | undefined },
      ...[...this.#forwards].map(([forward, url]) => ({ url, forward })),
    ]
    const results = await Promise.all(
      targets.map((t) => this.#deliver(entry, probe, resend, t.url, t.forward)),
    )
    return results.some(Boolean)
  }

  /** One POST. Records the attempt; on success marks the notification delivered. */
  async #deliver(
    entry: Entry,
    probe: boolean,
    resend: boolean,
    url: string,
    forward: string | undefined,
  ): Promise<boolean> {
    const at = resend ? this.#clock.now() : entry.dueMs
    const started = performance.now()
    let status = 0
    let reply: string
    let ok = false
    let sent: SentRequest | undefined
    try {
      const body = probe && entry.n.probeBody ? entry.n.probeBody() : entry.n.body
      const headers = await entry.n.headers(probe)
      sent = body === entry.n.body ? { headers } : { headers, body }
      // Forgotten by a reset or close while it was being signed: not sent (it would reach whatever
      // listens at its URL next, e.g. the next test's server).
      if (this.#entries.get(entry.n.id) !== entry) return false
      const res = await fetch(url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(this.#timeoutMs),
        redirect: 'manual',
      })
      status = res.status
      reply = (await res.text()).slice(0, 200)
      const accepted =
        entry.n.version === 'v2'
          ? status === 200 && /<return_code>\s*(<!\[CDATA\[)?SUCCESS/.test(reply)
          : status === 200 || status === 204
      // A probe never delivers the notification, whatever the merchant answers: the real one
      // follows on the schedule. (A merchant answering 2xx to a probe is not verifying.)
      ok = accepted && !probe
    } catch (e) {
      const err = e as {
        name?: string
        cause?: { code?: string; message?: string }
        message?: string
      }
      reply =
        err.name === 'TimeoutError'
          ? `no reply within ${this.#timeoutMs} ms`
          : (err.cause?.code ?? err.cause?.message ?? err.message ?? String(e))
    }
    const attempt: Attempt = {
      at: formatBeijingTime(at),
      status,
      ms: Math.round(performance.now() - started),
      reply,
      ok,
    }
    if (probe) attempt.probe = true
    if (forward !== undefined) attempt.forwarded_to = url
    entry.record.attempts.push(attempt)
    this.#sent.get(entry.n.id)?.push(sent)
    const { record } = entry
    this.#onAttempt({
      id: record.id,
      event_type: record.event_type,
      out_trade_no: record.out_trade_no,
      ...(record.out_refund_no ? { out_refund_no: record.out_refund_no } : {}),
      url,
      ...(forward === undefined ? {} : { forward }),
      attempt: { ...attempt },
    })
    if (ok && entry.record.status !== 'delivered') {
      entry.record.status = 'delivered'
      entry.timer?.cancel()
      delete entry.record.next_attempt_at
    }
    return ok
  }
}
