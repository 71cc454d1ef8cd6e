import { ERROR_CODES, type ErrorCode, type Order, type Product } from '@fen/shared'
import { ADMIN_TOKEN, startHarness, type Harness } from '@fen/server/test/harness'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createOrder, prepayNative, sandboxOrder, sandboxPay, untilStatus } from './support'

let h: Harness
let token: string
/** A PENDING order (prepaid, never paid) and a PAID one: valid targets for the bad requests. */
let pending: Order
let paid: Order

beforeAll(async () => {
  h = await startHarness()
  token = await h.login()
  pending = await createOrder(h, token, [{ productId: 1, quantity: 1 }])
  await prepayNative(h, token, pending.orderNo)
  paid = await createOrder(h, token, [{ productId: 3, quantity: 1 }])
  await sandboxPay(h, { code_url: await prepayNative(h, token, paid.orderNo) })
  await untilStatus(h, paid.orderNo, 'PAID')
  await h.dispatch()
})
afterAll(() => h?.close())

type Auth = 'user' | 'admin' | 'none' | { bearer: string }

interface Case {
  name: string
  method: string
  path: string | (() => string)
  auth: Auth
  body?: unknown
  raw?: string
  headers?: Record<string, string>
  status: number
  code: ErrorCode
}

const JSON_CT = { 'content-type': 'application/json' }
const EMOJI = '😀'
const BIG = 'x'.repeat(70 * 1024)

async function send(c: Case) {
  const path = typeof c.path === 'function' ? c.path() : c.path
  const headers: Record<string, string> = { ...c.headers }
  if (c.auth === 'user') headers.authorization = `Bearer ${token}`
  else if (c.auth === 'admin') headers.authorization = `Bearer ${ADMIN_TOKEN}`
  else if (typeof c.auth === 'object') headers.authorization = `Bearer ${c.auth.bearer}`
  return h.api<{ code: string; message: string }>(c.method, path, {
    headers,
    ...(c.body !== undefined ? { body: c.body } : {}),
    ...(c.raw !== undefined ? { raw: c.raw } : {}),
  })
}

/** What must not change: orders, their statuses and amounts, refunds, events, stock, WeChat's view. */
async function snapshot() {
  const [orders, events, products, mine] = await Promise.all([
    h.admin<{ items: { orderNo: string; status: string; refundedFen: number }[] }>(
      'GET',
      '/api/admin/orders?limit=200',
    ),
    h.admin<{ items: unknown[] }>('GET', '/api/admin/events?limit=200'),
    h.api<Product[]>('GET', '/api/products'),
    h.api<Order[]>('GET', '/api/orders', { token }),
  ])
  const details = await Promise.all(
    orders.body.items.map(async (o) => {
      const d = await h.admin<{ refunds: unknown[]; payments: unknown[]; channel?: string }>(
        'GET',
        `/api/admin/orders/${o.orderNo}`,
      )
      return { ...o, refunds: d.body.refunds, payments: d.body.payments, channel: d.body.channel }
    }),
  )
  return {
    orders: details,
    events: events.body.items,
    stock: products.body.map((p) => [p.id, p.stock]),
    mine: mine.body.map((o) => o.orderNo),
    wechat: await Promise.all(
      [pending, paid].map(async (o) => {
        const s = await sandboxOrder(h, o.orderNo)
        return [s?.trade_state, s?.refunds.length]
      }),
    ),
  }
}

