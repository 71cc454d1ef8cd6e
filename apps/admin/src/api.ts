// The admin API client. The token lives in sessionStorage only: it goes with the tab, is never
// put in a URL, and every request carries it as `Authorization: Bearer`.
import type { ErrorBody } from '@fen/shared'

const TOKEN_KEY = 'fen-admin-token'

export const token = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (t: string) => sessionStorage.setItem(TOKEN_KEY, t),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
}

/** A refused call: the server's `{code, message}` (message shown to the operator as is). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

/** Called when the server refuses the token (set by the router: back to the sign-in page). */
let onUnauthorized: () => void = () => {}
export function whenUnauthorized(f: () => void): void {
  onUnauthorized = f
}

export interface CallOptions {
  body?: unknown
  /** Another token than the stored one (the sign-in page tries one before keeping it). */
  bearer?: string
  headers?: Record<string, string>
}

export async function call<T>(method: string, path: string, opts: CallOptions = {}): Promise<T> {
  const bearer = opts.bearer ?? token.get() ?? ''
  let res: Response
  try {
    res = await fetch(path, {
      method,
      headers: {
        authorization: `Bearer ${bearer}`,
        ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...opts.headers,
      },
      ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
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
    if (res.status === 401 && opts.bearer === undefined) onUnauthorized()
    throw new ApiError(
      res.status,
      body.code ?? `HTTP_${res.status}`,
      body.message ?? `请求失败（HTTP ${res.status}）`,
    )
  }
  return (path.startsWith('/metrics') ? text : text ? JSON.parse(text) : undefined) as T
}

export const get = <T>(path: string) => call<T>('GET', path)
export const post = <T>(path: string, body?: unknown, headers?: Record<string, string>) =>
  call<T>('POST', path, { body: body ?? {}, ...(headers ? { headers } : {}) })

/** A query string of the given values, leaving out empty ones. */
export function query(params: Record<string, string | number | null | undefined>): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v))
  }
  const s = q.toString()
  return s ? `?${s}` : ''
}
