/**
 * The HTTP seam: a fetch-shaped function. The default is the runtime's `fetch`; tests and the
 * sandbox can pass their own, and a merchant can route through a proxy or add tracing here.
 */
export interface TransportRequest {
  method: string
  headers: Record<string, string>
  body?: string | Buffer
  signal: AbortSignal
}

/** The part of a fetch `Response` the SDK reads. */
export interface TransportResponse {
  status: number
  headers: { get(name: string): string | null }
  arrayBuffer(): Promise<ArrayBuffer>
}

export type Transport = (url: string, init: TransportRequest) => Promise<TransportResponse>

/** The runtime's `fetch` (Node ≥ 18). */
export const fetchTransport: Transport = (url, init) => fetch(url, init)
