import { randomInt } from 'node:crypto'

/**
 * Faults an API path can be given (the next `count` matching calls, or a `rate` of them).
 * `unreachable` is the primary host down: the connection is dropped with no HTTP answer, and the
 * call changes nothing; it hits calls at the primary host only, so the same call sent to the
 * backup host (`backupPort`) goes through. Every other fault hits a call at either host.
 */
export const PATH_FAULTS = [
  'error500',
  'error429',
  'timeout',
  'reset',
  'probe',
  'errcode',
  'unreachable',
  'corrupt',
] as const
/**
 * Kinds only the mini-program server APIs (`api.weixin.qq.com`: `/cgi-bin/…`, `/wxa/…`) take:
 * `errcode` answers the fault's `errcode` (default 10060001, 支付单不存在, which WeChat answers for
 * a while right after payment).
 */
export const WEIXIN_ONLY_FAULTS: readonly string[] = ['errcode']
/**
 * Kinds only the bill download (`/v3/billdownload/file`) takes: `corrupt` answers the file with
 * one byte changed, so its SHA1 differs from the `hash_value` of 申请账单 (a transfer gone wrong).
 */
export const BILL_DOWNLOAD_ONLY_FAULTS: readonly string[] = ['corrupt']
/** Which of the sandbox's hosts a call reached: its main port, or the backup's (`backupPort`). */
export type SandboxHost = 'primary' | 'backup'
/** Faults notifications can be given (the next `count` notifications, or a `rate` of them). */
export const NOTIFICATION_FAULTS = ['drop', 'duplicate', 'delay', 'reorder', 'probe'] as const

export type PathFaultKind = (typeof PATH_FAULTS)[number]
export type NotificationFaultKind = (typeof NOTIFICATION_FAULTS)[number]

/**
 * One armed fault: `target` is `"notifications"` or a path prefix such as `"/v3/pay/transactions"`.
 * It is either counted (`remaining`: it hits the next matching calls, then disarms) or a rate fault
 * (`rate`: it hits each matching call with that probability, drawn from dice seeded with `seed`,
 * until the faults are cleared). `seconds` is the hold of a `delay` fault (sandbox seconds, default 60).
 */
export interface Fault {
  target: string
  kind: PathFaultKind | NotificationFaultKind
  /** A counted fault: the matching calls it will still hit. */
  remaining?: number
  /** A rate fault: the probability (0 < rate ≤ 1) that it hits a matching call. */
  rate?: number
  /** A rate fault: the seed of its dice (drawn at random when not given; listed so a run can be replayed). */
  seed?: number
  /** A rate fault: the matching calls it has hit so far. */
  hits?: number
  seconds?: number
  /** An `errcode` fault: the errcode to answer (default 10060001). */
  errcode?: number
}

/** What `POST /__sandbox/faults` arms: `count` or `rate` (with an optional `seed`), not both. */
export type FaultSpec = Omit<Fault, 'remaining' | 'hits'> & { count?: number }

type Armed =
  | { fault: Fault & { remaining: number } }
  /** `strikes` rolls a rate fault's dice: true for a hit. */
  | { fault: Fault & { hits: number }; strikes: () => boolean }

/**
 * The faults armed by `POST /__sandbox/faults`, tried in the order they were armed: a counted fault
 * that matches is taken; a rate fault that matches rolls its dice and, on a miss, lets the call go on
 * to the next armed fault. So several rate faults on one target add up (0.1 then 0.1 hits 19% of calls).
 */
export class Faults {
  #armed: Armed[] = []

  add(spec: FaultSpec): void {
    const { count, ...rest } = spec
    const { rate } = rest
    if (rate !== undefined) {
      const seed = rest.seed ?? randomInt(0, 2 ** 32)
      const roll = dice(seed)
      this.#armed.push({ fault: { ...rest, seed, hits: 0 }, strikes: () => roll() < rate })
    } else {
      this.#armed.push({ fault: { ...rest, remaining: count ?? 1 } })
    }
  }

  /** Takes one use of the first fault for `notifications` that hits. */
  forNotification(): Fault | undefined {
    return this.#take((f) => f.target === 'notifications')
  }

  /**
   * Takes one use of the first fault whose target is a prefix of `path` and that hits; at the
   * backup host, `unreachable` faults (the primary's) are passed over.
   */
  forPath(path: string, host: SandboxHost = 'primary'): Fault | undefined {
    return this.#take(
      (f) =>
        f.target !== 'notifications' &&
        path.startsWith(f.target) &&
        !(host === 'backup' && f.kind === 'unreachable'),
    )
  }

  list(): Fault[] {
    return this.#armed.map((a) => ({ ...a.fault }))
  }

  clear(): void {
    this.#armed = []
  }

  #take(match: (f: Fault) => boolean): Fault | undefined {
    for (const armed of this.#armed) {
      if (!match(armed.fault)) continue
      if ('strikes' in armed) {
        if (!armed.strikes()) continue
        armed.fault.hits += 1
        return armed.fault
      }
      armed.fault.remaining -= 1
      if (armed.fault.remaining <= 0) this.#armed = this.#armed.filter((a) => a !== armed)
      return armed.fault
    }
    return undefined
  }
}

/**
 * Deterministic dice for a rate fault: Marsaglia's xorshift32 over the seed, scaled to [0, 1). Not
 * for anything secret; it only has to give the same hits for the same seed and order of calls.
 */
function dice(seed: number): () => number {
  // The seed is mixed first (murmur3's 32-bit finalizer): raw xorshift from a small seed rolls
  // near 0 for its first draws, and nearby seeds roll alike. xorshift never leaves 0, so 0 is
  // moved to a fixed non-zero state.
  let s = fmix32(seed) || 0x9e3779b9
  return () => {
    s = (s ^ (s << 13)) >>> 0
    s = (s ^ (s >>> 17)) >>> 0
    s = (s ^ (s << 5)) >>> 0
    return s / 2 ** 32
  }
}

/** murmur3's finalizer: every bit of the input affects every bit of the output. */
function fmix32(h: number): number {
  h = (h ^ (h >>> 16)) >>> 0
  h = Math.imul(h, 0x85ebca6b) >>> 0
  h = (h ^ (h >>> 13)) >>> 0
  h = Math.imul(h, 0xc2b2ae35) >>> 0
  return (h ^ (h >>> 16)) >>> 0
}
