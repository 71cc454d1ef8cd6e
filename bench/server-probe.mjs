// Preloaded into the server process by the server benchmarks (`node --import tsx --import
// ./server-probe.mjs apps/server/src/main.ts`), so that the server itself needs no benchmark code.
// It answers the benchmark over the IPC channel with what only the process can see: its memory,
// its CPU time, and its event-loop delay since the last reset (monitorEventLoopDelay, sampled every
// 10 ms as Node and prom-client do by default). The histogram records the time between two samples,
// so an idle loop reads 10 ms: the resolution is taken off, leaving the delay beyond it.
import { monitorEventLoopDelay } from 'node:perf_hooks'

const RESOLUTION_MS = 10
const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
delay.enable()

const beyond = (ns) => (delay.count ? Math.max(0, ns - RESOLUTION_MS * 1e6) : 0)

process.on('message', (message) => {
  if (message?.type !== 'fen-bench-sample') return
  const memory = process.memoryUsage()
  const cpu = process.cpuUsage()
  process.send?.({
    type: 'fen-bench-sample',
    id: message.id,
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    cpuMicros: cpu.user + cpu.system,
    // Nanoseconds beyond the sampling interval; an empty histogram (just reset) reads 0.
    delay: {
      p50: beyond(delay.percentile(50)),
      p99: beyond(delay.percentile(99)),
      max: beyond(delay.max),
      samples: delay.count,
    },
  })
  if (message.reset) delay.reset()
})
