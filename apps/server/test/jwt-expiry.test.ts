/**
 * Every token must say when it ends: one signed with our secret but without `exp` (or with an `exp`
 * that is not a number) would otherwise be accepted forever.
 */
import { createHash, createHmac } from 'node:crypto'
import jwt from 'jsonwebtoken'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHarness, type Harness } from './harness'

let h: Harness
let userId: number
const openid = 'o-jwt-expiry'
const oid = createHash('sha256').update(openid).digest('base64url').slice(0, 16)

beforeAll(async () => {
  h = await startHarness()
  const token = await h.login(openid)
  userId = Number(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).sub)
})
afterAll(() => h?.close())

const orders = (token: string) => h.api<{ code: string }>('GET', '/api/orders', { token })
const sign = (claims: object) =>
  jwt.sign({ sub: String(userId), oid, ...claims }, h.config.jwtSecret, { algorithm: 'HS256' })

describe('token lifetime', () => {
  it('our own claims with an exp are accepted (the check below is about exp alone)', async () => {
    const now = Math.floor(h.now().getTime() / 1000)
    expect((await orders(sign({ iat: now, exp: now + 600 }))).status).toBe(200)
  })

  it('a token without exp → 401 UNAUTHORIZED', async () => {
    const now = Math.floor(h.now().getTime() / 1000)
    const res = await orders(sign({ iat: now }))
    expect(res.status).toBe(401)
    expect(res.body.code).toBe('UNAUTHORIZED')
  })

  it('a token whose exp is not a number → 401 UNAUTHORIZED', async () => {
    // jsonwebtoken refuses to sign such a claim: sign it by hand.
    const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
    const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub: String(userId), oid, exp: 'never' })}`
    const mac = createHmac('sha256', h.config.jwtSecret).update(unsigned).digest('base64url')
    const token = `${unsigned}.${mac}`
    expect((await orders(token)).status).toBe(401)
  })
})
