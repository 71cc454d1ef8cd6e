/**
 * Helpers for the reliability suites (exactly-once, lost notifications, WeChat faults, close/pay
 * races): running many shoppers at a bounded concurrency, reading back every order, event and
 * sandbox call in one request each, and driving the jobs until they have nothing left to do.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { CallRecord } from '@fen/sandbox'
import type { AdminOrderDetail, OutboxEventType } from '@fen/shared'
import { ERROR_CODES } from '@fen/shared'
import type { Harness } from '@fen/server/test/harness'
import type { SandboxNotification } from '../api/support'
import { soakTimeout } from '../support/soak'

/**
 * The server's WeChat timeout for the suites that are not about WeChat failing: they load the
 * machine (the sandbox, the server and, with PGlite, the database share one process), and a slow
 * sandbox answer must not turn into a "WeChat unavailable" the suite never meant to cause.
 */
export const PATIENT_WECHAT_TIMEOUT_MS = 10_000

/**
 * Runs `fn` over `items`, at most `limit` at a time; the results come back in the items' order.
 * After a failure no new item is started, and the calls in flight are waited for before the first
 * error is thrown — so none of them runs on into `afterAll` and the next test.
 */
export async function inParallel<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  let failed = false
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++
      try {
        results[i] = await fn(items[i]!, i)
      } catch (e) {
        failed = true
        throw e
      }
    }
  }
  const settled = await Promise.allSettled(
    Array.from({ length: Math.min(limit, items.length) }, worker),
  )
  const failure = settled.find((s) => s.status === 'rejected')
  if (failure) throw failure.reason
  return results
}

/** `[0, 1, …, n - 1]`. */
export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i)

/**
 * Logs in `n` shoppers, spread round-robin over `instances` (tokens work on every instance of one
 * database). Each instance allows 30 logins a minute from one address, so at most 30 per instance.
 */
export async function shoppers(instances: Harness[], n: number): Promise<string[]> {
  if (n > 30 * instances.length) throw new Error(`${n} logins exceed the login rate limit`)
  return inParallel(range(n), 4, (i) => instances[i % instances.length]!.login())
}

/**
 * The operator's full view of each order (payments, refunds, notifications, outbox events; no sync
 * with WeChat), by order number: one request per order, because the admin lists stop at 100
 * orders and 200 events.
 */
export async function orderDetails(
  h: Harness,
  orderNos: Iterable<string>,
): Promise<Map<string, AdminOrderDetail>> {
  const nos = [...orderNos]
  const details = await inParallel(nos, 16, async (no) => {
    const res = await h.admin<AdminOrderDetail>('GET', `/api/admin/orders/${no}`)
    if (res.status !== 200) throw new Error(`admin order ${no}: ${res.status}`)
    return res.body
  })
  return new Map(details.map((d) => [d.orderNo, d]))
}

/** The types of an order's outbox events, oldest first. */
export function eventTypes(d: AdminOrderDetail): OutboxEventType[] {
  return [...d.events].sort((a, b) => a.id - b.id).map((e) => e.type)
}

/** Every call the server made to the sandbox, by out_trade_no (calls naming no order are left out). */
export async function sandboxCalls(h: Harness): Promise<Map<string, CallRecord[]>> {
  const res = await h.control<CallRecord[]>('GET', '/__sandbox/calls')
  const out = new Map<string, CallRecord[]>()
  for (const c of res.body) {
    if (c.out_trade_no === undefined) continue
    out.set(c.out_trade_no, [...(out.get(c.out_trade_no) ?? []), c])
  }
  return out
}

/**
 * Waits until the sandbox has delivered every notification it holds. A delivery that failed on a
 * busy machine is retried by WeChat 15 s later, in real time here: hence the long wait.
 */
export async function untilAllNotificationsDelivered(h: Harness): Promise<void> {
  await h.until(
    async () => {
      const n = await h.control<SandboxNotification[]>('GET', '/__sandbox/notifications')
      return n.body.every((x) => x.status === 'delivered')
    },
    soakTimeout(45_000, 120_000),
  )
}

/**
 * Runs the outbox dispatchers of all `instances` at the same time, again and again, until a round
 * finds nothing due. Returns how many rounds ran.
 */
export async function dispatchAll(instances: Harness[]): Promise<number> {
  for (let rounds = 1; ; rounds++) {
    const runs = await Promise.all(instances.map((h) => h.dispatch()))
    if (runs.every((r) => r.delivered === 0 && r.failed === 0)) return rounds
    if (rounds > 10_000) throw new Error('the outbox never drained')
  }
}

/**
 * Runs the sweeper until a run claims no expired order. A run that left orders for later (errors)
 * is followed by a minute of server time, so that their claims (60 s leases) lapse. Returns the runs.
 */
export async function sweepUntilDone(h: Harness): Promise<{ runs: number; errors: number }> {
  let errors = 0
  for (let runs = 1; ; runs++) {
    const r = await h.sweep()
    errors += r.errors
    if (r.orders === 0) return { runs, errors }
    if (r.errors > 0) h.advance(61)
    if (runs > 10_000) throw new Error('the sweeper never finished')
  }
}

/** True when `body` is an error answer docs/api.md documents: a known `code` with its status, and a message. */
export function isDocumentedError(status: number, body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return false
  const { code, message } = body as { code?: unknown; message?: unknown }
  return (
    typeof code === 'string' &&
    Object.hasOwn(ERROR_CODES, code) &&
    ERROR_CODES[code as keyof typeof ERROR_CODES] === status &&
    typeof message === 'string' &&
    message.length > 0
  )
}

/** A notification exactly as it reached us: the bytes and the headers. */
export interface CapturedNotification {
  path: string
  headers: Record<string, string>
  body: Buffer
}

/**
 * A stand-in notify endpoint: point PUBLIC_BASE_URL at it and the sandbox delivers WeChat's
 * notifications here (answered 204, so WeChat counts them delivered and never retries), to be
 * replayed byte for byte to the servers.
 */
export async function startNotificationCapture(): Promise<{
  url: string
  received: CapturedNotification[]
  close(): Promise<void>
}> {
  const received: CapturedNotification[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push({
        path: req.url ?? '/',
        headers: replayable(req.headers),
        body: Buffer.concat(chunks),
      })
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** The headers to send again: all of WeChat's but the ones that describe the old connection. */
function replayable(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(headers)) {
    if (['host', 'content-length', 'connection', 'keep-alive', 'transfer-encoding'].includes(k))
      continue
    if (typeof v === 'string') out[k] = v
  }
  return out
}

/** Counts of each value: `tally(['a', 'b', 'a'])` is `{a: 2, b: 1}`. */
export function tally(values: Iterable<string>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const v of values) out[v] = (out[v] ?? 0) + 1
  return out
}
