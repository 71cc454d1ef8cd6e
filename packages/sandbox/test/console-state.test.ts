/**
 * What the console needs from the sandbox's own parts: a clock whose scale can change while it
 * runs, and a notifier that keeps what each attempt sent — for a bounded number of notifications.
 */
import { describe, expect, it } from 'vitest'
import { SandboxClock } from '../src/clock'
import { Faults } from '../src/faults'
import { Notifier, SENT_KEPT } from '../src/notifier'

describe('SandboxClock.setScale', () => {
  it('keeps sandbox time continuous and runs pending tasks at the new pace', async () => {
    const clock = new SandboxClock(1)
    try {
      const realBefore = Date.now()
      const t0 = clock.now()
      clock.setScale(1000)
      const t1 = clock.now()
      const realAfter = Date.now()
      // No jump: sandbox time moved at most what the real time that passed allows at the new pace
      // (a busy machine may let a millisecond or more pass between the calls: 1000 sandbox ms each).
      expect(t1).toBeGreaterThanOrEqual(t0)
      expect(t1 - t0).toBeLessThanOrEqual((realAfter - realBefore) * 1000)
      // Due in 60 sandbox seconds: at 1000× it runs within a fraction of a real second.
      const ran = new Promise<number>((resolve) => clock.after(60_000, () => resolve(clock.now())))
      expect((await ran) - t0).toBeGreaterThanOrEqual(60_000)
      expect(clock.scale).toBe(1000)
      expect(() => clock.setScale(0)).toThrow(/positive/)
    } finally {
      clock.close()
    }
  })
})

describe('what notification attempts sent', () => {
  it(`is kept for the newest ${SENT_KEPT} notifications only`, () => {
    const clock = new SandboxClock()
    // Closed: nothing is ever sent; only the records are kept.
    clock.close()
    const notifier = new Notifier({
      clock,
      faults: new Faults(),
      timeoutMs: 1000,
      log: () => undefined,
    })
    for (let i = 0; i <= SENT_KEPT; i++) {
      notifier.enqueue({
        id: `n${i}`,
        version: 'v3',
        eventType: 'TRANSACTION.SUCCESS',
        outTradeNo: `O${i}`,
        url: 'http://127.0.0.1:9/',
        body: '{}',
        headers: async () => ({}),
      })
    }
    expect(notifier.size).toBe(SENT_KEPT + 1)
    expect(notifier.detail('n0')!.sent).toBeUndefined()
    expect(notifier.detail('n1')!.sent).toEqual([])
    expect(notifier.detail(`n${SENT_KEPT}`)!.body).toBe('{}')
  })
})
