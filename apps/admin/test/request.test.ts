// The console's request client against a real HTTP server on this machine: what it sends (the
// token, JSON, the query), and what a refusal becomes (ApiError with the server's code and message;
// a 401 drops the stored token and sends the operator to sign in).
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ApiError, createRequestClient, isApiError, type TokenStore } from '../src/api/request'

interface Seen {
  method: string
  url: string
  authorization: string | undefined
  contentType: string | undefined
  idempotencyKey: string | undefined
  body: string
}

let server: Server
let baseUrl: string
let seen: Seen[] = []
/** What the server answers next: status, content type and body. */
let answer: { status: number; type: string; body: string }

const read = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let s = ''
    req.on('data', (c: Buffer) => (s += c.toString()))
    req.on('end', () => resolve(s))
  })

beforeAll(async () => {
  server = createServer(async (req, res) => {
    seen.push({
      method: req.method ?? '',
      url: req.url ?? '',
      authorization: req.headers.authorization,
      contentType: req.headers['content-type'],
      idempotencyKey: req.headers['idempotency-key'] as string | undefined,
      body: await read(req),
    })
    res.writeHead(answer.status, { 'content-type': answer.type }).end(answer.body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

let stored: string | null
let signIns: number
const token: TokenStore = {
  get: () => stored,
  set: (t) => (stored = t),
  clear: () => (stored = null),
}
const client = () => createRequestClient({ baseUrl, token, onUnauthorized: () => signIns++ })
const json = (status: number, body: unknown) => ({
  status,
  type: 'application/json',
  body: JSON.stringify(body),
})

beforeEach(() => {
  seen = []
  stored = 'admin-token-1'
  signIns = 0
  answer = json(200, { ok: true })
})

describe('the request client', () => {
  it('sends the stored token, the query without its empty values, and JSON bodies', async () => {
    const c = client()
    expect(
      await c.get('/api/admin/orders', {
        status: 'PAID',
        orderNo: '',
        cursor: undefined,
        limit: 20,
      }),
    ).toEqual({ ok: true })
    await c.post(
      '/api/admin/orders/F1/refunds',
      { amountFen: 100, reason: '少发' },
      {
        'idempotency-key': 'k-1',
      },
    )
    await c.post('/api/admin/orders/F1/sync')
    expect(seen).toEqual([
      {
        method: 'GET',
        url: '/api/admin/orders?status=PAID&limit=20',
        authorization: 'Bearer admin-token-1',
        contentType: undefined,
        idempotencyKey: undefined,
        body: '',
      },
      {
        method: 'POST',
        url: '/api/admin/orders/F1/refunds',
        authorization: 'Bearer admin-token-1',
        contentType: 'application/json',
        idempotencyKey: 'k-1',
        body: '{"amountFen":100,"reason":"少发"}',
      },
      {
        method: 'POST',
        url: '/api/admin/orders/F1/sync',
        authorization: 'Bearer admin-token-1',
        contentType: 'application/json',
        idempotencyKey: undefined,
        body: '{}',
      },
    ])
  })

  it('turns a refusal into an ApiError with the server’s code and message', async () => {
    answer = json(409, {
      code: 'REFUND_NOT_ALLOWED',
      message: '退款金额超过可退金额，最多可退 ¥1.00',
    })
    const e = await client()
      .post('/api/admin/orders/F1/refunds', { amountFen: 200, reason: 'x' })
      .catch((x: unknown) => x)
    expect(e).toBeInstanceOf(ApiError)
    expect(e).toMatchObject({
      status: 409,
      code: 'REFUND_NOT_ALLOWED',
      message: '退款金额超过可退金额，最多可退 ¥1.00',
    })
    expect(isApiError(e, 'REFUND_NOT_ALLOWED')).toBe(true)
    expect(isApiError(e, 'ORDER_NOT_FOUND')).toBe(false)
    expect([stored, signIns]).toEqual(['admin-token-1', 0])
  })

  it('names an answer that is not one of ours by its status (a proxy’s page)', async () => {
    answer = { status: 502, type: 'text/html', body: '<h1>Bad Gateway</h1>' }
    await expect(client().get('/api/admin/summary')).rejects.toMatchObject({
      status: 502,
      code: 'HTTP_502',
      message: '请求失败（HTTP 502）',
    })
  })

  it('on a 401 drops the stored token and sends the operator to sign in, once per refusal', async () => {
    answer = json(401, { code: 'ADMIN_UNAUTHORIZED', message: '管理令牌无效' })
    await expect(client().get('/api/admin/summary')).rejects.toMatchObject({
      status: 401,
      code: 'ADMIN_UNAUTHORIZED',
    })
    expect([stored, signIns]).toEqual([null, 1])
  })

  it('trying another token (sign-in) keeps the stored one, and a 401 there sends no one anywhere', async () => {
    answer = json(401, { code: 'ADMIN_UNAUTHORIZED', message: '管理令牌无效' })
    await expect(
      client().request('/api/admin/summary', { bearer: 'a-guess' }),
    ).rejects.toMatchObject({ status: 401 })
    expect(seen[0]?.authorization).toBe('Bearer a-guess')
    expect([stored, signIns]).toEqual(['admin-token-1', 0])
  })

  it('reads /metrics as text', async () => {
    answer = { status: 200, type: 'text/plain', body: 'fen_up 1\n' }
    expect(await client().request('/metrics', { responseType: 'text' })).toBe('fen_up 1\n')
  })

  it('says so when the server cannot be reached', async () => {
    const c = createRequestClient({
      baseUrl: 'http://127.0.0.1:1',
      token,
      onUnauthorized: () => signIns++,
    })
    await expect(c.get('/api/admin/summary')).rejects.toMatchObject({ status: 0, code: 'NETWORK' })
  })
})
