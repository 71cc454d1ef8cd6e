// Events (the outbox): what happened to orders, and their deliveries to webhooks and NATS.
import type { OutboxEvent, OutboxEventPage } from '@fen/shared'
import { requestClient, segment } from './request'

/** `GET /api/admin/events`: a page of events, newest first, of one order or all. */
export function listEvents(query: {
  orderNo?: string | undefined
  limit?: number
  cursor?: string | undefined
}): Promise<OutboxEventPage> {
  return requestClient.get('/api/admin/events', query)
}

/** `POST /api/admin/events/:id/redeliver`: queues the event again for every webhook. */
export function redeliverEvent(id: number): Promise<OutboxEvent> {
  return requestClient.post(`/api/admin/events/${segment(id)}/redeliver`)
}
