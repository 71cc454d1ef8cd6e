/**
 * Small helpers every benchmark uses: statistics, number formatting, the order of interleaved
 * rounds, a free port, stopping a child process. No `pg`, no server modules: `bench:sdk` and
 * `bench:sandbox` load this too.
 */
import type { ChildProcess } from 'node:child_process'
import http from 'node:http'

export const median = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
export const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] as number
/** `median (min–max)` with `digits` decimals. */
export const mmm = (xs: number[], digits = 0) =>
  `${fmt(median(xs), digits)} (${fmt(Math.min(...xs), digits)}–${fmt(Math.max(...xs), digits)})`
export const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * The order the cases run in this round: as given in even rounds, reversed in odd ones, so that
 * neither Fen nor the reference always runs first (right after the other has warmed the caches or
 * left autovacuum work behind).
 */
export function roundOrder<T>(items: T[], round: number): T[] {
  return round % 2 === 0 ? items : [...items].reverse()
}

/** Waits until `done()` (polled every 50 ms); throws after `timeoutMs`. */
export async function until(done: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!(await done())) {
    if (performance.now() > deadline) throw new Error(`not done within ${timeoutMs} ms`)
    await sleep(50)
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = http.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

/** SIGTERM, and resolves once the child has exited (at once if it already has). */
export const stopChild = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.removeAllListeners('exit')
    child.once('exit', () => resolve())
    child.kill('SIGTERM')
  })
