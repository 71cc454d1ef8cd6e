import { loggable, type Logger } from '../logger'

/**
 * Runs `task` every `intervalMs` (plus up to 20% jitter so instances spread out), one run at a
 * time, until stopped. A failing run is logged and the next one goes ahead.
 */
export function every(
  name: string,
  intervalMs: number,
  task: () => Promise<unknown>,
  logger: Logger,
): { stop(): Promise<void> } {
  let stopped = false
  let running: Promise<unknown> = Promise.resolve()
  let timer: NodeJS.Timeout | undefined
  const schedule = () => {
    if (stopped) return
    timer = setTimeout(tick, intervalMs * (1 + Math.random() * 0.2))
  }
  const tick = () => {
    running = task()
      .catch((e) => logger.error({ job: name, err: loggable(e) }, 'job run failed'))
      .finally(schedule)
  }
  schedule()
  return {
    async stop() {
      stopped = true
      if (timer) clearTimeout(timer)
      await running
    },
  }
}
