/**
 * Shared pieces of the hostile-input suites (issue #6): fast-check settings, generators of hostile
 * values (strings, numbers, JSON, path segments, tokens), the "nothing changed" snapshot of the
 * database and of WeChat (the sandbox), and the check every error answer must pass.
 *
 * Replay a failure: fast-check prints `seed` and `path`; run the suite again with
 * `FUZZ_SEED=<seed> FUZZ_PATH=<path>` (deliberately not `FEN_*`: the server refuses unknown
 * `FEN_*` variables as typos).
 */
import { createHmac } from 'node:crypto'
import { ERROR_CODES, type ErrorCode } from '@fen/shared'
import type { Harness } from '@fen/server/test/harness'
import fc from 'fast-check'
import { expect } from 'vitest'
import { scaled } from '../support/soak'

// ---- fast-check settings -------------------------------------------------------------------

/** `numRuns` for CI and for the soak run; a failure is replayed with FUZZ_SEED / FUZZ_PATH. */
export function runs<T>(ci: number, soak: number): fc.Parameters<T> {
  const seed = process.env.FUZZ_SEED
  const path = process.env.FUZZ_PATH
  return {
    numRuns: scaled(ci, soak),
    ...(seed ? { seed: Number(seed) } : {}),
    ...(path ? { path } : {}),
  }
}

// ---- hostile values ------------------------------------------------------------------------

/** Characters WeChat refuses (4-byte UTF-8) and strings no UTF-8 can carry (lone surrogates). */
export const EMOJI = ['😀', '🀄', '𠮷', '👨‍👩‍👧', '🇨🇳'] as const
export const LONE_SURROGATES = [
  '\ud800',
  '\udbff',
  '\udc00',
  '\udfff',
  'a\ud83d',
  '\ude00b',
] as const

/** Strings that look like something else: numbers, JSON, SQL, paths, control characters. */
const TRICKY = [
  '',
  ' ',
  '\u0000',
  '\u202e',
  '\r\n',
  'NaN',
  'Infinity',
  '-Infinity',
  '-0',
  '1e400',
  '0x10',
  '１',
  'null',
  'undefined',
  'true',
  '[]',
  '{}',
  "' OR '1'='1",
  '<script>',
  '%00',
  '../..',
  '__proto__',
  'constructor',
] as const

/** A long string: a short piece repeated, up to ~80 000 UTF-16 units (often over 64 KB as UTF-8). */
export const longString = fc
  .tuple(
    fc.string({ unit: 'binary', minLength: 1, maxLength: 4 }),
    fc.integer({ min: 60, max: 20_000 }),
  )
  .map(([s, n]) => s.repeat(n))

/** A short string an attacker may send: unicode, emoji, lone surrogates, tricky. */
export const shortHostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.constantFrom(...EMOJI, ...LONE_SURROGATES, ...TRICKY) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.string({ maxLength: 10 }),
        fc.constantFrom(...EMOJI, ...LONE_SURROGATES),
        fc.string({ maxLength: 10 }),
      )
      .map((parts) => parts.join('')),
  },
)

/** Any string an attacker may send: {@link shortHostileString}, sometimes very long. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: shortHostileString },
  { weight: 1, arbitrary: longString },
)

/** Numbers at and past every edge the API has (int4, 2^53, 1–99, fractions, -0). */
export const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(
    -0,
    0,
    -1,
    0.5,
    1.5,
    99.5,
    100,
    2 ** 31 - 1,
    2 ** 31,
    2 ** 53,
    2 ** 53 + 2,
    -(2 ** 53),
    1e21,
    1e308,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
  ),
)

/**
 * A number token written into JSON text as it is, for what `JSON.stringify` cannot write: huge
 * exponents, -0, more digits than a double holds, and tokens that are not JSON at all.
 */
