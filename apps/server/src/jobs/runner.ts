import { loggable, type Logger } from '../logger'

/**
 * Runs `task` every `intervalMs` (plus up to 20% jitter so instances spread out), one run at a
 * time, until stopped. A failing run is logged and the next one goes ahead. With `busy`, a run
 * whose result `busy.when` calls busy is followed after `busy.afterMs` instead: a job that found
 * work looks again soon, so under load its work comes in small steady steps rather than one burst
 * per interval (the outbox: an event is delivered ~0.1 s after its payment under load, not up to
 * 1.2 s later), and an idle one costs no more than before.
 */
export function every<T>(
  name: string,
  intervalMs: number,
  task: () => Promise<T>,
  logger: Logger,
  options: { busy?: { when: (result: T) => boolean; afterMs: number } } = {},
): { stop(): Promise<void> } {
  let stopped = false
  let running: Promise<unknown> = Promise.resolve()
  let timer: NodeJS.Timeout | undefined
  const schedule = (delayMs: number) => {
    if (stopped) return
    timer = setTimeout(tick, delayMs * (1 + Math.random() * 0.2))
  }
  const tick = () => {
    let next = intervalMs
    running = task()
      .then((result) => {
        if (options.busy?.when(result)) next = options.busy.afterMs
      })
      .catch((e) => logger.error({ job: name, err: loggable(e) }, 'job run failed'))
      .finally(() => schedule(next))
  }
  schedule(intervalMs)
  return {
    async stop() {
      stopped = true
      if (timer) clearTimeout(timer)
      await running
    },
  }
}
