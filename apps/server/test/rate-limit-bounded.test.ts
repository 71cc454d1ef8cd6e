/**
 * The login limiter holds a bounded table and forgets expired keys as it goes (no scan of the whole
 * table per request): 100k spoofed keys once blocked the event loop for 69 s in total.
 */
import { describe, expect, it } from 'vitest'
import { RateLimiter } from '../src/rate-limit'

describe('RateLimiter memory', () => {
  it('never holds more than maxKeys keys, however many distinct keys arrive in one window', () => {
    const now = 1_000_000
    const limiter = new RateLimiter(30, 60_000, () => now, 1000)
    for (let i = 0; i < 5000; i++) expect(limiter.take(`k${i}`)).toBe(true)
    expect(limiter.size).toBeLessThanOrEqual(1000)
  })

  it('drops expired keys as time passes, without waiting for the table to fill', () => {
    let now = 0
    const limiter = new RateLimiter(30, 60_000, () => now, 1000)
    for (let i = 0; i < 500; i++) limiter.take(`old${i}`)
    now += 60_000
    limiter.take('new')
    expect(limiter.size).toBe(1)
  })

  it('still limits a key whose window has not ended, with others coming and going', () => {
    let now = 0
    const limiter = new RateLimiter(3, 60_000, () => now, 1000)
    for (let i = 0; i < 3; i++) expect(limiter.take('a')).toBe(true)
    now += 30_000
    for (let i = 0; i < 200; i++) limiter.take(`other${i}`)
    expect(limiter.take('a')).toBe(false)
    now += 30_000 // a's window ends; the others' have 30 s left
    expect(limiter.take('a')).toBe(true)
    expect(limiter.size).toBe(201)
  })
})
