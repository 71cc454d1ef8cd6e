import { randomBytes } from 'node:crypto'

/**
 * The time, in milliseconds since the epoch. Injected wherever the SDK reads the time (request
 * timestamps, the ±5 minute window, certificate refresh) so tests pass fixed values instead of
 * faking timers.
 */
export type Clock = () => number

/** The real clock. */
export const systemClock: Clock = () => Date.now()

/** Makes the `nonce_str` of each request. */
export type NonceSource = () => string

/** 32 random characters from `[A-Za-z0-9]`, as the official SDKs send. */
export const randomNonce: NonceSource = () => randomAlphanumeric(32)

/** Whole seconds of a {@link Clock} reading: the form every WeChat timestamp takes. */
export function unixSeconds(clock: Clock): number {
  return Math.floor(clock() / 1000)
}

/**
 * An instant as WeChat writes times: RFC 3339 in Beijing time, second precision,
 * e.g. `2018-06-08T10:34:56+08:00` (use it for `time_expire`). With `milliseconds: true`,
 * `2022-12-15T13:29:35.120+08:00` (the `upload_time` of shipping uploads, where each update must
 * be later than the one before, so two in one second must still differ).
 */
export function formatBeijingTime(
  date: Date | number,
  options?: { milliseconds?: boolean },
): string {
  const ms = typeof date === 'number' ? date : date.getTime()
  const iso = new Date(ms + 8 * 3600_000).toISOString()
  return iso.slice(0, options?.milliseconds ? 23 : 19) + '+08:00'
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/**
 * `length` random characters from `[A-Za-z0-9]`. Rejection sampling keeps them uniform: bytes of 248
 * and above (248 = 4 × 62) are dropped instead of skewing the first letters.
 */
export function randomAlphanumeric(length: number): string {
  let out = ''
  while (out.length < length) {
    for (const byte of randomBytes(length + 8)) {
      if (byte < 248) out += ALPHANUMERIC[byte % 62]
      if (out.length === length) break
    }
  }
  return out
}
