/**
 * Issue #23, item 1: every registered route, under every spelling of its path, for every role.
 *
 * The review found `GET /API/ADMIN/orders/<no>` answered 200 with no token: @koa/router matched
 * the route case-insensitively while the router's `use(requireAdmin)` was checked case-sensitively,
 * so the handler ran without its guard. This suite walks the routes the app really registered (its
 * routers, read off `app.middleware`), so a route added later is walked too, and sends each one
 * spelled every way a path can be bent: letter case, percent-encoded letters and slashes, doubled
 * slashes, trailing dots and slashes, `.` and `..` segments (plain and encoded), backslashes,
 * `;` parameters and the absolute form of the request target. The raw bytes go out through
 * node:http (fetch would resolve the dot segments before sending).
 *
 * What must hold: a protected route answers 401 (its guard), 404 `NOT_FOUND` "no such endpoint"
 * (no route matched) or 405 (a route of another method matched) to every spelling and every role that may not act — never 2xx, never a
 * route's own answer (a 404 ORDER_NOT_FOUND would mean the handler ran), never 5xx. An open route
 * never answers 5xx to any spelling.
 */
import { request as httpRequest, Agent } from 'node:http'
import type { AdminOrderDetail, Order } from '@fen/shared'
import { ADMIN_TOKEN, startHarness, type Harness } from '@fen/server/test/harness'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createOrder, prepayNative, sandboxPay, untilStatus } from '../api/support'
import { expectAlive, shopper, type Shopper } from './support'

/** Routes anyone may call: what they answer is theirs to decide, but never a 5xx. */
const OPEN = new Set([
  'GET /healthz',
  'GET /readyz',
  'GET /api/products',
  'GET /api/home',
  'GET /static/products/:file',
  'POST /api/auth/login',
  'POST /api/pay/notify',
  'POST /api/pay/notify/v2',
  'GET /api/wechat/push',
  'POST /api/wechat/push',
])

type Role = 'nobody' | 'junk' | 'shopper' | 'admin'
/** Who must be refused where: operators' routes refuse shoppers; shoppers' routes refuse the admin token. */
const GUARDS = { admin: 'ADMIN_UNAUTHORIZED', shopper: 'UNAUTHORIZED' } as const
type Guard = keyof typeof GUARDS

interface Route {
  method: string
  /** The route's pattern, as registered: `/api/admin/orders/:orderNo`. */
  pattern: string
  /** The pattern with real values in its parameters. */
  path: string
  guard: Guard | undefined
}

let h: Harness
let alice: Shopper
let order: Order
let requestId: number
let eventId: number
const agent = new Agent({ keepAlive: true, maxSockets: 8 })

beforeAll(async () => {
  h = await startHarness({ env: { REFUND_AUTO_APPROVE_MAX_FEN: '0' } })
  alice = await shopper(h)
  order = await createOrder(h, alice.token, [{ productId: 3, quantity: 2 }])
  await sandboxPay(h, { code_url: await prepayNative(h, alice.token, order.orderNo) })
  await untilStatus(h, order.orderNo, 'PAID')
  const asked = await h.api<{ id: number }>(
    'POST',
    `/api/orders/${order.orderNo}/refund-requests`,
    { token: alice.token, body: { amountFen: 1, reason: '测试' } },
  )
  expect(asked.status, JSON.stringify(asked.body)).toBe(201)
  requestId = asked.body.id
  const events = await h.admin<{ items: { id: number }[] }>('GET', '/api/admin/events')
  expect(events.body.items.length).toBeGreaterThan(0)
  eventId = events.body.items[0]!.id
}, 30_000)
afterAll(async () => {
  agent.destroy()
  await h?.close()
})

/** The routes the app registered, with real values for their parameters. */
function registeredRoutes(): Route[] {
  const valueOf = (pattern: string, name: string): string => {
    if (name === 'orderNo') return order.orderNo
    if (name === 'file') return 'americano.svg'
    if (name === 'id' && pattern.startsWith('/api/admin/events/')) return String(eventId)
    if (name === 'id' && pattern.startsWith('/api/admin/refund-requests/')) return String(requestId)
    throw new Error(`no value for :${name} in ${pattern}`)
  }
  const routes: Route[] = []
  for (const mw of h.app.middleware) {
    // @koa/router hangs the router on the middleware its routes() returns.
    const router = (mw as { router?: { stack: { methods: string[]; path: string | RegExp }[] } })
      .router
    if (!router) continue
    for (const layer of router.stack) {
      // Route layers have methods; a router's `use()` layers have none.
      if (layer.methods.length === 0 || typeof layer.path !== 'string') continue
      for (const method of layer.methods) {
        if (method === 'HEAD') continue
        const pattern = layer.path
        const path = pattern.replace(/:(\w+)/g, (_: string, name: string) => valueOf(pattern, name))
        const key = `${method} ${pattern}`
        const guard = OPEN.has(key)
          ? undefined
          : pattern === '/metrics' || pattern.startsWith('/api/admin')
            ? 'admin'
            : 'shopper'
        routes.push({ method, pattern, path, guard })
      }
    }
  }
  return routes
}