const orderCases = (prefix: string, method: string, suffix = '', auth: Auth = 'user'): Case[] => [
  {
    name: `${method} ${prefix}/:orderNo${suffix}: too short`,
    method,
    path: `${prefix}/abc${suffix}`,
    auth,
    status: 400,
    code: 'INVALID_INPUT',
  },
  {
    name: `${method} ${prefix}/:orderNo${suffix}: 33 characters`,
    method,
    path: `${prefix}/${'A'.repeat(33)}${suffix}`,
    auth,
    status: 400,
    code: 'INVALID_INPUT',
  },
  {
    name: `${method} ${prefix}/:orderNo${suffix}: punctuation`,
    method,
    path: `${prefix}/${encodeURIComponent('FEN2025!@#$')}${suffix}`,
    auth,
    status: 400,
    code: 'INVALID_INPUT',
  },
  {
    name: `${method} ${prefix}/:orderNo${suffix}: 4-byte UTF-8`,
    method,
    path: `${prefix}/${encodeURIComponent(`FEN${EMOJI}123456`)}${suffix}`,
    auth,
    status: 400,
    code: 'INVALID_INPUT',
  },
  {
    name: `${method} ${prefix}/:orderNo${suffix}: malformed percent-encoding`,
    method,
    path: `${prefix}/FEN%E0%A4%A${suffix}`,
    auth,
    status: 400,
    code: 'INVALID_INPUT',
  },
  {
    name: `${method} ${prefix}/:orderNo${suffix}: SQL-looking`,
    method,
    path: `${prefix}/${encodeURIComponent("1' OR '1'='1")}${suffix}`,
    auth,
    status: 400,
    code: 'INVALID_INPUT',
  },
  {
    name: `${method} ${prefix}/:orderNo${suffix}: well-formed but unknown`,
    method,
    path: `${prefix}/FEN${'9'.repeat(22)}${suffix}`,
    auth,
    status: 404,
    code: 'ORDER_NOT_FOUND',
  },
]

