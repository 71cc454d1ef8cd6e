/**
 * Login through the sandbox's code2Session, the login rate limit, and the JWT check on shopper
 * routes. The server's logger is switched to `trace` and captured, so the suite can check that no
 * session key ever reaches a log line.
 */
import { schemas, type ErrorBody, type LoginResponse } from '@fen/shared'
import { eq } from 'drizzle-orm'
import jwt from 'jsonwebtoken'
import { symbols } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { users } from '../src/db/schema'
import { startHarness, type ApiResponse, type Harness } from './harness'

let h: Harness
/** Every line the server logged during this suite. */
const logs: string[] = []

beforeAll(async () => {
  h = await startHarness()
  const logger = h.services.ctx.logger
  ;(logger as unknown as Record<symbol, unknown>)[symbols.streamSym] = {
    write: (line: string) => void logs.push(line),
  }
  logger.level = 'trace'
})
afterAll(async () => {
  h.services.ctx.logger.level = 'silent'
  await h.close()
})

/** A login code from the sandbox (`errcode` makes its exchange fail with that errcode). */
async function newCode(init: { openid?: string; errcode?: number } = {}): Promise<string> {
  const r = await h.control<{ code: string }>('POST', '/__sandbox/login-codes', init)
  expect(r.status).toBe(200)
  return r.body.code
}

function login(code: unknown): Promise<ApiResponse<LoginResponse & ErrorBody>> {
  return h.api('POST', '/api/auth/login', { body: { code } })
}

function expectError(res: ApiResponse<unknown>, status: number, code: string): void {
  expect({ status: res.status, code: (res.body as ErrorBody).code }).toEqual({ status, code })
  expect(typeof (res.body as ErrorBody).message).toBe('string')
  expect((res.body as ErrorBody).message.length).toBeGreaterThan(0)
  expect(Object.keys(res.body as object).sort()).toEqual(['code', 'message'])
}

async function userRows() {
  return h.database.db.select().from(users)
}

function b64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

describe('login', () => {
  it('a sandbox code gives {token, expiresAt, user: {id}} and the token opens shopper routes', async () => {
    const res = await login(await newCode({ openid: 'o-auth-alice' }))
    expect(res.status).toBe(200)
    expect(Object.keys(res.body).sort()).toEqual(['expiresAt', 'token', 'user'])
    const body = schemas.LoginResponse.parse(res.body)
    expect(Object.keys(body.user)).toEqual(['id'])

    const expiresAt = Date.parse(body.expiresAt)
    const expected = h.now().getTime() + h.config.jwtTtlSeconds * 1000
    expect(Math.abs(expiresAt - expected)).toBeLessThan(5000)

    const [header] = body.token.split('.')
    expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).toMatchObject({
      alg: 'HS256',
    })
    const payload = jwt.decode(body.token) as jwt.JwtPayload
    expect(payload.sub).toBe(String(body.user.id))
    expect(payload.exp).toBe(expiresAt / 1000)

    const orders = await h.api('GET', '/api/orders', { token: body.token })
    expect(orders.status).toBe(200)
    expect(orders.body).toEqual([])
  })

  it('the same openid logs in as the same user; another openid is another user', async () => {
    const first = await login(await newCode({ openid: 'o-auth-bob' }))
    const second = await login(await newCode({ openid: 'o-auth-bob' }))
    const other = await login(await newCode({ openid: 'o-auth-carol' }))
    expect([first.status, second.status, other.status]).toEqual([200, 200, 200])
    expect(second.body.user.id).toBe(first.body.user.id)
    expect(other.body.user.id).not.toBe(first.body.user.id)
    expect(second.body.token).not.toBe('')

    const rows = (await userRows()).filter((u) => u.openid === 'o-auth-bob')
    expect(rows).toHaveLength(1)
    expect(rows[0]!.id).toBe(first.body.user.id)
    expect(rows[0]!.loginCount).toBe(2)
  })

  it('the session key is stored, and never in the login answer', async () => {
    const res = await h.api<LoginResponse>('POST', '/api/auth/login', {
      body: { code: await newCode({ openid: 'o-auth-dave' }) },
    })
    expect(res.status).toBe(200)
    const [row] = await h.database.db.select().from(users).where(eq(users.openid, 'o-auth-dave'))
    expect(row!.id).toBe(res.body.user.id)
    // code2Session's session_key: 16 bytes, base64.
    expect(Buffer.from(row!.sessionKey, 'base64')).toHaveLength(16)

    const text = JSON.stringify(res.body)
    expect(text).not.toContain(row!.sessionKey)
    expect(text).not.toMatch(/session_?key/i)
    expect(text).not.toContain('o-auth-dave')
    for (const [name, value] of res.headers)
      expect(`${name}: ${value}`).not.toContain(row!.sessionKey)
  })

  it('the server logged the logins, and no log line holds a session key, token or openid', async () => {
    expect(logs.some((l) => l.includes('/api/auth/login'))).toBe(true)
    const rows = await userRows()
    expect(rows.length).toBeGreaterThanOrEqual(4)
    for (const line of logs) {
      expect(line).not.toMatch(/session_?key/i)
      for (const u of rows) expect(line).not.toContain(u.sessionKey)
    }
  })
})