export class RawJson {
  constructor(readonly token: string) {}
  toString(): string {
    return this.token
  }
}
export const rawNumber = fc
  .constantFrom(
    '1e400',
    '-1e400',
    '-0',
    '-0.0',
    '123456789012345678901234567890',
    '1.0',
    '99.0',
    '1E1',
    '0.1e1',
    '2.0000000000000001',
    'NaN',
    'Infinity',
    '00',
    '01',
    '+1',
    '.5',
    '0x1',
    '1_0',
  )
  .map((t) => new RawJson(t))

/** Values of every JSON type and then some, for fields of the wrong type. */
export const hostileScalar: fc.Arbitrary<unknown> = fc.oneof(
  hostileNumber,
  hostileString,
  rawNumber,
  fc.boolean(),
  fc.constant(null),
)

/** {@link hostileScalar} without the long strings and raw tokens (for headers: they must fit in 16 KB). */
export const shortHostileScalar: fc.Arbitrary<unknown> = fc.oneof(
  hostileNumber,
  shortHostileString,
  fc.boolean(),
  fc.constant(null),
)

/**
 * Arrays or objects nested up to 20 000 deep, written as raw JSON text (building them as values
 * would overflow the test's own JSON.stringify): parsers and validators must not recurse to death.
 */
export const deepNesting = fc
  .tuple(fc.integer({ min: 50, max: 20_000 }), fc.boolean())
  .map(([depth, arrays]) =>
    arrays
      ? new RawJson(`${'['.repeat(depth)}1${']'.repeat(depth)}`)
      : new RawJson(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`),
  )

export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: hostileScalar },
  { weight: 1, arbitrary: fc.array(hostileScalar, { maxLength: 5 }) },
  {
    weight: 1,
    arbitrary: fc.dictionary(
      fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom(...TRICKY)),
      hostileScalar,
      {
        maxKeys: 5,
      },
    ),
  },
  { weight: 1, arbitrary: deepNesting },
)

/** JSON text of `value`, with {@link RawJson} tokens written as they are. */
export function jsonText(value: unknown): string {
  const raws: string[] = []
  const text = JSON.stringify(value, (_k, v: unknown) => {
    if (v instanceof RawJson) {
      raws.push(v.token)
      return `\u0000RAW${raws.length - 1}\u0000`
    }
    return v
  })
  // JSON.stringify escapes U+0000 as \u0000 inside strings: the placeholders cannot collide.
  return (text ?? '').replace(/"\\u0000RAW(\d+)\\u0000"/g, (_m, i: string) => raws[Number(i)]!)
}

/**
 * How the server's body parser (koa-body → co-body, `jsonStrict`) reads a JSON-typed body: a
 * leading BOM is dropped, an empty body is `{}`, the text must start with `{` or `[` and be JSON,
 * and no object in it may have a `__proto__` key (co-body refuses prototype poisoning).
 * `undefined`: a 400 before any route runs.
 */
export function parsedJsonBody(text: string): { value: unknown } | undefined {
  const s = text.replace(/^\ufeff/, '')
  if (s === '') return { value: {} }
  if (!/^[ \t\n\r]*[[{]/.test(s)) return undefined
  let value: unknown
  try {
    value = JSON.parse(s)
  } catch {
    return undefined
  }
  // Iterative: bodies nest 20 000 deep.
  const stack: unknown[] = [value]
  while (stack.length) {
    const v = stack.pop()
    if (typeof v !== 'object' || v === null) continue
    if (!Array.isArray(v) && Object.hasOwn(v, '__proto__')) return undefined
    stack.push(...Object.values(v))
  }
  return { value }
}

/** The most a JSON body may weigh (docs/api.md, Conventions: 64 KB). */
export const JSON_LIMIT = 64 * 1024

/** A text that is not JSON (or not an object/array): junk, XML, form data, truncated JSON. */
export const notJsonText = fc.oneof(
  hostileString,
  fc.constantFrom(
    '{',
    '{"a":',
    '{"a":1,}',
    "{'a':1}",
    '{a:1}',
    '[1,]',
    '"abc"',
    '123',
    'true',
    'null',
    '<xml><a>1</a></xml>',
    'a=1&b=2',
    '{"a":1}{"b":2}',
    '{"a":NaN}',
    '{"a":undefined}',
    '\u0000{}',
  ),
)

/** Random bytes, often not UTF-8. */
export const randomBytes = fc
  .uint8Array({ minLength: 1, maxLength: 512 })
  .map((b) => Buffer.from(b))

// ---- paths ---------------------------------------------------------------------------------

/** docs/api.md: an order number is 6–32 of `[0-9A-Za-z_-|*]`. */
export const ORDER_NO = /^[0-9A-Za-z_\-|*]{6,32}$/

/**
 * One path segment that the server decodes back to exactly `s` (every byte but letters and digits
 * percent-encoded, so `/`, `?`, `#` and `%` stay inside the segment; lone surrogates arrive as
 * U+FFFD, as UTF-8 has no way to carry them).
 */
export function pathSegment(s: string): string {
  let out = ''
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b)
    out += /[A-Za-z0-9]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

/**
 * The longest encoded path segment or query value the suites send. Node refuses a request whose
 * headers (URL included) pass 16 KB with its own 431 before the app sees it; that is tested once,
 * on its own, in endpoints.fuzz.test.ts.
 */
export const MAX_URL_PART = 6000

/** An `:orderNo` that is not an order number: each is a 400 INVALID_INPUT. Already encoded. */
export const malformedOrderNoSegment: fc.Arbitrary<string> = fc
  .oneof(
    hostileString
      // `.` and `..` are dot segments: the URL would be normalised to another path.
      .filter((s) => s !== '' && s !== '.' && s !== '..' && !ORDER_NO.test(s))
      .map(pathSegment),
    fc.stringMatching(/^[0-9A-Za-z_\-|*]{1,5}$/).map(pathSegment),
    fc.stringMatching(/^[0-9A-Za-z_\-|*]{33,100}$/).map(pathSegment),
    // Percent-encoding that does not decode: the router keeps it raw, and `%` is not allowed.
    fc.constantFrom('%', '%zz', 'FEN%E0%A4%A', '%C0%AF%C0%AF%C0%AF', 'FEN%FF%FE123456', 'FEN2025%'),
  )
  .filter((segment) => segment.length <= MAX_URL_PART)

/** A well-formed order number (as the server would make or not): encoded for a path. */
export const wellFormedOrderNo = fc.stringMatching(ORDER_NO)

/** Query-string value encoding for arbitrary strings (same rule as {@link pathSegment}). */
export const queryValue = pathSegment

// ---- headers -------------------------------------------------------------------------------

/** A header value fetch can send (Latin-1, no CR/LF/NUL) and that HTTP will not trim. */
export const headerValue = fc
  .string({
    unit: fc
      .integer({ min: 0x20, max: 0xff })
      .filter((c) => c !== 0x7f)
      .map((c) => String.fromCharCode(c)),
    minLength: 1,
    maxLength: 200,
  })
  .map((s) => s.trim())
  .filter((s) => s.length > 0)

/** Credentials without whitespace (so `Bearer <it>` is well-formed but wrong). */
export const junkCredential = fc.oneof(
  fc.string({
    unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
    minLength: 1,
    maxLength: 300,
  }),
  fc
    .tuple(
      fc.base64String({ maxLength: 60 }),
      fc.base64String({ maxLength: 200 }),
      fc.base64String({ maxLength: 60 }),
    )
    .map((parts) => parts.join('.').replace(/=/g, '')),
  fc.integer({ min: 1000, max: 8000 }).map((n) => 'A'.repeat(n)),
)

/** Headers a client may add that no endpoint reads: they must change nothing. */
export const noiseHeaders: fc.Arbitrary<Record<string, string>> = fc.record(
  {
    accept: fc.constantFrom('*/*', 'text/html', 'application/xml', 'application/json;q=0', 'x/y'),
    'accept-language': headerValue,
    'x-forwarded-for': fc.constantFrom('1.2.3.4', '::1', 'evil, 10.0.0.1', 'not-an-ip'),
    'x-http-method-override': fc.constantFrom('DELETE', 'PUT', 'GET', 'PATCH'),
    'x-requested-with': headerValue,
    cookie: headerValue,
    'user-agent': headerValue,
    origin: fc.constantFrom('null', 'https://evil.example', 'file://'),
  },
  { requiredKeys: [] },
)

// ---- JWTs ----------------------------------------------------------------------------------

const b64url = (s: string | Buffer) => Buffer.from(s).toString('base64url')

/** A JWT from parts: `payload` as raw JSON text or an object; no signature when `secret` is null. */
export function makeJwt(
  header: object,
  payload: object | string,
  secret: string | null,
  hash: 'sha256' | 'sha384' | 'sha512' = 'sha256',
): string {
  const data = `${b64url(JSON.stringify(header))}.${b64url(typeof payload === 'string' ? payload : JSON.stringify(payload))}`
  if (secret === null) return `${data}.`
  return `${data}.${createHmac(hash, secret).update(data).digest('base64url')}`
}

/** The claims of a token the server issued: `{sub, oid, iat, exp}`. */
export function claimsOf(token: string): { sub: string; oid: string; iat: number; exp: number } {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'))
}

/** A signed-in shopper as the suites use one. */
export interface Shopper {
  id: number
  token: string
  claims: { sub: string; oid: string; iat: number; exp: number }
}

export async function shopper(h: Harness, openid?: string): Promise<Shopper> {
  const token = await h.login(openid)
  const claims = claimsOf(token)
  return { id: Number(claims.sub), token, claims }
}

/**
 * `Authorization` headers that must be refused for a shopper endpoint (401 UNAUTHORIZED): none,
 * junk, another scheme, a tampered token, `alg: none`, another algorithm, another secret, expired,
 * not yet valid, and tokens signed with our own secret whose claims name no shopper (a database
 * restored under a token, or ids we never issue). `users` are every shopper that exists: a token
 * that is valid for any of them is not generated.
 */
export function refusedShopperAuth(
  h: Harness,
  me: Shopper,
  users: readonly Shopper[],
  adminToken: string,
): fc.Arbitrary<{ authorization?: string; note: string }> {
  const secret = h.config.jwtSecret
  const now = () => Math.floor(h.now().getTime() / 1000)
  const fresh = () => ({ ...me.claims, iat: now(), exp: now() + 3600 })
  const HS256 = { alg: 'HS256', typ: 'JWT' }
  const b64urlChar = fc.constantFrom(
    ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_',
  )
  const validFor = (sub: unknown, oid: unknown) =>
    users.some((u) => Number(sub) === u.id && oid === u.claims.oid)
  return fc.oneof(
    fc.constant({ note: 'no Authorization' }),
    junkCredential.map((c) => ({ authorization: `Bearer ${c}`, note: 'junk token' })),
    fc
      .constantFrom('Basic ', 'bearer ', 'BEARER ', 'Token ', 'JWT ', 'Bearer  ', '')
      .map((scheme) => ({
        authorization: `${scheme}${me.token}`,
        note: `scheme ${JSON.stringify(scheme)}`,
      })),
    fc.constant({ authorization: `Bearer ${me.token} ${me.token}`, note: 'two tokens' }),
    fc
      .tuple(fc.nat({ max: me.token.length - 1 }), b64urlChar)
      .filter(([i, c]) => me.token[i] !== '.' && me.token[i] !== c)
      .map(([i, c]) => ({
        authorization: `Bearer ${me.token.slice(0, i)}${c}${me.token.slice(i + 1)}`,
        note: `token with character ${i} changed`,
      })),
    fc
      .constantFrom(
        'drop-signature',
        'drop-last-char',
        'extra-segment',
        'swap-payload',
        'extra-chars',
      )
      .map((how) => {
        const [head, body, sig] = me.token.split('.') as [string, string, string]
        const token = {
          'drop-signature': `${head}.${body}.`,
          'drop-last-char': me.token.slice(0, -1),
          'extra-segment': `${me.token}.${sig}`,
          'swap-payload': `${head}.${b64url(JSON.stringify({ ...me.claims, sub: '1', oid: 'x' }))}.${sig}`,
          'extra-chars': `${me.token}AAAA`,
        }[how]
        return { authorization: `Bearer ${token}`, note: how }
      }),
    fc.constantFrom('empty', 'original').map((sig) => {
      const data = makeJwt({ alg: 'none', typ: 'JWT' }, fresh(), null)
      return {
        authorization: `Bearer ${data}${sig === 'original' ? me.token.split('.')[2] : ''}`,
        note: `alg none, ${sig} signature`,
      }
    }),
    fc.constantFrom('sha384', 'sha512').map((hash) => ({
      authorization: `Bearer ${makeJwt({ alg: hash === 'sha384' ? 'HS384' : 'HS512', typ: 'JWT' }, fresh(), secret, hash as 'sha384' | 'sha512')}`,
      note: `${hash} with our secret`,
    })),
    fc.constant({
      authorization: `Bearer ${makeJwt({ alg: 'RS256', typ: 'JWT' }, fresh(), secret)}`,
      note: 'alg RS256 signed as HS256',
    }),
    fc
      .string({ minLength: 1, maxLength: 64 })
      .filter((s) => s !== secret)
      .map((other) => ({
        authorization: `Bearer ${makeJwt(HS256, fresh(), other)}`,
        note: 'another secret',
      })),
    fc.integer({ min: 1, max: 10_000_000 }).map((ago) => ({
      authorization: `Bearer ${makeJwt(HS256, { ...me.claims, iat: now() - ago - 7200, exp: now() - ago }, secret)}`,
      note: `expired ${ago} s ago`,
    })),
    fc.integer({ min: 60, max: 10_000_000 }).map((ahead) => ({
      authorization: `Bearer ${makeJwt(HS256, { ...fresh(), nbf: now() + ahead }, secret)}`,
      note: `not valid for ${ahead} s`,
    })),
    fc
      .record({
        sub: fc.oneof(
          shortHostileScalar,
          // Ids a token can carry but no user can have (users.id is a PostgreSQL integer).
          fc
            .oneof(
              fc.integer({ min: 2 ** 31, max: Number.MAX_SAFE_INTEGER }),
              fc.bigInt({ min: 2n ** 53n, max: 10n ** 30n }),
            )
            .map(String),
          fc.constantFrom(
            '0',
            '-1',
            '1.5',
            '2147483647',
            '2147483648',
            '4294967296',
            '9007199254740993',
            '99999999999999999999',
            '1e3',
            ' 1',
            'abc',
          ),
          fc.constantFrom(...users.map((u) => String(u.id))),
        ),
        oid: fc.oneof(shortHostileScalar, fc.constantFrom(...users.map((u) => u.claims.oid))),
      })
      .filter(({ sub, oid }) => !validFor(sub, oid))
      .map(({ sub, oid }) => ({
        authorization: `Bearer ${makeJwt(HS256, { sub, oid, iat: now(), exp: now() + 3600 }, secret)}`,
        note: `our secret, claims sub=${String(sub).slice(0, 40)} oid=${String(oid).slice(0, 40)}`,
      })),
    fc.constantFrom('[1]', 'null', '1', '"x"', '{', '{"sub":', '[]').map((payload) => ({
      authorization: `Bearer ${makeJwt(HS256, payload, secret)}`,
      note: `our secret, payload ${payload}`,
    })),
    fc.constant({ authorization: `Bearer ${adminToken}`, note: 'the admin token' }),
  )
}

/** `Authorization` headers that must be refused for an admin endpoint (401 ADMIN_UNAUTHORIZED). */
export function refusedAdminAuth(
  adminToken: string,
  shopperToken: string,
): fc.Arbitrary<{ authorization?: string; note: string }> {
  const printable = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c))
  return fc.oneof(
    fc.constant({ note: 'no Authorization' }),
    junkCredential.map((c) => ({ authorization: `Bearer ${c}`, note: 'junk token' })),
    fc
      .tuple(fc.nat({ max: adminToken.length - 1 }), printable)
      .filter(([i, c]) => adminToken[i] !== c)
      .map(([i, c]) => ({
        authorization: `Bearer ${adminToken.slice(0, i)}${c}${adminToken.slice(i + 1)}`,
        note: `admin token with character ${i} changed`,
      })),
    fc
      .constantFrom(
        adminToken.slice(0, -1),
        `${adminToken}x`,
        adminToken.toUpperCase(),
        `${adminToken}${adminToken}`,
        `${adminToken} ${adminToken}`,
        '',
      )
      .map((t) => ({ authorization: `Bearer ${t}`, note: 'admin token, near miss' })),
    fc.constantFrom('Basic ', 'bearer ', 'Token ', 'Bearer  ', '').map((scheme) => ({
      authorization: `${scheme}${adminToken}`,
      note: `scheme ${JSON.stringify(scheme)}`,
    })),
    fc.constant({ authorization: `Bearer ${shopperToken}`, note: "a shopper's token" }),
  )
}

// ---- what must hold ------------------------------------------------------------------------

/** An answer as the suites keep it. */
export interface Answer {
  status: number
  body: unknown
  headers?: Headers
}

/**
 * A 4xx with `{code, message}`: `code` one of docs/api.md's, with its own status, and one of
 * `allowed` (what this request may be refused with).
 */
export function expectRefused(res: Answer, allowed: readonly ErrorCode[], what: string): void {
  const shown = `${what}\n→ ${res.status} ${JSON.stringify(res.body)?.slice(0, 400)}`
  expect(res.status, shown).toBeGreaterThanOrEqual(400)
  expect(res.status, shown).toBeLessThan(500)
  const body = res.body as { code?: unknown; message?: unknown } | undefined
  const code = body?.code
  expect(typeof code === 'string' && Object.hasOwn(ERROR_CODES, code), shown).toBe(true)
  expect(ERROR_CODES[code as ErrorCode], shown).toBe(res.status)
  expect(typeof body?.message, shown).toBe('string')
  expect(allowed, shown).toContain(code)
}

/**
 * Everything forged input must not change: every row of every table (users, products and stock,
 * orders and their lines, payments, refunds, notifications, outbox events) and WeChat's view of
 * the orders (the sandbox).
 */
export async function snapshot(h: Harness) {
  const q = h.database.db.query
  const [users, products, orders, orderItems, payments, refunds, notifications, outbox, wechat] =
    await Promise.all([
      q.users.findMany({ orderBy: (t, { asc }) => [asc(t.id)] }),
      q.products.findMany({ orderBy: (t, { asc }) => [asc(t.id)] }),
      q.orders.findMany({ orderBy: (t, { asc }) => [asc(t.orderNo)] }),
      q.orderItems.findMany({ orderBy: (t, { asc }) => [asc(t.orderNo), asc(t.productId)] }),
      q.payments.findMany({ orderBy: (t, { asc }) => [asc(t.transactionId)] }),
      q.refunds.findMany({ orderBy: (t, { asc }) => [asc(t.outRefundNo)] }),
      q.notifications.findMany({ orderBy: (t, { asc }) => [asc(t.id)] }),
      q.outboxEvents.findMany({ orderBy: (t, { asc }) => [asc(t.id)] }),
      h.control<{
        orders: {
          out_trade_no: string
          trade_state: string
          prepay_id?: string
          refunds: unknown[]
        }[]
      }>('GET', '/__sandbox/state'),
    ])
  return {
    users,
    products,
    orders,
    orderItems,
    payments,
    refunds,
    notifications,
    outbox,
    wechat: wechat.body.orders.map((o) => [
      o.out_trade_no,
      o.trade_state,
      o.prepay_id,
      o.refunds.length,
    ]),
  }
}

/** The server is still up and answering. */
export async function expectAlive(h: Harness): Promise<void> {
  const res = await h.api<{ ok: boolean }>('GET', '/healthz')
  expect(res.status).toBe(200)
  expect(res.body).toEqual({ ok: true })
}
