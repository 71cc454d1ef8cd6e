/**
 * The admin token check (issue #23, item 10): the right token passes, every near miss is refused,
 * and no length check runs before the constant-time compare — a token of another length reaches
 * `timingSafeEqual` like any other (as SHA-256 digests of both), so how fast it is refused says
 * nothing about the token's length. Timing itself is never measured here: the calls are.
 */
import type { Context } from 'koa'
import type * as crypto from 'node:crypto'
import { timingSafeEqual } from 'node:crypto'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { AppError } from '../src/errors'
import { requireAdmin, secretMatcher } from '../src/routes/http'

vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof crypto>()
  return { ...real, timingSafeEqual: vi.fn(real.timingSafeEqual) }
})
const compare = vi.mocked(timingSafeEqual)
// A block: a function returned from beforeEach would be run as its cleanup.
beforeEach(() => {
  compare.mockClear()
})

const TOKEN = 'admin-token-0123456789abcdef'
const swapped = (s: string, i: number) =>
  s.slice(0, i) + (s[i] === 'x' ? 'y' : 'x') + s.slice(i + 1)

/** Every way a token can nearly be the right one. */
const NEAR_MISSES: Record<string, string> = {
  'first char changed': swapped(TOKEN, 0),
  'last char changed': swapped(TOKEN, TOKEN.length - 1),
  'one shorter': TOKEN.slice(0, -1),
  'one longer': TOKEN + '0',
  empty: '',
  double: TOKEN + TOKEN,
  'another case': TOKEN.toUpperCase(),
}

/** Runs the middleware for an `Authorization` header: 'next' when it let the request through. */
async function check(authorization: string | undefined): Promise<'next' | string> {
  const ctx = { get: (h: string) => (h === 'authorization' ? (authorization ?? '') : '') }
  try {
    let passed = false
    await requireAdmin(TOKEN)(ctx as unknown as Context, async () => {
      passed = true
    })
    return passed ? 'next' : 'stopped'
  } catch (e) {
    return e instanceof AppError ? e.code : String(e)
  }
}

describe('secretMatcher', () => {
  it('matches the secret only', () => {
    const matches = secretMatcher(TOKEN)
    expect(matches(TOKEN)).toBe(true)
    for (const [what, given] of Object.entries(NEAR_MISSES))
      expect({ what, matches: matches(given) }).toEqual({ what, matches: false })
  })

  it('compares in constant time whatever the given length: one timingSafeEqual of two SHA-256 digests each', () => {
    const matches = secretMatcher(TOKEN)
    for (const given of [TOKEN, ...Object.values(NEAR_MISSES)]) {
      compare.mockClear()
      matches(given)
      expect(compare).toHaveBeenCalledTimes(1)
      const [a, b] = compare.mock.calls[0]! as [Buffer, Buffer]
      expect([a.length, b.length]).toEqual([32, 32])
    }
  })
})

describe('requireAdmin', () => {
  it('lets the right token through and refuses every near miss, a missing header and other schemes', async () => {
    expect(await check(`Bearer ${TOKEN}`)).toBe('next')
    const refused = [
      ...Object.values(NEAR_MISSES).map((t) => `Bearer ${t}`),
      undefined,
      TOKEN,
      `bearer ${TOKEN}`,
      `Basic ${TOKEN}`,
      `Bearer ${TOKEN} `,
      `Bearer  ${TOKEN}`,
    ]
    for (const authorization of refused)
      expect({ authorization, result: await check(authorization) }).toEqual({
        authorization,
        result: 'ADMIN_UNAUTHORIZED',
      })
  })

  it('reaches the constant-time compare for a token of any length', async () => {
    for (const given of Object.values(NEAR_MISSES)) {
      compare.mockClear()
      expect(await check(`Bearer ${given}`)).toBe('ADMIN_UNAUTHORIZED')
      expect({ given, compares: compare.mock.calls.length }).toEqual({ given, compares: 1 })
    }
  })
})
