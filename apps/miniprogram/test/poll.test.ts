import { describe, expect, it, vi } from 'vitest'
import type { Order } from '@fen/shared'
import { POLL_INTERVAL_MS, POLL_TIMEOUT_MS, pollOrder } from '@/poll'
import { withStatus } from './fixtures'

/** A clock that only moves when the poller sleeps: no real timers. */
function fakeClock() {
  let t = 1_000_000
  const sleeps: number[] = []
  return {
    sleeps,
    now: () => t,
    sleep: vi.fn(async (ms: number) => {
      sleeps.push(ms)
      t += ms
    }),
  }
}

/** A load that answers from a script: an Order, or an Error to reject with; the last one repeats. */
function scripted(...steps: (Order | Error)[]) {
  let i = 0
  return vi.fn(async (): Promise<Order> => {
    const step = steps[Math.min(i++, steps.length - 1)]!
    if (step instanceof Error) throw step
    return step
  })
}

const pending = (n: number) => withStatus('PENDING', { refundedFen: n }) // distinct objects

describe('pollOrder', () => {
  it('stops on PAID, sleeping the interval between PENDING answers', async () => {
    const clock = fakeClock()
    const paid = withStatus('PAID')
    const load = scripted(pending(1), pending(2), paid)

    const end = await pollOrder(load, { now: clock.now, sleep: clock.sleep })

    expect(end).toEqual({ status: 'final', order: paid })
    expect(end.order).toBe(paid)
    expect(load).toHaveBeenCalledTimes(3)
    expect(clock.sleeps).toEqual([POLL_INTERVAL_MS, POLL_INTERVAL_MS])
  })

  it('stops on CLOSED at once', async () => {
    const clock = fakeClock()
    const closed = withStatus('CLOSED')
    const load = scripted(closed)

    await expect(pollOrder(load, { now: clock.now, sleep: clock.sleep })).resolves.toEqual({
      status: 'final',
      order: closed,
    })
    expect(load).toHaveBeenCalledTimes(1)
    expect(clock.sleep).not.toHaveBeenCalled()
  })

  it('treats any status other than PENDING as final (a refunded late payment)', async () => {
    const clock = fakeClock()
    const refunding = withStatus('REFUNDING')
    const end = await pollOrder(scripted(pending(1), refunding), {
      now: clock.now,
      sleep: clock.sleep,
    })
    expect(end).toEqual({ status: 'final', order: refunding })
  })

  it('keeps going through failed loads', async () => {
    const clock = fakeClock()
    const paid = withStatus('PAID')
    const load = scripted(new Error('网络连接失败'), pending(1), new Error('again'), paid)
    const onUpdate = vi.fn()

    const end = await pollOrder(load, {
      now: clock.now,
      sleep: clock.sleep,
      intervalMs: 500,
      onUpdate,
    })

    expect(end).toEqual({ status: 'final', order: paid })
    expect(load).toHaveBeenCalledTimes(4)
    expect(clock.sleeps).toEqual([500, 500, 500])
    expect(onUpdate.mock.calls.map(([o]) => o)).toEqual([pending(1), paid])
  })

  it('onUpdate sees each order, in order', async () => {
    const clock = fakeClock()
    const answers = [pending(1), pending(2), pending(3), withStatus('PAID')]
    const seen: Order[] = []

    await pollOrder(scripted(...answers), {
      now: clock.now,
      sleep: clock.sleep,
      onUpdate: (o) => seen.push(o),
    })

    expect(seen).toHaveLength(4)
    answers.forEach((a, i) => expect(seen[i]).toBe(a))
  })

  it('returns timeout with the last order after timeoutMs', async () => {
    const clock = fakeClock()
    const answers = Array.from({ length: 10 }, (_, i) => pending(i))
    const load = scripted(...answers)

    const end = await pollOrder(load, {
      now: clock.now,
      sleep: clock.sleep,
      intervalMs: 2_000,
      timeoutMs: 10_000,
    })

    // loads at t = 0, 2, 4, 6, 8, 10 s; at 10 s the timeout is reached
    expect(end.status).toBe('timeout')
    expect(load).toHaveBeenCalledTimes(6)
    expect(end.order).toBe(answers[5])
    expect(clock.sleeps).toHaveLength(5)
  })

  it('a timeout after only failures has no order', async () => {
    const clock = fakeClock()
    const load = scripted(new Error('down'))
    const end = await pollOrder(load, { now: clock.now, sleep: clock.sleep, timeoutMs: 4_000 })
    expect(end).toEqual({ status: 'timeout', order: undefined })
    expect(load).toHaveBeenCalledTimes(3)
  })

  it('keeps the last good order when later loads fail', async () => {
    const clock = fakeClock()
    const last = pending(1)
    const end = await pollOrder(scripted(last, new Error('down')), {
      now: clock.now,
      sleep: clock.sleep,
      timeoutMs: 6_000,
    })
    expect(end).toEqual({ status: 'timeout', order: last })
  })

  it('uses the default timeout of POLL_TIMEOUT_MS', async () => {
    const clock = fakeClock()
    const load = scripted(pending(1))
    const end = await pollOrder(load, { now: clock.now, sleep: clock.sleep })
    expect(end.status).toBe('timeout')
    expect(load).toHaveBeenCalledTimes(POLL_TIMEOUT_MS / POLL_INTERVAL_MS + 1)
  })

  it('stopped() ends it without another sleep or load', async () => {
    const clock = fakeClock()
    let stop = false
    const load = vi.fn(async () => {
      if (load.mock.calls.length === 2) stop = true
      return pending(load.mock.calls.length)
    })

    const end = await pollOrder(load, { now: clock.now, sleep: clock.sleep, stopped: () => stop })

    expect(end.status).toBe('stopped')
    expect(end.order).toEqual(pending(2))
    expect(load).toHaveBeenCalledTimes(2)
    expect(clock.sleeps).toHaveLength(1)
  })

  it('a page closed during the sleep costs no further load', async () => {
    const clock = fakeClock()
    let stop = false
    const load = scripted(pending(1))
    const sleep = vi.fn(async (ms: number) => {
      await clock.sleep(ms)
      stop = true // the page unloads while the poller waits
    })

    const end = await pollOrder(load, { now: clock.now, sleep, stopped: () => stop })

    expect(end).toEqual({ status: 'stopped', order: pending(1) })
    expect(load).toHaveBeenCalledTimes(1)
  })

  it('a final answer wins over stopped()', async () => {
    const clock = fakeClock()
    const paid = withStatus('PAID')
    const end = await pollOrder(scripted(paid), {
      now: clock.now,
      sleep: clock.sleep,
      stopped: () => true,
    })
    expect(end).toEqual({ status: 'final', order: paid })
  })
})
