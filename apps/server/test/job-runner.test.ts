import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { every } from '../src/jobs/runner'
import { createLogger } from '../src/logger'

const quiet = createLogger('silent')

// Fake timers and no jitter: the runs happen exactly when the clock is moved, never by a race with a
// real timer.
beforeEach(() => {
  vi.useFakeTimers()
  vi.spyOn(Math, 'random').mockReturnValue(0)
})
afterEach(() => {
  vi.useRealTimers()
  vi.restoreAllMocks()
})

describe('every (the job runner)', () => {
  it('runs again after busy.afterMs while runs find work, and at the interval once idle', async () => {
    const runs: number[] = []
    let work = 3
    const job = every(
      'test',
      10_000,
      async () => {
        runs.push(Date.now())
        return work-- > 0
      },
      quiet,
      { busy: { when: (found) => found, afterMs: 100 } },
    )
    const start = Date.now()
    // The first run comes after the interval.
    await vi.advanceTimersByTimeAsync(9_999)
    expect(runs).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(1)
    expect(runs).toHaveLength(1)
    // Each of the three runs that found work is followed 100 ms later; the fourth finds nothing.
    for (let i = 0; i < 3; i++) await vi.advanceTimersByTimeAsync(100)
    expect(runs.map((t) => t - start)).toEqual([10_000, 10_100, 10_200, 10_300])
    // Idle again: the next run a whole interval later.
    await vi.advanceTimersByTimeAsync(9_999)
    expect(runs).toHaveLength(4)
    await vi.advanceTimersByTimeAsync(1)
    expect(runs).toHaveLength(5)
    await job.stop()
  })

  it('without busy, every run waits the interval, and a failing run does not stop the next', async () => {
    let runs = 0
    const job = every(
      'test',
      1_000,
      async () => {
        runs++
        throw new Error('boom')
      },
      quiet,
    )
    await vi.advanceTimersByTimeAsync(1_000)
    expect(runs).toBe(1)
    await vi.advanceTimersByTimeAsync(999)
    expect(runs).toBe(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(runs).toBe(2)
    await job.stop()
    await vi.advanceTimersByTimeAsync(5_000)
    expect(runs).toBe(2)
  })
})
