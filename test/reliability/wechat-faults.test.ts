/**
 * Issue #6: WeChat misbehaving. About 20% of every call the server makes to WeChat (pay, query,
 * close, refund, and the mini-program login) fails — 500 SYSTEM_ERROR, 429 FREQUENCY_LIMITED, or no
 * answer at all — while shoppers log in, order, prepay, pay, poll and cancel. Then:
 *
 * - every answer a shopper got was a success or an error docs/api.md documents (`code` with its
 *   status, and a message), never a hang and never INTERNAL;
 * - once the faults stop and the sweeper has run, no order is stuck: each is PAID (WeChat SUCCESS)
 *   when the shopper paid, else CLOSED (closed at WeChat too when it was prepaid), with one event;
 * - retries are bounded: per order, the calls the sandbox received are at most 3 per call the
 *   server's gateway made (the SDK's policy: `maxRetries` 2, so 3 attempts; 429 and timed-out
 *   POSTs not retried at all), and the gateway calls are at most what the shopper's requests and
 *   the sweeper runs can cause (pay ≤ 3, GET ≤ 2, cancel ≤ 3, a sweeper visit ≤ 5); each login
 *   is exactly one code2Session call.
 *
 * The faults are the sandbox's rate faults, seeded (the same dice for the same order of calls).
 * A `timeout` fault never answers, so the server's WeChat timeout is 1 s here (harness option
 * `wechatTimeoutMs`) and timeouts are a quarter of the faults.
 *
 * Size: SHOPPERS = 100 in CI, 1,000 under FEN_SOAK=1; each logs in, orders and prepays; 3 in 5 pay,
 * 1 in 5 cancels, 1 in 5 walks away (the sweeper closes those).
 */
import type { Order, PayResponse, RequestPaymentParams } from '@fen/shared'
import { startHarness, type Harness, type PayGateway } from '@fen/server/test/harness'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sandboxOrders } from '../api/support'
import { scaled, soakTimeout } from '../support/soak'
import {
  dispatchAll,
  eventTypes,
  inParallel,
  isDocumentedError,
  orderDetails,
  range,
  sandboxCalls,
  sweepUntilDone,
  tally,
  untilAllNotificationsDelivered,
} from './support'

const SHOPPERS = scaled(100, 1000)
const CONCURRENCY = 16
/** The server's WeChat timeout: what a `timeout` fault costs each time. */
const WECHAT_TIMEOUT_MS = 1000
/** No answer within this long is a hang (the slowest legitimate answer is a few timeouts). */
const HANG_MS = 20_000
/** Tries a shopper makes at logging in, prepaying or cancelling before giving up. */
const TRIES = 5
/** Attempts the SDK makes per call: 1 + `maxRetries` (default 2, packages/wechatpay/src/core/client.ts). */
const SDK_MAX_ATTEMPTS = 3
/** Most gateway calls one server operation can make for an order (see services/orders.ts, payments.ts). */
const MAX_GATEWAY_CALLS = { pay: 3, get: 2, cancel: 3, sweep: 5 }
/** Rate faults on every WeChat path: 1 − 0.9 × 0.94 × 0.95 ≈ 19.6% of calls fail. */
const FAULTS = [
  { kind: 'error500', rate: 0.1, seed: 6001 },
  { kind: 'error429', rate: 0.06, seed: 6002 },
  { kind: 'timeout', rate: 0.05, seed: 6003 },
]
/** The 1-fen product: 10,000 in stock. */
const PRODUCT_ID = 5

/** Gateway calls per order: each is one SDK call. */
const gatewayCalls = new Map<string, number>()
function countGatewayCalls(g: PayGateway): PayGateway {
  const count = <T>(orderNo: string, call: () => Promise<T>): Promise<T> => {
    gatewayCalls.set(orderNo, (gatewayCalls.get(orderNo) ?? 0) + 1)
    return call()
  }
  return {
    apiVersion: g.apiVersion,
    prepayJsapi: (input) => count(input.orderNo, () => g.prepayJsapi(input)),
    requestPaymentParams: (prepayId) => g.requestPaymentParams(prepayId), // signs locally
    prepayNative: (input) => count(input.orderNo, () => g.prepayNative(input)),
    query: (orderNo) => count(orderNo, () => g.query(orderNo)),
    close: (orderNo) => count(orderNo, () => g.close(orderNo)),
    refund: (input) => count(input.orderNo, () => g.refund(input)),
    // Refund numbers are `<orderNo>-…`.
    queryRefund: (no) => count(no.split('-')[0]!, () => g.queryRefund(no)),
  }
}

let h: Harness
beforeAll(async () => {
  h = await startHarness({
    // Each shopper logs in from an address of their own, as real shoppers do (X-Forwarded-For).
    env: { TRUST_PROXY: '1' },
    wechatTimeoutMs: WECHAT_TIMEOUT_MS,
    wrapGateway: countGatewayCalls,
  })
})
afterAll(() => h?.close())