/** Every way to bend `path` that a router, a proxy or a parser might read as the same path. */
function spellings(path: string): string[] {
  const segments = path.split('/').slice(1)
  const out = new Set<string>()
  const join = (segs: string[]) => `/${segs.join('/')}`
  const mapSegment = (i: number, f: (s: string) => string) =>
    join(segments.map((s, j) => (j === i ? f(s) : s)))
  const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1)
  const alternate = (s: string) =>
    [...s].map((c, i) => (i % 2 ? c.toUpperCase() : c.toLowerCase())).join('')
  const encodeFirstLetter = (s: string, upperHex: boolean) => {
    const i = s.search(/[a-z]/i)
    if (i < 0) return s
    const hex = s.charCodeAt(i).toString(16)
    return `${s.slice(0, i)}%${upperHex ? hex.toUpperCase() : hex}${s.slice(i + 1)}`
  }

  out.add(path.toUpperCase())
  out.add(join(segments.map(capital)))
  out.add(join(segments.map(alternate)))
  for (let i = 0; i < segments.length; i++) {
    out.add(mapSegment(i, (s) => s.toUpperCase()))
    out.add(mapSegment(i, capital))
    out.add(mapSegment(i, (s) => encodeFirstLetter(s, false)))
    out.add(mapSegment(i, (s) => encodeFirstLetter(s, true)))
    out.add(mapSegment(i, (s) => `${s}.`))
    out.add(mapSegment(i, (s) => `${s};x=1`))
    // Doubled, dotted and backslashed separators before segment i.
    const before = join(segments.slice(0, i))
    const after = join(segments.slice(i))
    const lead = i === 0 ? '' : before
    out.add(`${lead}/${after}`)
    out.add(`${lead}/.${after}`)
    out.add(`${lead}/%2e${after}`)
    out.add(`${lead}/x/..${after}`)
    out.add(`${lead}/x/%2e%2e${after}`)
    out.add(`${lead}/x/%2E%2E${after}`)
    if (i > 0) {
      out.add(`${before}%2f${after.slice(1)}`)
      out.add(`${before}%2F${after.slice(1)}`)
      out.add(`${before}\\${after.slice(1)}`)
      out.add(`${before}%5c${after.slice(1)}`)
    }
  }
  out.add(`${path}/`)
  out.add(`${path}//`)
  out.add(`${path}/.`)
  out.add(`${path}.`)
  out.add(`${path}%00`)
  out.add(`${path}%20`)
  out.add(`${path}/x/..`)
  // The prefix spelled another way, then `..` back to the real one.
  out.add(`/API/ADMIN/../..${path}`)
  out.add(`http://127.0.0.1${path.toUpperCase()}`)
  out.add(`http://127.0.0.1${path}`.replace('/api/', '/API/'))
  out.delete(path)
  return [...out]
}

interface Answer {
  status: number
  code: string | undefined
  message: string | undefined
}

/** One request with `target` sent byte for byte as the request line's target. */
function send(method: string, target: string, authorization: string | undefined): Promise<Answer> {
  const url = new URL(h.url)
  const body = method === 'GET' ? undefined : JSON.stringify({ amountFen: 5900, reason: 'x' })
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method,
        path: target,
        headers: {
          ...(authorization ? { authorization } : {}),
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          let parsed: { code?: string; message?: string } = {}
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'))
          } catch {
            // not JSON (a metrics page, a picture): no code
          }
          resolve({ status: res.statusCode ?? 0, code: parsed.code, message: parsed.message })
        })
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

function authorizationOf(role: Role): string | undefined {
  if (role === 'nobody') return undefined
  if (role === 'junk') return 'Bearer junk.junk.junk'
  return `Bearer ${role === 'admin' ? ADMIN_TOKEN : alice.token}`
}

