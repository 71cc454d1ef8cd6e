import Taro from '@tarojs/taro'
import type { ErrorBody, ErrorCode } from '@fen/shared'
import { session } from './session'

/**
 * A failed call to the Fen server: the server's `{code, message}`, or NETWORK when there was no
 * answer. Pages decide what to show for each code; this layer never shows UI.
 */
export class ApiRequestError extends Error {
  constructor(
    readonly code: ErrorCode | 'NETWORK',
    message: string,
    readonly status: number,
  ) {
    super(message)
    this.name = 'ApiRequestError'
  }
}

export interface RequestOptions {
  method?: 'GET' | 'POST'
  body?: unknown
  headers?: Record<string, string>
  /** Send the login token (default). Public endpoints and the login call itself pass false. */
  auth?: boolean
}

interface Answer {
  statusCode: number
  data: unknown
}

/** One HTTP exchange with the server (FEN_API_BASE + path). */
async function send(
  path: string,
  options: RequestOptions,
  token: string | undefined,
): Promise<Answer> {
  const header: Record<string, string> = { 'content-type': 'application/json', ...options.headers }
  if (token) header.authorization = `Bearer ${token}`
  try {
    const res = await Taro.request({
      url: FEN_API_BASE + path,
      method: options.method ?? 'GET',
      data: options.body === undefined ? undefined : JSON.stringify(options.body),
      header,
      dataType: 'json',
    })
    return { statusCode: res.statusCode, data: res.data }
  } catch {
    throw new ApiRequestError('NETWORK', '网络连接失败，请检查网络后重试', 0)
  }
}

/**
 * Calls the server and returns its JSON, typed by the caller (the shapes live in @fen/shared).
 * Logs in first when there is no token; on a 401 logs in again once and retries once.
 */
export async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const auth = options.auth !== false
  let res = await send(path, options, auth ? await session.token() : undefined)
  if (auth && res.statusCode === 401) {
    res = await send(path, options, await session.relogin())
  }
  if (res.statusCode >= 200 && res.statusCode < 300) return res.data as T
  const body = (res.data ?? {}) as Partial<ErrorBody>
  throw new ApiRequestError(
    body.code ?? 'INTERNAL',
    body.message ?? `服务器错误（${res.statusCode}）`,
    res.statusCode,
  )
}
