/** What every `fen-sandbox` command shares: errors with exit codes, output, the control API client. */

/** A failure the CLI reports in one line, exiting with `exitCode` (1: it failed; 2: bad usage). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
    /** A stable code for `--json` (`UNREACHABLE`, `USAGE`, or the control API's `code`). */
    readonly code = exitCode === 2 ? 'USAGE' : 'FAILED',
  ) {
    super(message)
  }
}

/** Bad usage: an unknown command or option, a missing or malformed value (exit code 2). */
export const usage = (message: string) => new CliError(message, 2, 'USAGE')

/** What a command prints: a line for people, or the same data as one JSON line with `--json`. */
export interface Output {
  readonly json: boolean
  /** Prints `human` (or `data` as JSON, with `--json`). */
  print(human: string, data: unknown): void
}

export function output(json: boolean, write: (line: string) => void = console.log): Output {
  return {
    json,
    print: (human, data) => write(json ? JSON.stringify(data) : human),
  }
}

/** The local sandbox: what `fen-sandbox start` listens on by default. */
export const DEFAULT_URL = 'http://127.0.0.1:3100'

/**
 * One call to a running sandbox's control API (`/__sandbox/…`). Throws a CliError that says what
 * to do when nothing answers at `base`, and the sandbox's own `code: message` when it refuses.
 */
export async function control<T = unknown>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await reach(base, path, {
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } }),
  })
  const text = await res.text()
  const data = text ? (JSON.parse(text) as unknown) : undefined
  if (!res.ok) {
    const { code, message } = (data ?? {}) as { code?: string; message?: string }
    throw new CliError(
      `the sandbox answered ${res.status}${code ? ` ${code}` : ''}: ${message ?? text}`,
      1,
      code ?? `HTTP_${res.status}`,
    )
  }
  return data as T
}

/** `fetch` of a control path, with a CliError naming the URL when the sandbox cannot be reached. */
export async function reach(base: string, path: string, init: RequestInit): Promise<Response> {
  let url: URL
  try {
    // Relative to --url, so a sandbox behind a path prefix (a dev proxy) works too.
    url = new URL(path.replace(/^\//, ''), base.endsWith('/') ? base : `${base}/`)
  } catch {
    throw usage(`--url: not a URL: ${base}`)
  }
  try {
    return await fetch(url, init)
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e
    const cause = (e as { cause?: { code?: string; message?: string } }).cause
    throw new CliError(
      `cannot reach the sandbox at ${base} (${cause?.code ?? cause?.message ?? (e as Error).message}). ` +
        'Is it running? Start it with `fen-sandbox start`, or point --url at it.',
      1,
      'UNREACHABLE',
    )
  }
}

/** One Server-Sent Event. */
export interface ServerEvent {
  event: string
  data: unknown
}

/**
 * Reads `GET /__sandbox/events` (Server-Sent Events) until the stream ends or `signal` aborts.
 * Resolves when the stream ends; `onEvent` gets each event in order.
 */
export async function readEvents(
  base: string,
  query: Record<string, string>,
  signal: AbortSignal,
  onEvent: (e: ServerEvent) => void,
): Promise<void> {
  const qs = new URLSearchParams(query).toString()
  const res = await reach(base, `__sandbox/events${qs ? `?${qs}` : ''}`, {
    headers: { Accept: 'text/event-stream' },
    signal,
  })
  if (!res.ok || !res.body) {
    const text = await res.text()
    const { code, message } = (() => {
      try {
        return JSON.parse(text) as { code?: string; message?: string }
      } catch {
        return {}
      }
    })()
    throw new CliError(
      `the sandbox answered ${res.status}${code ? ` ${code}` : ''}: ${message ?? text}`,
      1,
      code ?? `HTTP_${res.status}`,
    )
  }
  const decoder = new TextDecoder()
  let buffered = ''
  try {
    for await (const chunk of res.body) {
      buffered += decoder.decode(chunk as Uint8Array, { stream: true })
      let end: number
      while ((end = buffered.indexOf('\n\n')) >= 0) {
        const block = buffered.slice(0, end)
        buffered = buffered.slice(end + 2)
        const parsed = parseEvent(block)
        if (parsed) onEvent(parsed)
      }
    }
  } catch (e) {
    if (signal.aborted) return
    throw new CliError(`the event stream broke: ${(e as Error).message}`)
  }
}

function parseEvent(block: string): ServerEvent | undefined {
  let event = 'message'
  const data: string[] = []
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue // a comment: the heartbeat
    const colon = line.indexOf(':')
    const field = colon < 0 ? line : line.slice(0, colon)
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
    if (field === 'event') event = value
    else if (field === 'data') data.push(value)
  }
  if (data.length === 0) return undefined
  return { event, data: JSON.parse(data.join('\n')) as unknown }
}

/**
 * A duration as people write it: `90s`, `15m`, `2h`, `1d`, `1h30m`, `1.5h`; a bare number is
 * seconds. Returns seconds, or undefined when `text` is not one.
 */
export function parseDuration(text: string): number | undefined {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text)
  const unit = { s: 1, m: 60, h: 3600, d: 86400 } as const
  const part = /(\d+(?:\.\d+)?)([smhd])/gy
  let seconds = 0
  let matched = 0
  for (let m = part.exec(text); m; m = part.exec(text)) {
    seconds += Number(m[1]) * unit[m[2] as keyof typeof unit]
    matched = part.lastIndex
  }
  return matched > 0 && matched === text.length ? seconds : undefined
}