describe('code2Session refusals', () => {
  it('errcode 40029 (invalid code) → 400 LOGIN_CODE_INVALID', async () => {
    expectError(await login(await newCode({ errcode: 40029 })), 400, 'LOGIN_CODE_INVALID')
  })

  it('errcode 40163 (code used) → 400 LOGIN_CODE_INVALID', async () => {
    expectError(await login(await newCode({ errcode: 40163 })), 400, 'LOGIN_CODE_INVALID')
  })

  it('reusing a code → 400 LOGIN_CODE_INVALID', async () => {
    const code = await newCode()
    expect((await login(code)).status).toBe(200)
    expectError(await login(code), 400, 'LOGIN_CODE_INVALID')
  })

  it('a code the sandbox never issued → 400 LOGIN_CODE_INVALID', async () => {
    expectError(await login('0a1B2c3D4e5F6g7H8i9J0k1L2m'), 400, 'LOGIN_CODE_INVALID')
  })

  it('a code older than 5 minutes (sandbox clock) → 400 LOGIN_CODE_INVALID', async () => {
    const code = await newCode()
    expect((await h.control('POST', '/__sandbox/clock', { advanceSeconds: 301 })).status).toBe(200)
    expectError(await login(code), 400, 'LOGIN_CODE_INVALID')
  })

  it('errcode 40226 (blocked) → 403 LOGIN_BLOCKED', async () => {
    expectError(await login(await newCode({ errcode: 40226 })), 403, 'LOGIN_BLOCKED')
  })

  it('errcode 45011 (rate limited at WeChat) → 503 WECHAT_UNAVAILABLE', async () => {
    expectError(await login(await newCode({ errcode: 45011 })), 503, 'WECHAT_UNAVAILABLE')
  })

  it('errcode -1 (WeChat busy) → 503 WECHAT_UNAVAILABLE', async () => {
    expectError(await login(await newCode({ errcode: -1 })), 503, 'WECHAT_UNAVAILABLE')
  })

  it('errcode 40013 (our appid refused) → 502 WECHAT_ERROR', async () => {
    expectError(await login(await newCode({ errcode: 40013 })), 502, 'WECHAT_ERROR')
  })

  it('a refused login creates no user', async () => {
    const before = (await userRows()).length
    expectError(
      await login(await newCode({ openid: 'o-auth-blocked', errcode: 40226 })),
      403,
      'LOGIN_BLOCKED',
    )
    const after = await userRows()
    expect(after).toHaveLength(before)
    expect(after.some((u) => u.openid === 'o-auth-blocked')).toBe(false)
  })
})

describe('login input', () => {
  it('a missing code → 400 INVALID_INPUT', async () => {
    expectError(await h.api('POST', '/api/auth/login', { body: {} }), 400, 'INVALID_INPUT')
  })

  it('no body at all → 400 INVALID_INPUT', async () => {
    expectError(await h.api('POST', '/api/auth/login'), 400, 'INVALID_INPUT')
  })

  it('an empty code → 400 INVALID_INPUT', async () => {
    expectError(await login(''), 400, 'INVALID_INPUT')
  })

  it('an oversized code (129 characters) → 400 INVALID_INPUT', async () => {
    expectError(await login('a'.repeat(129)), 400, 'INVALID_INPUT')
  })

  it('a code with an emoji → 400 INVALID_INPUT', async () => {
    expectError(await login('abc😀def'), 400, 'INVALID_INPUT')
  })

  it('a code that is not a string → 400 INVALID_INPUT', async () => {
    expectError(await login(12345), 400, 'INVALID_INPUT')
    expectError(await login(['abc']), 400, 'INVALID_INPUT')
  })
})

describe('login rate limit', () => {
  it('more than 30 logins a minute from one address → 429 RATE_LIMITED, and the code is not spent', async () => {
    h.advance(61) // a new window
    for (let i = 0; i < 30; i++) {
      const res = await login(`not-a-real-code-${i}`)
      expect(res.status, `attempt ${i + 1}`).toBe(400)
    }
    const code = await newCode({ openid: 'o-auth-limited' })
    expectError(await login(code), 429, 'RATE_LIMITED')
    // Still limited a moment later, within the same minute.
    h.advance(30)
    expectError(await login(code), 429, 'RATE_LIMITED')
    // Without TRUST_PROXY, a forged X-Forwarded-For is not another client.
    expect(h.config.trustProxy).toBe(false)
    expectError(
      await h.api('POST', '/api/auth/login', {
        body: { code },
        headers: { 'x-forwarded-for': '203.0.113.7' },
      }),
      429,
      'RATE_LIMITED',
    )

    // The next window: the limited code never reached WeChat, so it still works.
    h.advance(31)
    const ok = await login(code)
    expect(ok.status).toBe(200)
  })
})

