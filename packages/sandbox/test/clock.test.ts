import { afterEach, describe, expect, it } from 'vitest'
import { SandboxClock } from '../src/clock'

/** Clocks made by a test, closed after it so no timer outlives it. */
const clocks: SandboxClock[] = []
function clock(scale = 1): SandboxClock {
  const c = new SandboxClock(scale)
  clocks.push(c)
  return c
}
afterEach(() => {
  for (const c of clocks.splice(0)) c.close()
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `check` every few ms until it holds; fails after `timeoutMs` real ms. */
async function until(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await sleep(2)
  }
}

describe('SandboxClock', () => {
  it('starts at real time and, at scale 1, keeps pace with it', async () => {
    const before = Date.now()
    const c = clock()
    const after = Date.now()
    const now = c.now()
    expect(now).toBeGreaterThanOrEqual(before)
    expect(now).toBeLessThanOrEqual(after + 5)
    await sleep(50)
    const drift = c.now() - Date.now()
    expect(Math.abs(drift)).toBeLessThanOrEqual(5)
  })

  it('runs `scale` times faster than real time', async () => {
    const c = clock(1000)
    const startSandbox = c.now()
    const startReal = Date.now()
    // Starts at real time: within a few real ms (each worth 1 sandbox second) of it.
    expect(Math.abs(startSandbox - startReal)).toBeLessThan(20_000)
    await sleep(40)
    const realElapsed = Date.now() - startReal
    const sandboxElapsed = c.now() - startSandbox
    expect(sandboxElapsed).toBeGreaterThanOrEqual((realElapsed - 2) * 1000)
    expect(sandboxElapsed).toBeLessThanOrEqual((realElapsed + 2) * 1000)
    expect(c.scale).toBe(1000)
  })

  it('refuses a scale that is not positive', () => {
    expect(() => new SandboxClock(0)).toThrow(/positive/)
    expect(() => new SandboxClock(-1)).toThrow(/positive/)
    expect(() => new SandboxClock(Number.NaN)).toThrow(/positive/)
  })

  it('advance() moves sandbox time forward by exactly the seconds given', () => {
    const c = clock()
    const before = c.now()
    c.advance(3600)
    const after = c.now()
    // Plus whatever little real time passed between the two reads.
    expect(after - before).toBeGreaterThanOrEqual(3_600_000)
    expect(after - before).toBeLessThan(3_600_000 + 50)
    c.advance(0.5)
    expect(c.now() - after).toBeGreaterThanOrEqual(500)
    expect(c.now() - after).toBeLessThan(550)
  })

  it('advance() runs tasks that fall due, asynchronously, not inside advance()', async () => {
    const c = clock()
    const ran: string[] = []
    c.after(10_000, () => ran.push('10s'))
    c.after(20_000, () => ran.push('20s'))
    c.advance(10)
    expect(ran).toEqual([]) // not run inside advance()
    await until(() => ran.length === 1)
    expect(ran).toEqual(['10s'])
    await sleep(30)
    expect(ran).toEqual(['10s']) // the 20 s one is not due yet (real time is ~ms)
    c.advance(10)
    expect(ran).toEqual(['10s'])
    await until(() => ran.length === 2)
    expect(ran).toEqual(['10s', '20s'])
  })

  it('at() with a time already past still runs asynchronously', async () => {
    const c = clock()
    let ran = false
    const task = c.at(c.now() - 60_000, () => {
      ran = true
    })
    expect(ran).toBe(false)
    expect(task.cancelled).toBe(false)
    await until(() => ran)
  })

  it('at() fires at the sandbox time given, honouring the scale', async () => {
    const c = clock(1000)
    const due = c.now() + 5000 // 5 sandbox seconds = 5 real ms at 1000×
    let firedAt = 0
    const realStart = Date.now()
    c.at(due, () => {
      firedAt = c.now()
    })
    await until(() => firedAt > 0, 500)
    expect(Date.now() - realStart).toBeLessThan(50)
    expect(firedAt).toBeGreaterThanOrEqual(due)
  })

  it('after(): with scale 1000 a 5 s sandbox delay fires within ~50 ms real', async () => {
    const c = clock(1000)
    const realStart = performance.now()
    const sandboxStart = c.now()
    let realFired = 0
    let sandboxFired = 0
    c.after(5000, () => {
      realFired = performance.now()
      sandboxFired = c.now()
    })
    await until(() => realFired > 0, 1000)
    // Not before it is due, and not much after: 5 real ms plus timer slack.
    expect(sandboxFired - sandboxStart).toBeGreaterThanOrEqual(5000)
    expect(realFired - realStart).toBeGreaterThanOrEqual(4)
    expect(realFired - realStart).toBeLessThan(50)
  })

  it('after(): at scale 1 a delay is real time', async () => {
    const c = clock()
    const start = performance.now()
    let fired = 0
    c.after(60, () => {
      fired = performance.now()
    })
    await sleep(20)
    expect(fired).toBe(0)
    await until(() => fired > 0, 1000)
    expect(fired - start).toBeGreaterThanOrEqual(58)
  })

  it('runs tasks in due order, whatever order they were scheduled in', async () => {
    const c = clock()
    const ran: number[] = []
    const base = c.now()
    for (const s of [50, 10, 40, 20, 30, 5, 45]) c.at(base + s * 1000, () => ran.push(s))
    c.advance(60)
    await until(() => ran.length === 7)
    expect(ran).toEqual([5, 10, 20, 30, 40, 45, 50])
  })

  it('cancel() stops a pending task; the others still run', async () => {
    const c = clock()
    const ran: string[] = []
    const a = c.after(1000, () => ran.push('a'))
    const b = c.after(2000, () => ran.push('b'))
    const d = c.after(3000, () => ran.push('d'))
    b.cancel()
    expect(b.cancelled).toBe(true)
    // Cancelling the earliest one too: the heap must skip it when it surfaces.
    a.cancel()
    c.advance(5)
    await until(() => ran.length === 1)
    await sleep(20)
    expect(ran).toEqual(['d'])
    expect(d.cancelled).toBe(false)
  })

  it('close() cancels everything pending, and tasks scheduled afterwards never run', async () => {
    const c = clock(1000)
    const ran: string[] = []
    c.after(0, () => ran.push('now'))
    c.after(1000, () => ran.push('1s'))
    c.after(10_000, () => ran.push('10s'))
    c.close()
    c.after(0, () => ran.push('after close'))
    c.at(0, () => ran.push('at after close'))
    c.advance(100)
    await sleep(60) // 60 sandbox seconds at 1000×: everything would have been due
    expect(ran).toEqual([])
  })

  it('negative (or NaN) advance throws and leaves the time alone', () => {
    const c = clock()
    c.advance(100)
    const before = c.now()
    expect(() => c.advance(-1)).toThrow(/forward/)
    expect(() => c.advance(Number.NaN)).toThrow(/forward/)
    expect(c.now() - before).toBeLessThan(50)
    expect(c.now() - before).toBeGreaterThanOrEqual(0)
  })

  it('runs 1,000 tasks with random due times in due order (one big advance)', async () => {
    const c = clock()
    const base = c.now()
    const dues = Array.from({ length: 1000 }, () => base + 1 + Math.floor(Math.random() * 100_000))
    const ran: number[] = []
    for (const due of dues) c.at(due, () => ran.push(due))
    c.advance(101)
    await until(() => ran.length === 1000)
    expect(ran).toEqual([...dues].sort((x, y) => x - y))
  })

  it('runs 1,000 tasks in due order across many small advances, with cancellations and late additions', async () => {
    const c = clock()
    const base = c.now() + 1000
    const ran: number[] = []
    const expected: number[] = []
    const tasks = Array.from({ length: 1000 }, () => {
      const due = base + Math.floor(Math.random() * 100_000)
      return { due, task: c.at(due, () => ran.push(due)) }
    })
    // Cancel every third one.
    tasks.forEach(({ due, task }, i) => {
      if (i % 3 === 0) task.cancel()
      else expected.push(due)
    })
    // Some added while others are pending, some earlier than everything else.
    for (let i = 0; i < 100; i++) {
      const due = base + Math.floor(Math.random() * 100_000)
      c.at(due, () => ran.push(due))
      expected.push(due)
    }
    expected.sort((x, y) => x - y)
    for (let step = 0; step < 11; step++) {
      c.advance(10)
      const cutoff = c.now() - 1
      const dueCount = expected.filter((d) => d <= cutoff).length
      await until(() => ran.length >= dueCount)
    }
    await until(() => ran.length === expected.length)
    expect(ran).toEqual(expected)
  })
})
