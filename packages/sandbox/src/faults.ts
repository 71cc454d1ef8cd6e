/** Faults an API path can be given (the next `count` matching calls). */
export const PATH_FAULTS = ['error500', 'error429', 'timeout', 'reset', 'probe'] as const
/** Faults notifications can be given (the next `count` notifications). */
export const NOTIFICATION_FAULTS = ['drop', 'duplicate', 'delay', 'reorder', 'probe'] as const

export type PathFaultKind = (typeof PATH_FAULTS)[number]
export type NotificationFaultKind = (typeof NOTIFICATION_FAULTS)[number]

/**
 * One armed fault: `target` is `"notifications"` or a path prefix such as `"/v3/pay/transactions"`.
 * `seconds` is the hold of a `delay` fault (sandbox seconds, default 60).
 */
export interface Fault {
  target: string
  kind: PathFaultKind | NotificationFaultKind
  remaining: number
  seconds?: number
}

/** The faults armed by `POST /__sandbox/faults`, consumed in the order they were armed. */
export class Faults {
  #armed: Fault[] = []

  add(fault: Fault): void {
    this.#armed.push(fault)
  }

  /** Takes one use of the first fault for `notifications`. */
  forNotification(): Fault | undefined {
    return this.#take((f) => f.target === 'notifications')
  }

  /** Takes one use of the first fault whose target is a prefix of `path`. */
  forPath(path: string): Fault | undefined {
    return this.#take((f) => f.target !== 'notifications' && path.startsWith(f.target))
  }

  list(): Fault[] {
    return this.#armed.map((f) => ({ ...f }))
  }

  clear(): void {
    this.#armed = []
  }

  #take(match: (f: Fault) => boolean): Fault | undefined {
    const fault = this.#armed.find(match)
    if (!fault) return undefined
    fault.remaining -= 1
    if (fault.remaining <= 0) this.#armed = this.#armed.filter((f) => f !== fault)
    return fault
  }
}