describe('tokens', () => {
  let token: string
  let userId: number
  beforeAll(async () => {
    h.advance(61) // out of the rate-limit window above
    const res = await login(await newCode({ openid: 'o-auth-tokens' }))
    expect(res.status).toBe(200)
    token = res.body.token
    userId = res.body.user.id
  })

  const orders = (authorization?: string) =>
    h.api('GET', '/api/orders', authorization ? { headers: { authorization } } : {})

  it('a valid token works', async () => {
    expect((await orders(`Bearer ${token}`)).status).toBe(200)
  })

  it('no Authorization header → 401 UNAUTHORIZED', async () => {
    expectError(await orders(), 401, 'UNAUTHORIZED')
  })

  it('a malformed Authorization header → 401 UNAUTHORIZED', async () => {
    for (const header of [
      token,
      `Basic ${token}`,
      'Bearer',
      'Bearer ',
      `Bearer ${token} extra`,
      'Bearer not-a-jwt',
      'Bearer a.b.c',
    ]) {
      expectError(await orders(header), 401, 'UNAUTHORIZED')
    }
  })

  it('a token signed with another secret → 401 UNAUTHORIZED', async () => {
    const now = Math.floor(h.now().getTime() / 1000)
    const forged = jwt.sign(
      { sub: String(userId), iat: now, exp: now + 600 },
      'another-secret-0123456789-0123456789',
      { algorithm: 'HS256' },
    )
    expectError(await orders(`Bearer ${forged}`), 401, 'UNAUTHORIZED')
  })

  it('an alg "none" token → 401 UNAUTHORIZED', async () => {
    const now = Math.floor(h.now().getTime() / 1000)
    const none = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: String(userId), iat: now, exp: now + 600 })}.`
    expectError(await orders(`Bearer ${none}`), 401, 'UNAUTHORIZED')
  })

  it('a token signed with our secret but another algorithm (HS512) → 401 UNAUTHORIZED', async () => {
    const now = Math.floor(h.now().getTime() / 1000)
    const hs512 = jwt.sign({ sub: String(userId), iat: now, exp: now + 600 }, h.config.jwtSecret, {
      algorithm: 'HS512',
    })
    expectError(await orders(`Bearer ${hs512}`), 401, 'UNAUTHORIZED')
  })

  it('a tampered payload (another user id, same signature) → 401 UNAUTHORIZED', async () => {
    const [header, payload, signature] = token.split('.')
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString())
    const tampered = `${header}.${b64url({ ...claims, sub: String(userId + 1) })}.${signature}`
    expectError(await orders(`Bearer ${tampered}`), 401, 'UNAUTHORIZED')
    const longer = `${header}.${b64url({ ...claims, exp: claims.exp + 86400 })}.${signature}`
    expectError(await orders(`Bearer ${longer}`), 401, 'UNAUTHORIZED')
  })

  it('a token without a numeric subject → 401 UNAUTHORIZED', async () => {
    const now = Math.floor(h.now().getTime() / 1000)
    for (const sub of ['alice', '0', '-1', undefined]) {
      const t = jwt.sign({ ...(sub === undefined ? {} : { sub }), iat: now }, h.config.jwtSecret, {
        algorithm: 'HS256',
        expiresIn: 600,
      })
      expectError(await orders(`Bearer ${t}`), 401, 'UNAUTHORIZED')
    }
  })

  it('a well-signed token for a user the database does not have → 401 UNAUTHORIZED, not 500', async () => {
    const now = Math.floor(h.now().getTime() / 1000)
    const ghost = jwt.sign({ sub: '987654', iat: now, exp: now + 600 }, h.config.jwtSecret, {
      algorithm: 'HS256',
    })
    // Creating an order is the first write that needs the user row.
    const res = await h.api('POST', '/api/orders', {
      token: ghost,
      body: { items: [{ productId: 5, quantity: 1 }] },
    })
    expectError(res, 401, 'UNAUTHORIZED')
  })

  it('a token expires after JWT_TTL_SECONDS (7200) on the server clock', async () => {
    expect(h.config.jwtTtlSeconds).toBe(7200)
    h.advance(7200 - 30)
    expect((await orders(`Bearer ${token}`)).status).toBe(200)
    h.advance(31)
    expectError(await orders(`Bearer ${token}`), 401, 'UNAUTHORIZED')
    // A new login gives a token valid at the new time.
    const again = await login(await newCode({ openid: 'o-auth-tokens' }))
    expect(again.status).toBe(200)
    expect(again.body.user.id).toBe(userId)
    expect((await orders(`Bearer ${again.body.token}`)).status).toBe(200)
  })

  it('no log line of the whole suite holds a session key or a token', async () => {
    const rows = await userRows()
    for (const line of logs) {
      expect(line).not.toMatch(/session_?key/i)
      expect(line).not.toContain(token)
      for (const u of rows) expect(line).not.toContain(u.sessionKey)
    }
  })
})
