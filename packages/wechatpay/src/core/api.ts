import type { TransportResponse } from './transport'

/**
 * One APIv3 call. `path` starts with `/v3/`; path parameters must already be encoded, and a path
 * may carry its own `?query`, which is then sent and signed verbatim.
 */
export interface ApiRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  path: string
  query?: Record<string, string | number | undefined>
  body?: unknown
  signal?: AbortSignal
}

/** A verified 2xx answer. */
export interface RawResponse {
  status: number
  headers: TransportResponse['headers']
  body: Buffer
  requestId: string | undefined
}

/** A verified 2xx answer with its JSON parsed (`undefined` for an empty body, as with 204). */
export interface ApiResponse<T> {
  status: number
  data: T
  requestId: string | undefined
}
