import type { CallRecord } from './calls'
import type { Attempt } from './notifier'

/** One delivery attempt of a notification, to its `notify_url` or to a forward (`fen-sandbox listen`). */
export interface DeliveryEvent {
  /** The notification's id (as in `GET /__sandbox/notifications`). */
  id: string
  event_type: string
  out_trade_no: string
  out_refund_no?: string
  /** Where this attempt went. */
  url: string
  /** The forward it went to, when it was a forwarded copy; absent for the `notify_url` attempt. */
  forward?: string
  attempt: Attempt
}

/** What happens in a sandbox, as `GET /__sandbox/events` streams it. */
export type SandboxEvent =
  { type: 'call'; data: CallRecord } | { type: 'delivery'; data: DeliveryEvent }

/**
 * A tiny synchronous event bus: the live stream of calls and deliveries. A listener's error is
 * swallowed, so a broken stream can never break a payment.
 */
export class SandboxEvents {
  readonly #listeners = new Set<(event: SandboxEvent) => void>()

  /** Calls `listener` for every event from now on; returns the function that stops it. */
  on(listener: (event: SandboxEvent) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  emit(event: SandboxEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event)
      } catch {
        // See the class comment.
      }
    }
  }
}
