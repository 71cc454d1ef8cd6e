/**
 * The HTTP edge: unknown routes and methods, bodies the JSON parser refuses, health, readiness and
 * metrics, and that no answer ever carries a stack trace.
 */
import type { ErrorBody, Order, PayResponse } from '@fen/shared'
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_TOKEN, startHarness, type ApiResponse, type Harness } from './harness'

let h: Harness
let token: string
/** Every answer the server gave in this suite, as text. */
const answers: { what: string; status: number; text: string }[] = []

beforeAll(async () => {
  h = await startHarness()
  token = await h.login('o-http-shopper')
})
afterAll(() => h.close())

/** A raw request to the server, recorded for the stack-trace check. */
async function send(
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<ApiResponse<ErrorBody & Record<string, unknown>> & { text: string }> {
  const res = await fetch(h.url + path, { method, headers: init.headers, body: init.body })
  const text = await res.text()
  answers.push({ what: `${method} ${path}`, status: res.status, text })
  let body: unknown
  try {
    body = text ? JSON.parse(text) : undefined
  } catch {
    body = undefined
  }
  return {
    status: res.status,
    body: body as ErrorBody & Record<string, unknown>,
    headers: res.headers,
    text,
  }
}

const json = { 'content-type': 'application/json' }
const authed = (t = token) => ({ ...json, authorization: `Bearer ${t}` })

function expectError(res: ApiResponse<unknown>, status: number, code: string): void {
  expect({ status: res.status, code: (res.body as ErrorBody | undefined)?.code }).toEqual({
    status,
    code,
  })
  expect(Object.keys(res.body as object).sort()).toEqual(['code', 'message'])
  expect((res.body as ErrorBody).message).toEqual(expect.any(String))
  expect(res.headers.get('content-type')).toMatch(/^application\/json/)
}

async function metrics(): Promise<string> {
  const res = await send('GET', '/metrics', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/)
  return res.text
}

/** The value of one sample in Prometheus text, or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

describe('routing', () => {
  it('an unknown route → 404 {code: NOT_FOUND}', async () => {
    for (const [method, path] of [
      ['GET', '/nope'],
      ['GET', '/api/nope'],
      ['POST', '/api/orders/FEN2024010100000000000000/refund'],
      ['GET', '/api/products/1'],
    ] as const) {
      expectError(await send(method, path, { headers: authed() }), 404, 'NOT_FOUND')
    }
  })

  it('an unknown admin route → 404 {code: NOT_FOUND} with the admin token', async () => {
    expectError(
      await send('GET', '/api/admin/nope', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }),
      404,
      'NOT_FOUND',
    )
  })

  it('a known path with a method it does not take → 405 METHOD_NOT_ALLOWED with Allow', async () => {
    for (const [method, path, allow] of [
      ['DELETE', '/api/products', 'GET'],
      ['PUT', '/api/auth/login', 'POST'],
      ['GET', '/api/auth/login', 'POST'],
    ] as const) {
      const res = await send(method, path, { headers: authed() })
      expectError(res, 405, 'METHOD_NOT_ALLOWED')
      expect(res.headers.get('allow'), `${method} ${path}`).toContain(allow)
    }
  })

  it('OPTIONS on a known path → 200 with Allow', async () => {
    const res = await send('OPTIONS', '/api/auth/login')
    expect(res.status).toBe(200)
    expect(res.headers.get('allow')).toContain('POST')
  })
})

describe('request bodies', () => {
  it('invalid JSON → 400 INVALID_INPUT', async () => {
    expectError(
      await send('POST', '/api/auth/login', { headers: json, body: '{"code": ' }),
      400,
      'INVALID_INPUT',
    )
    expectError(
      await send('POST', '/api/orders', { headers: authed(), body: '{items: [{productId: 1}]}' }),
      400,
      'INVALID_INPUT',
    )
  })

  it('JSON that is not an object or array → 400 INVALID_INPUT', async () => {
    expectError(
      await send('POST', '/api/auth/login', { headers: json, body: '"a-code"' }),
      400,
      'INVALID_INPUT',
    )
  })

  it('a body that is not JSON (text/plain) → 400 INVALID_INPUT', async () => {
    expectError(
      await send('POST', '/api/auth/login', {
        headers: { 'content-type': 'text/plain' },
        body: 'code=abc',
      }),
      400,
      'INVALID_INPUT',
    )
  })

  it('a 100 KB JSON body → 413 PAYLOAD_TOO_LARGE', async () => {
    const body = JSON.stringify({ code: 'x'.repeat(100 * 1024) })
    expectError(
      await send('POST', '/api/auth/login', { headers: json, body }),
      413,
      'PAYLOAD_TOO_LARGE',
    )
    const items = JSON.stringify({
      items: [{ productId: 1, quantity: 1, note: 'y'.repeat(100 * 1024) }],
    })
    expectError(
      await send('POST', '/api/orders', { headers: authed(), body: items }),
      413,
      'PAYLOAD_TOO_LARGE',
    )
  })

  it('a notification body over 1 MiB → 413 PAYLOAD_TOO_LARGE', async () => {
    const res = await send('POST', '/api/pay/notify', {
      headers: json,
      body: JSON.stringify({ id: 'x', resource: 'y'.repeat(1024 * 1024 + 10) }),
    })
    expectError(res, 413, 'PAYLOAD_TOO_LARGE')
  })

  it('a body just under the limit is parsed (and refused by the schema, not the parser)', async () => {
    const body = JSON.stringify({ code: 'x'.repeat(60 * 1024) })
    expectError(
      await send('POST', '/api/auth/login', { headers: json, body }),
      400,
      'INVALID_INPUT',
    )
  })
})

describe('health and readiness', () => {
  it('GET /healthz → {ok: true}', async () => {
    const res = await send('GET', '/healthz')
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ ok: true })
  })

  it('GET /readyz → {ok: true, database}', async () => {
    const res = await send('GET', '/readyz')
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      ok: true,
      database: process.env.DATABASE_URL ? 'postgres' : 'pglite',
    })
    expect(res.body.database).toBe(h.database.kind)
  })
})

describe('metrics', () => {
  it('GET /metrics counts requests by route and status', async () => {
    await send('GET', '/healthz')
    const text = await metrics()
    expect(text).toContain('# TYPE fen_http_requests_total counter')
    expect(
      sample(text, 'fen_http_requests_total{method="GET",route="/healthz",status="200"}'),
    ).toBeGreaterThanOrEqual(2)
    expect(
      sample(text, 'fen_http_requests_total{method="POST",route="/api/auth/login",status="200"}'),
    ).toBe(1)
    // Requests no route matched are counted under one label, not by path.
    expect(
      sample(text, 'fen_http_requests_total{method="GET",route="unmatched",status="404"}'),
    ).toBeGreaterThanOrEqual(2)
    expect(text).not.toContain('route="/nope"')
  })

  it('fen_orders{status="PENDING"} counts pending orders', async () => {
    const before = sample(await metrics(), 'fen_orders{status="PENDING"}') ?? 0
    const res = await send('POST', '/api/orders', {
      headers: authed(),
      body: JSON.stringify({ items: [{ productId: 5, quantity: 1 }] }),
    })
    expect(res.status).toBe(201)
    expect(sample(await metrics(), 'fen_orders{status="PENDING"}')).toBe(before + 1)
  })

  it('fen_notifications_total counts the notification of a payment', async () => {
    const created = await h.api<Order>('POST', '/api/orders', {
      token,
      body: { items: [{ productId: 4, quantity: 1 }] },
    })
    expect(created.status).toBe(201)
    const orderNo = created.body.orderNo
    const pay = await h.api<PayResponse>('POST', `/api/orders/${orderNo}/pay`, {
      token,
      body: { channel: 'jsapi' },
    })
    expect(pay.status).toBe(200)
    if (pay.body.channel !== 'jsapi') throw new Error('expected jsapi')
    const cashier = await h.control<{ errMsg: string }>(
      'POST',
      '/__sandbox/request-payment',
      pay.body.params,
    )
    expect(cashier.body.errMsg).toBe('requestPayment:ok')
    const text = await h.until(async () => {
      const t = await metrics()
      return t.includes('fen_notifications_total{') && t
    })
    expect(text).toContain('# TYPE fen_notifications_total counter')
    expect(sample(text, 'fen_notifications_total{api="v3",outcome="applied"}')).toBe(1)
    expect(sample(text, 'fen_notification_keys_total{key="public_key"}')).toBe(1)
    expect(sample(text, 'fen_orders{status="PAID"}')).toBe(1)

    // The payment wrote one order.paid event, not yet delivered (no dispatcher ran).
    expect(sample(text, 'fen_outbox_pending')).toBe(1)
    h.advance(90)
    expect(sample(await metrics(), 'fen_outbox_oldest_pending_seconds')).toBeGreaterThanOrEqual(90)
    await h.dispatch()
    const after = await metrics()
    expect(sample(after, 'fen_outbox_pending')).toBe(0)
    expect(sample(after, 'fen_outbox_oldest_pending_seconds')).toBe(0)

    // A refund WeChat has not settled yet (the harness's sandbox settles none by itself).
    expect(sample(after, 'fen_refunds{status="PROCESSING"}')).toBeUndefined()
    const refund = await h.admin('POST', `/api/admin/orders/${orderNo}/refunds`, {
      amountFen: 100,
      reason: '测试',
    })
    expect(refund.status, JSON.stringify(refund.body)).toBe(201)
    expect(sample(await metrics(), 'fen_refunds{status="PROCESSING"}')).toBe(1)
  })
})

describe('no stack traces', () => {
  it('an unexpected failure (a table gone) → 500 INTERNAL with no details', async () => {
    await h.database.db.execute(sql`alter table products rename to products_gone`)
    try {
      const res = await send('GET', '/api/products')
      expectError(res, 500, 'INTERNAL')
      expect(res.body).toEqual({ code: 'INTERNAL', message: '服务器内部错误' })
      const order = await send('POST', '/api/orders', {
        headers: authed(),
        body: JSON.stringify({ items: [{ productId: 5, quantity: 1 }] }),
      })
      expectError(order, 500, 'INTERNAL')
    } finally {
      await h.database.db.execute(sql`alter table products_gone rename to products`)
    }
    expect((await send('GET', '/api/products')).status).toBe(200)
  })

  it('no answer in this suite carries a stack trace or an internal error text', () => {
    expect(answers.length).toBeGreaterThan(20)
    for (const a of answers) {
      const where = `${a.what} → ${a.status}: ${a.text.slice(0, 200)}`
      expect(a.text, where).not.toMatch(/\bat .+\(?.+:\d+:\d+\)?/)
      expect(a.text, where).not.toMatch(/node_modules|\/src\/|\.ts:\d+/)
      expect(a.text, where).not.toMatch(/(Type|Reference|Syntax|Range)Error|DrizzleQueryError/)
      expect(a.text, where).not.toMatch(/insert into|violates|constraint/i)
    }
  })
})

describe('metrics access', () => {
  it('GET /metrics needs the admin token (it shows order counts)', async () => {
    expectError(await send('GET', '/metrics'), 401, 'ADMIN_UNAUTHORIZED')
    expectError(
      await send('GET', '/metrics', { headers: { authorization: 'Bearer wrong-token-wrong' } }),
      401,
      'ADMIN_UNAUTHORIZED',
    )
  })
})