/** What a shopper's client got back. */
interface Answer {
  op: string
  status: number
  code?: string
  /** A success, or an error docs/api.md documents. */
  clear: boolean
  hang?: boolean
}
const answers: Answer[] = []

/** One request as the mini-program makes it, from the shopper's address; a hang is recorded. */
async function request<T>(
  op: string,
  ip: string,
  method: string,
  path: string,
  init: { token?: string; body?: unknown } = {},
): Promise<{ status: number; body: T } | undefined> {
  const headers: Record<string, string> = { 'x-forwarded-for': ip }
  if (init.token) headers.authorization = `Bearer ${init.token}`
  if (init.body !== undefined) headers['content-type'] = 'application/json'
  try {
    const res = await fetch(h.url + path, {
      method,
      headers,
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      signal: AbortSignal.timeout(HANG_MS),
    })
    const text = await res.text()
    let body: unknown
    try {
      body = text ? JSON.parse(text) : undefined
    } catch {
      body = text
    }
    const code = (body as { code?: unknown } | undefined)?.code
    answers.push({
      op,
      status: res.status,
      ...(res.status >= 400 && typeof code === 'string' ? { code } : {}),
      clear: res.status < 400 || isDocumentedError(res.status, body),
    })
    return { status: res.status, body: body as T }
  } catch (e) {
    answers.push({ op, status: 0, clear: false, hang: true })
    console.log(`no answer to ${method} ${path}: ${String(e)}`)
    return undefined
  }
}

type Plan = 'pay' | 'cancel' | 'walk away'
interface Shopper {
  ip: string
  plan: Plan
  channel: 'native' | 'jsapi'
  orderNo?: string
  /** The shopper paid at WeChat. */
  paid: boolean
  /** Requests that can reach WeChat, by kind. */
  ops: { pay: number; get: number; cancel: number }
}

async function shop(s: Shopper): Promise<void> {
  let token: string | undefined
  for (let t = 0; t < TRIES && !token; t++) {
    const code = await h.control<{ code: string }>('POST', '/__sandbox/login-codes', {})
    const r = await request<{ token: string }>('login', s.ip, 'POST', '/api/auth/login', {
      body: { code: code.body.code },
    })
    if (r?.status === 200) token = r.body.token
  }
  if (!token) return

  const created = await request<Order>('create', s.ip, 'POST', '/api/orders', {
    token,
    body: { items: [{ productId: PRODUCT_ID, quantity: 1 }] },
  })
  if (created?.status !== 201) return
  const orderNo = created.body.orderNo
  s.orderNo = orderNo

  let pay: PayResponse | undefined
  for (let t = 0; t < TRIES && !pay; t++) {
    s.ops.pay++
    const r = await request<PayResponse>('pay', s.ip, 'POST', `/api/orders/${orderNo}/pay`, {
      token,
      body: { channel: s.channel },
    })
    if (r?.status === 200) pay = r.body
  }
  const get = async () => {
    s.ops.get++
    await request<Order>('get', s.ip, 'GET', `/api/orders/${orderNo}`, { token })
  }

  if (s.plan === 'pay' && pay) {
    // The shopper pays: scans the QR code, or confirms wx.requestPayment in WeChat.
    if (pay.channel === 'native') {
      const r = await h.control('POST', '/__sandbox/pay', { code_url: pay.codeUrl })
      expect(r.status).toBe(200)
    } else {
      const params: RequestPaymentParams = pay.params
      const r = await h.control<{ errMsg: string }>('POST', '/__sandbox/request-payment', params)
      expect(r.body.errMsg).toBe('requestPayment:ok')
    }
    s.paid = true
    // The result page polls.
    await get()
    await get()
  } else if (s.plan === 'cancel') {
    await get()
    for (let t = 0; t < TRIES; t++) {
      s.ops.cancel++
      const r = await request<Order>('cancel', s.ip, 'POST', `/api/orders/${orderNo}/cancel`, {
        token,
      })
      if (r?.status === 200) break
    }
  } else {
    await get()
  }
}

