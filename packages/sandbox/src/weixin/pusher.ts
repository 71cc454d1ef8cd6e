import { randomUUID } from 'node:crypto'
import { buildPush, formatBeijingTime, PUSH_SUCCESS_REPLY } from '@fen/wechatpay'
import type { SandboxClock } from '../clock'

/**
 * 消息推送 as WeChat does it (wechat-ops-api.md §3): a signed POST to the developer server's URL,
 * encrypted in 安全模式 (with the EncodingAESKey) or plain (明文模式, without one), JSON or XML as the
 * console setting says. Built with the SDK's `buildPush`, the same code the receiving side checks
 * against (`parsePush`).
 */

/** The message push settings of the mini-program console (开发管理 → 消息推送). */
export interface PushConfig {
  url: string
  /** The Token (3–32 characters at WeChat; any non-empty string here). */
  token: string
  /** The 43-character EncodingAESKey: 安全模式. Without it: 明文模式. */
  encodingAESKey?: string
  /** 数据格式. Default JSON. */
  format: 'json' | 'xml'
}

/** WeChat tries a push 3 times in all when the server does not answer `success` (or empty). */
export const PUSH_ATTEMPTS = 3
/** The server must answer within 5 s. */
export const PUSH_TIMEOUT_MS = 5000

/** One attempt of a push. */
export interface PushAttempt {
  /** Sandbox time it was sent (RFC 3339, Beijing). */
  at: string
  /** The server's HTTP status; 0 when there was none (refused, reset, too slow). */
  status: number
  ms: number
  /** The first 200 characters of the reply, or what went wrong. */
  reply: string
  ok: boolean
}

/** A push and its attempts (`GET /__sandbox/pushes`). */
export interface PushRecord {
  id: string
  /** The `Event` (or `MsgType` when it is no event). */
  event: string
  out_trade_no?: string
  url: string
  mode: 'plaintext' | 'secure'
  format: 'json' | 'xml'
  /** The message before encryption. */
  message: Record<string, string | number>
  /** pending (attempts under way), delivered, failed (3 attempts without `success`). */
  status: 'pending' | 'delivered' | 'failed'
  attempts: PushAttempt[]
}

/** What the event stream carries for each attempt. */
export interface PushEvent {
  id: string
  event: string
  out_trade_no?: string
  url: string
  attempt: PushAttempt
}

/** The result of the URL check (`POST /__sandbox/push/verify`). */
export interface PushVerification {
  url: string
  status: number
  /** The server echoed `echostr` exactly. */
  ok: boolean
  echostr: string
  reply: string
}

const KEPT = 1000

export class Pusher {
  readonly #clock: SandboxClock
  readonly #appid: string
  readonly #onAttempt: (e: PushEvent) => void
  readonly #log: (line: string) => void
  #records: PushRecord[] = []
  /** Bumped by `clear()`: attempts of a push from before a reset are not recorded. */
  #generation = 0
  timeoutMs = PUSH_TIMEOUT_MS

  constructor(options: {
    clock: SandboxClock
    appid: string
    onAttempt: (e: PushEvent) => void
    log: (line: string) => void
  }) {
    this.#clock = options.clock
    this.#appid = options.appid
    this.#onAttempt = options.onAttempt
    this.#log = options.log
  }

