// Live data without losing what the user is doing. Each view polls the sandbox about once a second
// and writes what it got into the same reactive objects; Vue's keyed lists then patch only the
// text that changed, so a selection (copying an out_trade_no), an open <details> or a half-typed
// filter survive every update. Nothing is ever re-rendered wholesale.
import { onBeforeUnmount, onMounted, ref, watch, type Ref } from 'vue'
import { ApiError } from './api'

const POLL_MS = 1000

/** Bumped after every action, so every live view reloads at once instead of at its next tick. */
const changes = ref(0)
/** The last polling failure, shown as a banner until a poll succeeds. */
export const connectionError = ref<string | undefined>(undefined)

/** Tells the live views that the sandbox's state changed. */
export function changed(): void {
  changes.value += 1
}

/**
 * Calls `load` now, then every second while the component is mounted (never two at once), and at
 * once after an action or when `watched` changes. Returns `reload`.
 */
export function usePoll(load: () => Promise<void>, watched?: () => unknown): () => Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  let running: Promise<void> | undefined
  let again = false
  let stopped = false

  const run = async (): Promise<void> => {
    if (running) {
      again = true
      return running
    }
    clearTimeout(timer)
    running = (async () => {
      try {
        await load()
        connectionError.value = undefined
      } catch (e) {
        // A 4xx is the view's business (e.g. an order that a reset forgot); the rest is the link.
        if (e instanceof ApiError && e.status < 500) throw e
        connectionError.value = (e as Error).message
      }
    })()
    try {
      await running
    } finally {
      running = undefined
      if (!stopped) {
        if (again) {
          again = false
          void run()
        } else timer = setTimeout(() => void run(), POLL_MS)
      }
    }
  }

  onMounted(() => void run().catch(() => undefined))
  onBeforeUnmount(() => {
    stopped = true
    clearTimeout(timer)
  })
  watch(changes, () => void run().catch(() => undefined))
  if (watched) watch(watched, () => void run().catch(() => undefined), { deep: true })
  return run
}

/** Writes `next` into `target` only when it differs, so an unchanged poll re-renders nothing. */
export function assign<T>(target: Ref<T>, next: T): void {
  if (JSON.stringify(target.value) !== JSON.stringify(next)) target.value = next
}

export interface Toast {
  id: number
  kind: 'ok' | 'error'
  text: string
}

/** Messages in the corner: what an action did, or why it failed (never `alert()`). */
export const toasts = ref<Toast[]>([])
let toastId = 0

/** Shows a message for a few seconds (errors longer). */
export function toast(text: string, kind: Toast['kind'] = 'ok'): void {
  const id = ++toastId
  toasts.value.push({ id, kind, text })
  setTimeout(() => dismiss(id), kind === 'error' ? 8000 : 3500)
}

export function dismiss(id: number): void {
  toasts.value = toasts.value.filter((t) => t.id !== id)
}

/** Runs an action against the sandbox: a toast says what it did or why it failed; views reload. */
export async function act(done: string, action: () => Promise<unknown>): Promise<boolean> {
  try {
    await action()
    toast(done)
    return true
  } catch (e) {
    toast(
      e instanceof ApiError && e.code ? `${e.code}: ${e.message}` : (e as Error).message,
      'error',
    )
    return false
  } finally {
    changed()
  }
}
