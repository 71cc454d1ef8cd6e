// The console's one request client (after vue-vben-admin's `requestClient`): every call to the
// Fen server goes through `requestClient`, with the base URL, the admin token and the server's
// errors handled here once. The modules beside this one (orders.ts, refunds.ts, …) are the only
// callers; views call those modules and never build a URL or call fetch.
import type { AdminOrderPage, ErrorBody, ErrorCode } from '@fen/shared'

/** Where a tab keeps the admin token: sessionStorage only (it goes with the tab, never in a URL). */
export const TOKEN_KEY = 'fen-admin-token'

/** Where the client reads the admin token from (sessionStorage in the console). */
export interface TokenStore {
  get(): string | null
  set(token: string): void
  clear(): void
}

/** The admin token of this tab, in sessionStorage. */
export const token: TokenStore = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (t) => sessionStorage.setItem(TOKEN_KEY, t),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
}

/**
 * A refused call: the server's `{code, message}` (the message is shown to the operator as is), or
 * `NETWORK` when there was no answer, or `HTTP_<status>` when the answer was not one of ours (a
 * proxy's error page).
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode | 'NETWORK' | `HTTP_${number}`,
    message: string,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

/** Whether `e` is the server's refusal (with `code`, when given). */
export function isApiError(e: unknown, code?: ApiError['code']): e is ApiError {
  return e instanceof ApiError && (code === undefined || e.code === code)
}

/** One page of an admin list: `items`, and `nextCursor` for the next (null on the last). */
export type Page<T> = Omit<AdminOrderPage, 'items'> & { items: T[] }

/** Query parameters; empty ones (undefined, null, '') are left out. */
export type Query = Record<string, string | number | null | undefined>

export interface RequestOptions {
  method?: 'GET' | 'POST'
  query?: Query
  /** Sent as JSON. */
  body?: unknown
  headers?: Record<string, string>
  /** Another token than the stored one (the sign-in page tries one before keeping it). */
  bearer?: string
  /** `text` for /metrics (Prometheus' text format); JSON otherwise. */
  responseType?: 'json' | 'text'
}

export interface RequestClientOptions {
  /** Prefixed to every path: '' for the server that serves the console (or the dev server's proxy). */
  baseUrl: string
  token: TokenStore
  /** Called after a 401 with the stored token (which is dropped): the operator must sign in again. */
  onUnauthorized: () => void
  fetch?: typeof fetch
}

export interface RequestClient {
  request<T>(path: string, options?: RequestOptions): Promise<T>
  get<T>(path: string, query?: Query): Promise<T>
  post<T>(path: string, body?: unknown, headers?: Record<string, string>): Promise<T>
}

/** A query string of the given values, leaving out empty ones (`?a=1&b=x`, or ''). */
export function queryString(params: Query = {}): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v))
  }
  const s = q.toString()
  return s ? `?${s}` : ''
}

/** A path segment taken from data (an order number), encoded. */
export const segment = (value: string | number): string => encodeURIComponent(String(value))

/** Builds a client on `options` (the console has one: `requestClient`; tests build their own). */
export function createRequestClient(options: RequestClientOptions): RequestClient {
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init))

  async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    const bearer = opts.bearer ?? options.token.get() ?? ''
    const hasBody = opts.body !== undefined
    let res: Response
    try {
      res = await doFetch(`${options.baseUrl}${path}${queryString(opts.query)}`, {
        method: opts.method ?? 'GET',
        headers: {
          authorization: `Bearer ${bearer}`,
          ...(hasBody ? { 'content-type': 'application/json' } : {}),
          ...opts.headers,
        },
        ...(hasBody ? { body: JSON.stringify(opts.body) } : {}),
      })
    } catch {
      throw new ApiError(0, 'NETWORK', '无法连接服务器，请检查网络或服务是否已启动')
    }
    const text = await res.text()
    if (!res.ok) {
      let body: Partial<ErrorBody> = {}
      try {
        body = JSON.parse(text) as ErrorBody
      } catch {
        // not one of ours (a proxy's page): the status says enough
      }
      if (res.status === 401 && opts.bearer === undefined) {
        options.token.clear()
        options.onUnauthorized()
      }
      throw new ApiError(
        res.status,
        body.code ?? `HTTP_${res.status}`,
        body.message ?? `请求失败（HTTP ${res.status}）`,
      )
    }
    if (opts.responseType === 'text') return text as T
    return (text ? JSON.parse(text) : undefined) as T
  }

  return {
    request,
    get: (path, query) => request(path, query ? { query } : {}),
    post: (path, body, headers) =>
      request(path, { method: 'POST', body: body ?? {}, ...(headers ? { headers } : {}) }),
  }
}

let unauthorized: () => void = () => {}

/** What to do when the server refuses the stored token (the router: back to the sign-in page). */
export function whenUnauthorized(f: () => void): void {
  unauthorized = f
}

/**
 * The console's client: same origin (the Fen server serves the console under /admin/, and Vite's
 * dev server proxies /api and /metrics to it), this tab's token.
 */
export const requestClient: RequestClient = createRequestClient({
  baseUrl: '',
  token,
  onUnauthorized: () => unauthorized(),
})