describe('WeChat failing ~20% of calls', () => {
  it(
    `${SHOPPERS} shoppers: clear answers, no order stuck, retries bounded`,
    async () => {
      for (const f of FAULTS) {
        const r = await h.control('POST', '/__sandbox/faults', { target: '/', ...f })
        expect(r.status).toBe(200)
      }
      const shoppers: Shopper[] = range(SHOPPERS).map((i) => ({
        ip: `10.6.${i >> 8}.${i & 255}`,
        plan: (['pay', 'pay', 'pay', 'cancel', 'walk away'] as const)[i % 5]!,
        channel: i % 2 === 0 ? 'native' : 'jsapi',
        paid: false,
        ops: { pay: 0, get: 0, cancel: 0 },
      }))
      await inParallel(shoppers, CONCURRENCY, shop)

      // What the faults did.
      const armed = await h.control<{ kind: string; hits: number }[]>('GET', '/__sandbox/faults')
      const hits = Object.fromEntries(armed.body.map((f) => [f.kind, f.hits]))
      const duringFaults = await h.control<{ fault?: string }[]>('GET', '/__sandbox/calls')
      const faulted = duringFaults.body.filter((c) => c.fault).length
      // The faults really struck: every kind, about a fifth of the calls (19.6% expected; the
      // bounds are over 4 standard deviations away at CI size).
      for (const f of FAULTS) expect(hits[f.kind], f.kind).toBeGreaterThan(0)
      expect(faulted / duringFaults.body.length).toBeGreaterThan(0.1)
      expect(faulted / duringFaults.body.length).toBeLessThan(0.3)

      // The shopper always knew where they stood.
      expect(answers.filter((a) => a.hang)).toEqual([])
      expect(answers.filter((a) => !a.clear)).toEqual([])
      expect(answers.filter((a) => a.status >= 500 && a.code !== 'WECHAT_UNAVAILABLE')).toEqual([])

      // WeChat recovers; the orders left PENDING expire and the sweeper settles them.
      expect((await h.control('DELETE', '/__sandbox/faults')).status).toBe(204)
      h.advance(h.config.orderTtlSeconds + 60)
      const sweeps = await sweepUntilDone(h)
      await untilAllNotificationsDelivered(h)

      const ordered = shoppers.filter((s) => s.orderNo)
      const orders = await orderDetails(
        h,
        ordered.map((s) => s.orderNo!),
      )
      const wechat = await sandboxOrders(h)
      for (const s of ordered) {
        const no = s.orderNo!
        const o = orders.get(no)!
        const w = wechat.get(no)
        if (s.paid) {
          expect(o.status, no).toBe('PAID')
          expect(w?.trade_state, no).toBe('SUCCESS')
          expect(o.transactionId, no).toBe(w?.transaction_id)
          expect(eventTypes(o), no).toEqual(['order.paid'])
        } else {
          expect(o.status, no).toBe('CLOSED')
          // Prepaid: closed at WeChat first. Never prepaid here (every prepay failed): WeChat has
          // no order, or one whose answer was lost and that nobody holds the parameters of.
          if (o.channel) expect(w?.trade_state, no).toBe('CLOSED')
          else expect([undefined, 'NOTPAY'], no).toContain(w?.trade_state)
          expect(eventTypes(o), no).toEqual(['order.closed'])
        }
      }
      await dispatchAll([h])
      expect(h.delivered).toHaveLength(ordered.length)

      // Retries are bounded, order by order.
      const calls = await sandboxCalls(h)
      let worst = 0
      for (const s of ordered) {
        const no = s.orderNo!
        const attempts = calls.get(no)?.length ?? 0
        const sdkCalls = gatewayCalls.get(no) ?? 0
        expect(attempts, no).toBeLessThanOrEqual(SDK_MAX_ATTEMPTS * sdkCalls)
        expect(sdkCalls, no).toBeLessThanOrEqual(
          MAX_GATEWAY_CALLS.pay * s.ops.pay +
            MAX_GATEWAY_CALLS.get * s.ops.get +
            MAX_GATEWAY_CALLS.cancel * s.ops.cancel +
            MAX_GATEWAY_CALLS.sweep * sweeps.runs,
        )
        worst = Math.max(worst, attempts)
      }
      // Logins: one code2Session each, never retried (none is refused by our own rate limit).
      const all = await h.control<{ path: string }[]>('GET', '/__sandbox/calls')
      const logins = answers.filter((a) => a.op === 'login')
      expect(logins.filter((a) => a.code === 'RATE_LIMITED')).toEqual([])
      expect(all.body.filter((c) => c.path === '/sns/jscode2session')).toHaveLength(logins.length)

      const outcome = tally(ordered.map((s) => orders.get(s.orderNo!)!.status))
      const errors = tally(answers.filter((a) => a.code).map((a) => `${a.op} ${a.code}`))
      console.log(
        `wechat-faults: ${SHOPPERS} shoppers, ${ordered.length} orders, ${answers.length} requests; ` +
          `WeChat calls ${duringFaults.body.length} under faults, ${faulted} faulted ` +
          `(${((100 * faulted) / duringFaults.body.length).toFixed(1)}%: ${JSON.stringify(hits)}); ` +
          `errors ${JSON.stringify(errors)}; hangs 0; after ${sweeps.runs} sweeps ` +
          `${JSON.stringify(outcome)}, stuck 0; most calls for one order ${worst}, ` +
          `gateway calls ${[...gatewayCalls.values()].reduce((a, b) => a + b, 0)}, ` +
          `sandbox calls ${all.body.length}`,
      )
    },
    soakTimeout(120_000, 900_000),
  )
})