/** The roles that may not act on a route behind `guard`. */
function refusedRoles(guard: Guard): Role[] {
  return guard === 'admin' ? ['nobody', 'junk', 'shopper'] : ['nobody', 'junk', 'admin']
}

/** Refused by the guard, or by no route matching — never by the route's handler. */
function expectRefused(answer: Answer, guard: Guard, what: string): void {
  const byGuard = answer.status === 401 && answer.code === GUARDS[guard]
  const unmatched =
    (answer.status === 404 &&
      answer.code === 'NOT_FOUND' &&
      answer.message === 'no such endpoint') ||
    // Another route's pattern matched, for another method (`POST /api/orders/.` is GET /:orderNo).
    (answer.status === 405 && answer.code === 'METHOD_NOT_ALLOWED')
  expect(byGuard || unmatched, `${what} → ${answer.status} ${answer.code} ${answer.message}`).toBe(
    true,
  )
}

describe('every spelling of every route (issue #23 item 1)', () => {
  it('the walk covers the routes docs/api.md lists, each guarded but the open ones', () => {
    const routes = registeredRoutes()
    const keys = routes.map((r) => `${r.method} ${r.pattern}`)
    // A few of the routes the review reached without a token: the walk must include them.
    for (const key of [
      'GET /api/admin/orders/:orderNo',
      'POST /api/admin/orders/:orderNo/refunds',
      'POST /api/admin/refund-requests/:id/approve',
      'POST /api/admin/reconciliation',
      'GET /api/orders',
      'GET /metrics',
    ]) {
      expect(keys.some((k) => k === key || k === `${key}/`)).toBe(true)
    }
    for (const key of OPEN) expect(keys, key).toContain(key)
    expect(routes.filter((r) => r.guard).length).toBeGreaterThanOrEqual(20)
  })

  it('the canonical path of each guarded route refuses every role that may not act', async () => {
    let sent = 0
    for (const route of registeredRoutes()) {
      if (!route.guard) continue
      for (const role of refusedRoles(route.guard)) {
        const answer = await send(route.method, route.path, authorizationOf(role))
        expectRefused(answer, route.guard, `${role} ${route.method} ${route.path}`)
        sent++
      }
    }
    expect(sent).toBeGreaterThan(60)
  })

  it('no other spelling reaches a guarded handler, for any role that may not act', async () => {
    let sent = 0
    for (const route of registeredRoutes()) {
      if (!route.guard) continue
      for (const target of spellings(route.path)) {
        for (const role of refusedRoles(route.guard)) {
          const answer = await send(route.method, target, authorizationOf(role))
          expectRefused(answer, route.guard, `${role} ${route.method} ${target}`)
          sent++
        }
      }
    }
    console.log(`path spellings: ${sent} refused requests`)
    expect(sent).toBeGreaterThan(2000)
    // Nothing moved: the order is still PAID with nothing refunded, the request still pending.
    const detail = await h.admin<AdminOrderDetail>('GET', `/api/admin/orders/${order.orderNo}`)
    expect(detail.body.status).toBe('PAID')
    expect(detail.body.refunds).toEqual([])
    const requests = await h.admin<{ items: { id: number; status: string }[] }>(
      'GET',
      '/api/admin/refund-requests',
    )
    expect(requests.body.items.find((r) => r.id === requestId)?.status).toBe('pending')
    await expectAlive(h)
  })

  it('the right role on the canonical path passes the guard of every GET route (the walk sends real paths)', async () => {
    let reached = 0
    for (const route of registeredRoutes()) {
      if (!route.guard || route.method !== 'GET') continue
      const answer = await send('GET', route.path, authorizationOf(route.guard))
      const what = `${route.method} ${route.path} → ${answer.status} ${answer.code}`
      expect(answer.status, what).not.toBe(401)
      expect(answer.message, what).not.toBe('no such endpoint')
      expect(answer.status, what).toBeLessThan(500)
      reached++
    }
    expect(reached).toBeGreaterThanOrEqual(10)
  })

  it('no spelling of an open route answers 5xx', async () => {
    for (const route of registeredRoutes()) {
      if (route.guard) continue
      for (const target of [route.path, ...spellings(route.path)]) {
        const answer = await send(route.method, target, undefined)
        expect(answer.status, `${route.method} ${target}`).toBeLessThan(500)
      }
    }
  })
})
