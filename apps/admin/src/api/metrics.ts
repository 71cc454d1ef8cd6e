// The server's Prometheus metrics, which the dashboard sums (see ../metrics.ts).
import { requestClient } from './request'

/** `GET /metrics` (admin token): Prometheus' text format. */
export function getMetricsText(): Promise<string> {
  return requestClient.request('/metrics', { responseType: 'text' })
}
