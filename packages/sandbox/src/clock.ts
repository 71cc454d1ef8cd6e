/**
 * The sandbox's clock: real time, plus whatever the control API advanced it by, running `scale`
 * times faster than real time. Business time reads it: order expiry, `success_time`, prepay
 * validity, login-code life, the notification retry schedule.
 *
 * Signature timestamps (`Wechatpay-Timestamp`, and the ±5 minute check of merchant requests) do
 * NOT: they follow the real clock, because they are checked against the merchant's real clock,
 * and an advanced sandbox must not make every signature look stale.
 */
export class SandboxClock {
  #scale: number
  /** Sandbox time at `#anchorReal` (real ms): now() runs on from there at `#scale`. */
  #anchorSandbox: number
  #anchorReal: number
  /** Pending tasks, a binary min-heap on `dueMs` (cancelled ones are dropped when they surface). */
  readonly #heap: ScheduledTask[] = []
  #wakeup: NodeJS.Timeout | undefined
  #closed = false

  constructor(scale = 1) {
    if (!(scale > 0)) throw new Error('time scale must be positive')
    this.#scale = scale
    this.#anchorReal = this.#anchorSandbox = Date.now()
  }

  /** Sandbox seconds per real second. */
  get scale(): number {
    return this.#scale
  }

  /** Sandbox time, ms since the epoch. */
  now(): number {
    return this.#anchorSandbox + (Date.now() - this.#anchorReal) * this.#scale
  }

  /**
   * Runs sandbox time `scale` times as fast as real time from now on; sandbox time does not jump,
   * and pending tasks fall due at the new pace.
   */
  setScale(scale: number): void {
    if (!(scale > 0)) throw new Error('time scale must be positive')
    const real = Date.now()
    this.#anchorSandbox += (real - this.#anchorReal) * this.#scale
    this.#anchorReal = real
    this.#scale = scale
    this.#arm()
  }

  /** Moves sandbox time forward; tasks that fall due run at once (asynchronously). */
  advance(seconds: number): void {
    if (!(seconds >= 0)) throw new Error('the clock only moves forward')
    this.#anchorSandbox += seconds * 1000
    this.#arm()
  }

  /**
   * Runs `run` when sandbox time reaches `dueMs`: a delay of D sandbox ms takes D / scale real ms.
   * Always asynchronous, even when already due.
   */
  at(dueMs: number, run: () => void): ScheduledTask {
    const task: ScheduledTask = {
      dueMs,
      run,
      cancelled: false,
      cancel: () => {
        task.cancelled = true
      },
    }
    if (this.#closed) return task
    push(this.#heap, task)
    if (this.#heap[0] === task) this.#arm()
    return task
  }

  /** Runs `run` after `delayMs` of sandbox time. */
  after(delayMs: number, run: () => void): ScheduledTask {
    return this.at(this.now() + delayMs, run)
  }

  /** Cancels every pending task; tasks scheduled later are ignored. */
  close(): void {
    this.#closed = true
    this.#heap.length = 0
    if (this.#wakeup) clearTimeout(this.#wakeup)
  }

  /** One real timer, for the earliest task. */
  #arm(): void {
    if (this.#wakeup) clearTimeout(this.#wakeup)
    this.#wakeup = undefined
    while (this.#heap[0]?.cancelled) pop(this.#heap)
    const first = this.#heap[0]
    if (this.#closed || !first) return
    const realDelay = Math.max(0, Math.ceil((first.dueMs - this.now()) / this.#scale))
    // Capped, so a far-off task (a 6 h retry) is re-checked now and then; unref'd, so pending
    // retries never keep a process alive.
    this.#wakeup = setTimeout(() => this.#fire(), Math.min(realDelay, 60_000))
    this.#wakeup.unref()
  }

  #fire(): void {
    this.#wakeup = undefined
    const now = this.now()
    const due: ScheduledTask[] = []
    while (this.#heap[0] && this.#heap[0].dueMs <= now) {
      const task = pop(this.#heap)!
      if (!task.cancelled) due.push(task)
    }
    for (const task of due) {
      try {
        task.run()
      } catch (e) {
        // One failing task must not stop the others, nor crash the process from a timer.
        console.error('[sandbox] a scheduled task failed:', e)
      }
    }
    this.#arm()
  }
}

export interface ScheduledTask {
  readonly dueMs: number
  readonly run: () => void
  cancelled: boolean
  cancel(): void
}

function push(heap: ScheduledTask[], task: ScheduledTask): void {
  heap.push(task)
  let i = heap.length - 1
  while (i > 0) {
    const parent = (i - 1) >> 1
    if (heap[parent]!.dueMs <= task.dueMs) break
    heap[i] = heap[parent]!
    i = parent
  }
  heap[i] = task
}

function pop(heap: ScheduledTask[]): ScheduledTask | undefined {
  const top = heap[0]
  const last = heap.pop()
  if (heap.length === 0 || !last) return top
  let i = 0
  for (;;) {
    const l = 2 * i + 1
    const r = l + 1
    let smallest = i
    const at = (k: number) => (k === i ? last : heap[k]!)
    if (l < heap.length && heap[l]!.dueMs < at(smallest).dueMs) smallest = l
    if (r < heap.length && heap[r]!.dueMs < at(smallest).dueMs) smallest = r
    if (smallest === i) break
    heap[i] = heap[smallest]!
    i = smallest
  }
  heap[i] = last
  return top
}
