import { setTimeout as sleep } from 'node:timers/promises'
import { NetworkError, TimeoutError } from './errors'
import type { Transport, TransportResponse } from './transport'

/** A complete HTTP answer, body read into memory. */
export interface HttpResult {
  status: number
  headers: TransportResponse['headers']
  body: Buffer
}

/**
 * One HTTP exchange with a timeout covering the whole answer (headers and body), and failures
 * mapped to {@link TimeoutError} / {@link NetworkError}. `label` names the call in error messages;
 * it must not contain secrets (code2Session's URL carries the AppSecret, so callers pass the path).
 */
export async function exchange(
  transport: Transport,
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
  timeoutMs: number,
  label: string,
  signal?: AbortSignal,
): Promise<HttpResult> {
  const timeout = AbortSignal.timeout(timeoutMs)
  const combined = signal ? AbortSignal.any([timeout, signal]) : timeout
  try {
    const res = await transport(url, { ...init, signal: combined })
    const body = Buffer.from(await res.arrayBuffer())
    return { status: res.status, headers: res.headers, body }
  } catch (cause) {
    if (timeout.aborted) throw new TimeoutError(timeoutMs, { cause })
    if (signal?.aborted) throw new NetworkError(`${label}: aborted by the caller`, { cause })
    throw new NetworkError(`${label} failed: ${describe(cause)}`, { cause })
  }
}

/**
 * A short reason for a failed exchange: the system error code (`ECONNREFUSED`, …) when there is
 * one, else the error's message with anything URL-like removed, because some transports put the
 * whole URL, query string and all, in their messages (and code2Session's query holds a secret).
 */
function describe(e: unknown): string {
  const cause = (e as { cause?: { code?: unknown } })?.cause
  if (typeof cause?.code === 'string') return cause.code
  const code = (e as { code?: unknown })?.code
  if (typeof code === 'string') return code
  const message = e instanceof Error ? e.message : String(e)
  return message.replace(/\b[a-z][a-z0-9+.-]*:\/\/\S*/gi, '<url>').replace(/\?\S*/g, '')
}

/** Waits `ms` before a retry; the caller's signal cancels the wait, rejecting with a NetworkError. */
export async function retryDelay(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal })
  } catch (cause) {
    throw new NetworkError('the request was aborted by the caller', { cause })
  }
}
