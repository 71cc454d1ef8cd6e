/**
 * How the server benchmarks print interleaved rounds: one table of rates and latencies, one of CPU
 * per request by process, and ratios as medians of per-round ratios (so a noisy moment on this busy
 * machine weighs on both sides of a ratio alike). Fen's server against the reference backend
 * (bench/reference/) is printed the same way by every server benchmark.
 */
import type { RoundStats, RunningServer } from './stack'
import { median, mmm } from './util'

/** A case of a benchmark: its key in each round's record and the label it is printed with. */
export interface Case<K extends string> {
  name: K
  label: string
}

/** Every round's figures, by case. */
export type Rounds<K extends string> = Record<K, RoundStats>[]

const col = <K extends string>(rounds: Rounds<K>, k: K, f: keyof RoundStats) =>
  rounds.map((r) => r[k][f])

/** CPU ms per request of every process measured (server, sandbox, PostgreSQL, load generator). */
export const totalCpuMs = (r: RoundStats) =>
  r.serverCpuMs + r.sandboxCpuMs + r.dbCpuMs + r.loadCpuMs

/** Median over rounds of `a`'s requests/s ÷ `b`'s. */
export function ratio<K extends string>(rounds: Rounds<K>, a: K, b: K): number {
  return median(rounds.map((r) => r[a].rps / r[b].rps))
}

/** Median over rounds of `a`'s CPU per request ÷ `b`'s, for the server process and for all. */
export function cpuRatios<K extends string>(rounds: Rounds<K>, a: K, b: K) {
  return {
    server: median(rounds.map((r) => r[a].serverCpuMs / r[b].serverCpuMs)),
    serverAndDb: median(
      rounds.map((r) => (r[a].serverCpuMs + r[a].dbCpuMs) / (r[b].serverCpuMs + r[b].dbCpuMs)),
    ),
  }
}

/** `| case | requests/s | p50 | p99 | errors | non-2xx |`, medians with min–max. */
export function rateTable<K extends string>(cases: Case<K>[], rounds: Rounds<K>): string[] {
  const sum = (k: K, f: keyof RoundStats) => col(rounds, k, f).reduce((a, b) => a + b, 0)
  return [
    '| case | requests/s median (min–max) | p50 ms | p99 ms | errors | non-2xx |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...cases.map(
      (c) =>
        `| ${c.label} | ${mmm(col(rounds, c.name, 'rps'))} | ${mmm(col(rounds, c.name, 'p50'), 1)} | ${mmm(col(rounds, c.name, 'p99'), 1)} | ${sum(c.name, 'errors')} | ${sum(c.name, 'non2xx')} |`,
    ),
  ]
}

/**
 * CPU ms per request by process (median over rounds), the total, and the cores other processes used
 * meanwhile. `sandbox` adds the sandbox process's column (the paths that call WeChat).
 */
export function cpuTable<K extends string>(
  cases: Case<K>[],
  rounds: Rounds<K>,
  opts: { sandbox?: boolean } = {},
): string[] {
  const m = (k: K, f: keyof RoundStats) => median(col(rounds, k, f)).toFixed(3)
  return [
    `| case | server process | ${opts.sandbox ? 'sandbox process | ' : ''}PostgreSQL backends | server + PostgreSQL | load generator | total | other processes, cores |`,
    `| --- | ---: | ${opts.sandbox ? '---: | ' : ''}---: | ---: | ---: | ---: | ---: |`,
    ...cases.map(
      (c) =>
        `| ${c.name} | ${m(c.name, 'serverCpuMs')} | ${opts.sandbox ? `${m(c.name, 'sandboxCpuMs')} | ` : ''}${m(c.name, 'dbCpuMs')} | ${median(rounds.map((r) => r[c.name].serverCpuMs + r[c.name].dbCpuMs)).toFixed(3)} | ${m(c.name, 'loadCpuMs')} | ${median(rounds.map((r) => totalCpuMs(r[c.name]))).toFixed(3)} | ${mmm(col(rounds, c.name, 'otherCores'), 2)} |`,
    ),
    "(other processes: what the rest of the machine used meanwhile — other tests, PostgreSQL's WAL writer and checkpointer, …)",
  ]
}

/** The lines every server benchmark prints for Fen against the reference backend. */
export function versusReference<K extends string>(
  rounds: Rounds<K>,
  fen: K,
  reference: K,
): string[] {
  const cpu = cpuRatios(rounds, fen, reference)
  const busy = (k: K) => median(rounds.map((r) => (r[k].serverCpuMs * r[k].rps) / 1000)) * 100
  return [
    `- Fen ÷ reference, requests/s: ${ratio(rounds, fen, reference).toFixed(3)}`,
    `- Fen ÷ reference, CPU per request: server process ${cpu.server.toFixed(2)}×, server + PostgreSQL ${cpu.serverAndDb.toFixed(2)}×`,
    `- process busy (CPU ms per request × requests/s): Fen ${busy(fen).toFixed(0)}%, reference ${busy(reference).toFixed(0)}% of one core`,
  ]
}

/** How many error lines the backends logged, and the first few. */
export function errorLines(servers: RunningServer[]): string[] {
  const errors = servers.flatMap((s) => s.errors)
  return [
    `- log lines at error level: ${errors.length}`,
    ...errors.slice(0, 5).map((e) => `  ${e}`),
  ]
}