// prettier-ignore
const cases: Case[] = [
  // ---- login ---------------------------------------------------------------------------------
  { name: 'login: no code', method: 'POST', path: '/api/auth/login', auth: 'none', body: {}, status: 400, code: 'INVALID_INPUT' },
  { name: 'login: code is a number', method: 'POST', path: '/api/auth/login', auth: 'none', body: { code: 123 }, status: 400, code: 'INVALID_INPUT' },
  { name: 'login: code is null', method: 'POST', path: '/api/auth/login', auth: 'none', body: { code: null }, status: 400, code: 'INVALID_INPUT' },
  { name: 'login: code is an array', method: 'POST', path: '/api/auth/login', auth: 'none', body: { code: ['a'] }, status: 400, code: 'INVALID_INPUT' },
  { name: 'login: empty code', method: 'POST', path: '/api/auth/login', auth: 'none', body: { code: '' }, status: 400, code: 'INVALID_INPUT' },
  { name: 'login: 129-character code', method: 'POST', path: '/api/auth/login', auth: 'none', body: { code: 'c'.repeat(129) }, status: 400, code: 'INVALID_INPUT' },
  { name: 'login: 4-byte UTF-8 code', method: 'POST', path: '/api/auth/login', auth: 'none', body: { code: `abc${EMOJI}` }, status: 400, code: 'INVALID_INPUT' },
  { name: 'login: unknown code', method: 'POST', path: '/api/auth/login', auth: 'none', body: { code: 'no-such-code' }, status: 400, code: 'LOGIN_CODE_INVALID' },
  { name: 'login: bad JSON', method: 'POST', path: '/api/auth/login', auth: 'none', raw: '{"code":', headers: JSON_CT, status: 400, code: 'INVALID_INPUT' },
  { name: 'login: JSON array', method: 'POST', path: '/api/auth/login', auth: 'none', raw: '[]', headers: JSON_CT, status: 400, code: 'INVALID_INPUT' },
  { name: 'login: JSON string', method: 'POST', path: '/api/auth/login', auth: 'none', raw: '"abc"', headers: JSON_CT, status: 400, code: 'INVALID_INPUT' },
  { name: 'login: text/plain', method: 'POST', path: '/api/auth/login', auth: 'none', raw: '{"code":"abc"}', headers: { 'content-type': 'text/plain' }, status: 400, code: 'INVALID_INPUT' },
  { name: 'login: form-encoded', method: 'POST', path: '/api/auth/login', auth: 'none', raw: 'code=abc', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 400, code: 'INVALID_INPUT' },
  { name: 'login: no body', method: 'POST', path: '/api/auth/login', auth: 'none', status: 400, code: 'INVALID_INPUT' },
  { name: 'login: oversized body', method: 'POST', path: '/api/auth/login', auth: 'none', body: { code: BIG }, status: 413, code: 'PAYLOAD_TOO_LARGE' },
  { name: 'login: GET', method: 'GET', path: '/api/auth/login', auth: 'none', status: 405, code: 'METHOD_NOT_ALLOWED' },

  // ---- create an order ----------------------------------------------------------------------
  { name: 'create: no token', method: 'POST', path: '/api/orders', auth: 'none', body: { items: [{ productId: 1, quantity: 1 }] }, status: 401, code: 'UNAUTHORIZED' },
  { name: 'create: a forged token', method: 'POST', path: '/api/orders', auth: { bearer: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.' }, body: { items: [{ productId: 1, quantity: 1 }] }, status: 401, code: 'UNAUTHORIZED' },
  { name: 'create: the admin token', method: 'POST', path: '/api/orders', auth: 'admin', body: { items: [{ productId: 1, quantity: 1 }] }, status: 401, code: 'UNAUTHORIZED' },
  { name: 'create: no items', method: 'POST', path: '/api/orders', auth: 'user', body: {}, status: 400, code: 'INVALID_INPUT' },
  { name: 'create: items is a string', method: 'POST', path: '/api/orders', auth: 'user', body: { items: 'x' }, status: 400, code: 'INVALID_INPUT' },
  { name: 'create: empty items', method: 'POST', path: '/api/orders', auth: 'user', body: { items: [] }, status: 400, code: 'INVALID_INPUT' },
  { name: 'create: 21 lines', method: 'POST', path: '/api/orders', auth: 'user', body: { items: Array.from({ length: 21 }, (_, i) => ({ productId: i + 1, quantity: 1 })) }, status: 400, code: 'INVALID_INPUT' },
  { name: 'create: one product on two lines', method: 'POST', path: '/api/orders', auth: 'user', body: { items: [{ productId: 1, quantity: 1 }, { productId: 1, quantity: 2 }] }, status: 400, code: 'INVALID_INPUT' },
  { name: 'create: quantity 0', method: 'POST', path: '/api/orders', auth: 'user', body: { items: [{ productId: 1, quantity: 0 }] }, status: 400, code: 'INVALID_INPUT' },
  { name: 'create: negative quantity', method: 'POST', path: '/api/orders', auth: 'user', body: { items: [{ productId: 1, quantity: -1 }] }, status: 400, code: 'INVALID_INPUT' },
  { name: 'create: fractional quantity', method: 'POST', path: '/api/orders', auth: 'user', body: { items: [{ productId: 1, quantity: 1.5 }] }, status: 400, code: 'INVALID_INPUT' },
  { name: 'create: quantity as a string', method: 'POST', path: '/api/orders', auth: 'user', body: { items: [{ productId: 1, quantity: '1' }] }, status: 400, code: 'INVALID_INPUT' },
  { name: 'create: quantity 100', method: 'POST', path: '/api/orders', auth: 'user', body: { items: [{ productId: 1, quantity: 100 }] }, status: 400, code: 'INVALID_INPUT' },
  { name: 'create: quantity 1e400', method: 'POST', path: '/api/orders', auth: 'user', raw: '{"items":[{"productId":1,"quantity":1e400}]}', headers: JSON_CT, status: 400, code: 'INVALID_INPUT' },
  { name: 'create: no quantity', method: 'POST', path: '/api/orders', auth: 'user', body: { items: [{ productId: 1 }] }, status: 400, code: 'INVALID_INPUT' },
  { name: 'create: productId 0', method: 'POST', path: '/api/orders', auth: 'user', body: { items: [{ productId: 0, quantity: 1 }] }, status: 400, code: 'INVALID_INPUT' },
  { name: 'create: productId 2^31', method: 'POST', path: '/api/orders', auth: 'user', body: { items: [{ productId: 2 ** 31, quantity: 1 }] }, status: 400, code: 'INVALID_INPUT' },
  { name: 'create: productId beyond 2^53', method: 'POST', path: '/api/orders', auth: 'user', raw: '{"items":[{"productId":9007199254740993,"quantity":1}]}', headers: JSON_CT, status: 400, code: 'INVALID_INPUT' },
  { name: 'create: productId as a string', method: 'POST', path: '/api/orders', auth: 'user', body: { items: [{ productId: 'abc', quantity: 1 }] }, status: 400, code: 'INVALID_INPUT' },
  { name: 'create: productId null', method: 'POST', path: '/api/orders', auth: 'user', body: { items: [{ productId: null, quantity: 1 }] }, status: 400, code: 'INVALID_INPUT' },
  { name: 'create: unknown product', method: 'POST', path: '/api/orders', auth: 'user', body: { items: [{ productId: 999, quantity: 1 }] }, status: 404, code: 'PRODUCT_NOT_FOUND' },
  { name: 'create: more than the stock', method: 'POST', path: '/api/orders', auth: 'user', body: { items: [{ productId: 2, quantity: 60 }] }, status: 409, code: 'OUT_OF_STOCK' },
  { name: 'create: one good line, one over the stock (all or nothing)', method: 'POST', path: '/api/orders', auth: 'user', body: { items: [{ productId: 1, quantity: 1 }, { productId: 2, quantity: 60 }] }, status: 409, code: 'OUT_OF_STOCK' },
  { name: 'create: one good line, one unknown product', method: 'POST', path: '/api/orders', auth: 'user', body: { items: [{ productId: 4, quantity: 1 }, { productId: 999, quantity: 1 }] }, status: 404, code: 'PRODUCT_NOT_FOUND' },
  { name: 'create: Idempotency-Key with a space', method: 'POST', path: '/api/orders', auth: 'user', body: { items: [{ productId: 1, quantity: 1 }] }, headers: { 'idempotency-key': 'a b' }, status: 400, code: 'INVALID_INPUT' },
  { name: 'create: 129-character Idempotency-Key', method: 'POST', path: '/api/orders', auth: 'user', body: { items: [{ productId: 1, quantity: 1 }] }, headers: { 'idempotency-key': 'k'.repeat(129) }, status: 400, code: 'INVALID_INPUT' },
  { name: 'create: bad JSON', method: 'POST', path: '/api/orders', auth: 'user', raw: '{"items":[{"productId":1,', headers: JSON_CT, status: 400, code: 'INVALID_INPUT' },
  { name: 'create: text/plain', method: 'POST', path: '/api/orders', auth: 'user', raw: '{"items":[{"productId":1,"quantity":1}]}', headers: { 'content-type': 'text/plain' }, status: 400, code: 'INVALID_INPUT' },
  { name: 'create: oversized body', method: 'POST', path: '/api/orders', auth: 'user', body: { items: [{ productId: 1, quantity: 1 }], pad: BIG }, status: 413, code: 'PAYLOAD_TOO_LARGE' },
  { name: 'create: __proto__ key', method: 'POST', path: '/api/orders', auth: 'user', raw: '{"__proto__":{"items":[{"productId":1,"quantity":1}]}}', headers: JSON_CT, status: 400, code: 'INVALID_INPUT' },

  // ---- get, pay, cancel ---------------------------------------------------------------------
  ...orderCases('/api/orders', 'GET'),
  { name: 'get: no token', method: 'GET', path: () => `/api/orders/${pending.orderNo}`, auth: 'none', status: 401, code: 'UNAUTHORIZED' },
  { name: 'list: no token', method: 'GET', path: '/api/orders', auth: 'none', status: 401, code: 'UNAUTHORIZED' },
  ...orderCases('/api/orders', 'POST', '/pay').map((c) => ({ ...c, body: { channel: 'native' } })),
  { name: 'pay: unknown channel', method: 'POST', path: () => `/api/orders/${pending.orderNo}/pay`, auth: 'user', body: { channel: 'alipay' }, status: 400, code: 'INVALID_INPUT' },
  { name: 'pay: channel in capitals', method: 'POST', path: () => `/api/orders/${pending.orderNo}/pay`, auth: 'user', body: { channel: 'JSAPI' }, status: 400, code: 'INVALID_INPUT' },
  { name: 'pay: channel is a number', method: 'POST', path: () => `/api/orders/${pending.orderNo}/pay`, auth: 'user', body: { channel: 1 }, status: 400, code: 'INVALID_INPUT' },
  { name: 'pay: no channel', method: 'POST', path: () => `/api/orders/${pending.orderNo}/pay`, auth: 'user', body: {}, status: 400, code: 'INVALID_INPUT' },
  { name: 'pay: bad JSON', method: 'POST', path: () => `/api/orders/${pending.orderNo}/pay`, auth: 'user', raw: '{channel: native}', headers: JSON_CT, status: 400, code: 'INVALID_INPUT' },
  { name: 'pay: the other channel', method: 'POST', path: () => `/api/orders/${pending.orderNo}/pay`, auth: 'user', body: { channel: 'jsapi' }, status: 409, code: 'PAY_CHANNEL_LOCKED' },
  { name: 'pay: a paid order', method: 'POST', path: () => `/api/orders/${paid.orderNo}/pay`, auth: 'user', body: { channel: 'native' }, status: 409, code: 'ORDER_ALREADY_PAID' },
  { name: 'pay: no token', method: 'POST', path: () => `/api/orders/${pending.orderNo}/pay`, auth: 'none', body: { channel: 'native' }, status: 401, code: 'UNAUTHORIZED' },
  ...orderCases('/api/orders', 'POST', '/cancel'),
  { name: 'cancel: a paid order', method: 'POST', path: () => `/api/orders/${paid.orderNo}/cancel`, auth: 'user', status: 409, code: 'ORDER_ALREADY_PAID' },
  { name: 'cancel: no token', method: 'POST', path: () => `/api/orders/${pending.orderNo}/cancel`, auth: 'none', status: 401, code: 'UNAUTHORIZED' },
  { name: 'cancel: DELETE instead of POST', method: 'DELETE', path: () => `/api/orders/${pending.orderNo}`, auth: 'user', status: 405, code: 'METHOD_NOT_ALLOWED' },

  // ---- admin --------------------------------------------------------------------------------
  { name: 'admin list: no token', method: 'GET', path: '/api/admin/orders', auth: 'none', status: 401, code: 'ADMIN_UNAUTHORIZED' },
  { name: 'admin list: wrong token', method: 'GET', path: '/api/admin/orders', auth: { bearer: `${ADMIN_TOKEN}x` }, status: 401, code: 'ADMIN_UNAUTHORIZED' },
  { name: "admin list: a shopper's token", method: 'GET', path: '/api/admin/orders', auth: 'user', status: 401, code: 'ADMIN_UNAUTHORIZED' },
  { name: 'admin list: unknown status', method: 'GET', path: '/api/admin/orders?status=FOO', auth: 'admin', status: 400, code: 'INVALID_INPUT' },
  { name: 'admin list: status in lower case', method: 'GET', path: '/api/admin/orders?status=paid', auth: 'admin', status: 400, code: 'INVALID_INPUT' },
  { name: 'admin list: status twice', method: 'GET', path: '/api/admin/orders?status=PAID&status=PENDING', auth: 'admin', status: 400, code: 'INVALID_INPUT' },
  ...orderCases('/api/admin/orders', 'GET', '', 'admin'),
  { name: 'admin detail: no token', method: 'GET', path: () => `/api/admin/orders/${paid.orderNo}`, auth: 'none', status: 401, code: 'ADMIN_UNAUTHORIZED' },
  ...orderCases('/api/admin/orders', 'POST', '/refunds', 'admin').map((c) => ({ ...c, body: { amountFen: 1, reason: '退款' } })),
  ...([
    ['amountFen 0', { amountFen: 0, reason: '退款' }],
    ['negative amountFen', { amountFen: -100, reason: '退款' }],
    ['fractional amountFen', { amountFen: 1.5, reason: '退款' }],
    ['amountFen as a string', { amountFen: '100', reason: '退款' }],
    ['amountFen null', { amountFen: null, reason: '退款' }],
    ['amountFen beyond 2^53', { amountFen: 2 ** 53, reason: '退款' }],
    ['amountFen 1e308', { amountFen: 1e308, reason: '退款' }],
    ['no amountFen', { reason: '退款' }],
    ['no reason', { amountFen: 100 }],
    ['empty reason', { amountFen: 100, reason: '' }],
    ['81-character reason', { amountFen: 100, reason: '退'.repeat(81) }],
    ['4-byte UTF-8 reason', { amountFen: 100, reason: `退款${EMOJI}` }],
    // Text PostgreSQL cannot store (it was a 500): NUL, and half of a UTF-16 pair.
    ['NUL in the reason', { amountFen: 100, reason: '退款\u0000' }],
    ['half a UTF-16 pair in the reason', { amountFen: 100, reason: '退款\udfff' }],
    ['reason is a number', { amountFen: 100, reason: 42 }],
  ] as const).map(([what, body]): Case => ({ name: `admin refund: ${what}`, method: 'POST', path: () => `/api/admin/orders/${paid.orderNo}/refunds`, auth: 'admin', body, status: 400, code: 'INVALID_INPUT' })),
  { name: 'admin refund: bad JSON', method: 'POST', path: () => `/api/admin/orders/${paid.orderNo}/refunds`, auth: 'admin', raw: '{"amountFen":1,', headers: JSON_CT, status: 400, code: 'INVALID_INPUT' },
  { name: 'admin refund: text/plain', method: 'POST', path: () => `/api/admin/orders/${paid.orderNo}/refunds`, auth: 'admin', raw: '{"amountFen":1,"reason":"退款"}', headers: { 'content-type': 'text/plain' }, status: 400, code: 'INVALID_INPUT' },
  { name: 'admin refund: oversized body', method: 'POST', path: () => `/api/admin/orders/${paid.orderNo}/refunds`, auth: 'admin', body: { amountFen: 1, reason: '退款', pad: BIG }, status: 413, code: 'PAYLOAD_TOO_LARGE' },
  { name: 'admin refund: bad Idempotency-Key', method: 'POST', path: () => `/api/admin/orders/${paid.orderNo}/refunds`, auth: 'admin', body: { amountFen: 1, reason: '退款' }, headers: { 'idempotency-key': 'k'.repeat(129) }, status: 400, code: 'INVALID_INPUT' },
  { name: 'admin refund: more than was paid', method: 'POST', path: () => `/api/admin/orders/${paid.orderNo}/refunds`, auth: 'admin', body: { amountFen: 3901, reason: '退款' }, status: 409, code: 'REFUND_NOT_ALLOWED' },
  { name: 'admin refund: an unpaid order', method: 'POST', path: () => `/api/admin/orders/${pending.orderNo}/refunds`, auth: 'admin', body: { amountFen: 1, reason: '退款' }, status: 409, code: 'REFUND_NOT_ALLOWED' },
  { name: 'admin refund: no token', method: 'POST', path: () => `/api/admin/orders/${paid.orderNo}/refunds`, auth: 'none', body: { amountFen: 1, reason: '退款' }, status: 401, code: 'ADMIN_UNAUTHORIZED' },
  { name: "admin refund: a shopper's token", method: 'POST', path: () => `/api/admin/orders/${paid.orderNo}/refunds`, auth: 'user', body: { amountFen: 1, reason: '退款' }, status: 401, code: 'ADMIN_UNAUTHORIZED' },
  ...orderCases('/api/admin/orders', 'POST', '/sync', 'admin'),
  { name: 'admin sync: no token', method: 'POST', path: () => `/api/admin/orders/${pending.orderNo}/sync`, auth: 'none', status: 401, code: 'ADMIN_UNAUTHORIZED' },
  { name: 'admin sync: GET', method: 'GET', path: () => `/api/admin/orders/${pending.orderNo}/sync`, auth: 'admin', status: 405, code: 'METHOD_NOT_ALLOWED' },
  { name: 'admin events: malformed orderNo', method: 'GET', path: '/api/admin/events?orderNo=abc', auth: 'admin', status: 400, code: 'INVALID_INPUT' },
  { name: 'admin events: 4-byte UTF-8 orderNo', method: 'GET', path: `/api/admin/events?orderNo=${encodeURIComponent(`FEN${EMOJI}123456`)}`, auth: 'admin', status: 400, code: 'INVALID_INPUT' },
  { name: 'admin events: no token', method: 'GET', path: '/api/admin/events', auth: 'none', status: 401, code: 'ADMIN_UNAUTHORIZED' },

  // ---- elsewhere ----------------------------------------------------------------------------
  { name: 'unknown endpoint', method: 'GET', path: '/api/nothing-here', auth: 'user', status: 404, code: 'NOT_FOUND' },
  { name: 'unknown admin endpoint', method: 'POST', path: '/api/admin/orders', auth: 'admin', body: {}, status: 405, code: 'METHOD_NOT_ALLOWED' },
]

describe('bad input', () => {
  it('gets a 4xx with a code from every endpoint, and changes nothing', async () => {
    const before = await snapshot()
    expect(before.orders).toHaveLength(2)

    const failures: string[] = []
    for (const c of cases) {
      const res = await send(c)
      const code = (res.body as { code?: unknown } | undefined)?.code
      if (res.status !== c.status || code !== c.code) {
        failures.push(`${c.name}: ${res.status} ${JSON.stringify(res.body)}`)
        continue
      }
      // Every code is one of the API's, with its own status, and comes with a message.
      expect(ERROR_CODES[c.code], c.name).toBe(c.status)
      expect(typeof res.body.message, c.name).toBe('string')
    }
    expect(failures).toEqual([])

    expect(await snapshot()).toEqual(before)
    expect(await h.dispatch()).toEqual({ delivered: 0, failed: 0 })
  })

  it('a notification body larger than the limit is refused as too large, not as our failure', async () => {
    const res = await fetch(`${h.url}/api/pay/notify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: 'x'.repeat(1024 * 1024 + 1),
    })
    const body = (await res.json()) as { code?: string }
    expect(typeof body.code).toBe('string')
    expect(res.status).toBe(413)
  })

  it('too many logins from one address: 429 RATE_LIMITED, nothing created; the next minute is fine', async () => {
    const users = await h.admin('GET', '/api/admin/orders')
    let limited: { status: number; body: { code: string } } | undefined
    for (let i = 0; i < 40 && !limited; i++) {
      const res = await h.api<{ code: string }>('POST', '/api/auth/login', {
        body: { code: `not-a-code-${i}` },
      })
      if (res.status === 429) limited = res
      else expect(res.body.code).toBe('LOGIN_CODE_INVALID')
    }
    expect(limited?.body.code).toBe('RATE_LIMITED')
    // Even a valid code is refused within the window, and not used up.
    const code = await h.control<{ code: string }>('POST', '/__sandbox/login-codes', {})
    const refused = await h.api<{ code: string }>('POST', '/api/auth/login', {
      body: { code: code.body.code },
    })
    expect(refused.status).toBe(429)
    expect(refused.body.code).toBe('RATE_LIMITED')

    h.advance(61)
    const ok = await h.api<{ token: string }>('POST', '/api/auth/login', {
      body: { code: code.body.code },
    })
    expect(ok.status).toBe(200)
    expect(ok.body.token).toBeTruthy()
    expect((await h.admin('GET', '/api/admin/orders')).body).toEqual(users.body)
  })
})
