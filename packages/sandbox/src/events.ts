import type { CallRecord } from './calls'
import type { DeliveryEvent } from './notifier'
import type { ShippingEvent } from './weixin/ops'
import type { PushEvent } from './weixin/pusher'

/** What happens in a sandbox, as `GET /__sandbox/events` streams it. */
export type SandboxEvent =
  | { type: 'call'; data: CallRecord }
  | { type: 'delivery'; data: DeliveryEvent }
  /** A change of a payment's shipping state (upload, confirmation, settlement, …). */
  | { type: 'shipping'; data: ShippingEvent }
  /** One attempt of a 消息推送 push to the developer server. */
  | { type: 'push'; data: PushEvent }

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