  /**
   * Sends `message` to the configured server: up to {@link PUSH_ATTEMPTS} attempts, the next one
   * right after an attempt that failed (no answer within 5 s, a non-2xx status, or a body other
   * than `success` / empty). Resolves with the record once the attempts are over.
   */
  async send(
    config: PushConfig,
    message: Record<string, string | number>,
    outTradeNo?: string,
  ): Promise<PushRecord> {
    const record: PushRecord = {
      id: randomUUID(),
      event: String(message.Event ?? message.MsgType ?? ''),
      ...(outTradeNo !== undefined ? { out_trade_no: outTradeNo } : {}),
      url: config.url,
      mode: config.encodingAESKey ? 'secure' : 'plaintext',
      format: config.format,
      message,
      status: 'pending',
      attempts: [],
    }
    this.#records.push(record)
    if (this.#records.length > KEPT) this.#records = this.#records.slice(-KEPT)
    const generation = this.#generation
    // The first attempt waits for the task that asked for the push to end: the answer to the call
    // that caused it (an upload, a clock advance) is written in that task, so it reaches the
    // merchant first — the order a merchant normally sees (UNCONFIRMED that WeChat never pushes
    // first), and one that no longer hangs on how many steps the sandbox's answer takes.
    await new Promise<void>((resolve) => setImmediate(resolve))
    for (let i = 0; i < PUSH_ATTEMPTS && generation === this.#generation; i++) {
      const attempt = await this.#attempt(config, message)
      if (generation !== this.#generation) break
      record.attempts.push(attempt)
      this.#onAttempt({
        id: record.id,
        event: record.event,
        ...(outTradeNo !== undefined ? { out_trade_no: outTradeNo } : {}),
        url: config.url,
        attempt,
      })
      if (attempt.ok) {
        record.status = 'delivered'
        return record
      }
    }
    record.status = 'failed'
    this.#log(
      `push ${record.event} to ${config.url} failed after ${record.attempts.length} attempts`,
    )
    return record
  }

  async #attempt(
    config: PushConfig,
    message: Record<string, string | number>,
  ): Promise<PushAttempt> {
    const at = formatBeijingTime(this.#clock.now())
    const started = performance.now()
    // Signatures carry real time, as every sandbox signature does (see SandboxClock).
    const push = buildPush({
      token: config.token,
      message,
      format: config.format,
      ...(config.encodingAESKey
        ? { crypto: { encodingAESKey: config.encodingAESKey, appid: this.#appid } }
        : {}),
    })
    const url = withQuery(config.url, push.query)
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': push.contentType, 'User-Agent': 'Mozilla/4.0' },
        body: push.body,
        signal: AbortSignal.timeout(this.timeoutMs),
      })
      const text = await res.text()
      const ok = res.status >= 200 && res.status < 300 && isSuccessReply(text)
      return { at, status: res.status, ms: ms(started), reply: text.slice(0, 200), ok }
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code
      const reply =
        (e as Error).name === 'TimeoutError'
          ? `no answer within ${this.timeoutMs} ms`
          : (cause ?? (e as Error).message)
      return { at, status: 0, ms: ms(started), reply, ok: false }
    }
  }

  /** WeChat's URL check: a GET with `signature, timestamp, nonce, echostr`; the server must echo. */
  async verify(config: PushConfig): Promise<PushVerification> {
    const push = buildPush({ token: config.token, message: {}, format: 'json' })
    const echostr = String(Math.floor(Math.random() * 1e18))
    const url = withQuery(config.url, {
      signature: push.query.signature!,
      timestamp: push.query.timestamp!,
      nonce: push.query.nonce!,
      echostr,
    })
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) })
      const reply = await res.text()
      return {
        url: config.url,
        status: res.status,
        ok: res.ok && reply === echostr,
        echostr,
        reply: reply.slice(0, 200),
      }
    } catch (e) {
      return { url: config.url, status: 0, ok: false, echostr, reply: (e as Error).message }
    }
  }

  list(filter: { out_trade_no?: string; event?: string } = {}): PushRecord[] {
    return this.#records
      .filter(
        (r) =>
          (filter.out_trade_no === undefined || r.out_trade_no === filter.out_trade_no) &&
          (filter.event === undefined || r.event === filter.event),
      )
      .map((r) => ({ ...r, attempts: [...r.attempts] }))
  }

  clear(): void {
    this.#generation++
    this.#records = []
  }
}

/** `success` (surrounding blanks ignored) or an empty body. */
function isSuccessReply(text: string): boolean {
  const t = text.trim()
  return t === '' || t === PUSH_SUCCESS_REPLY
}

function withQuery(url: string, query: Record<string, string>): string {
  const u = new URL(url)
  for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v)
  return u.toString()
}

const ms = (started: number) => Math.round(performance.now() - started)
