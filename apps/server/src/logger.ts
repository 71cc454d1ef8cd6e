import { pino, type DestinationStream, type Logger } from 'pino'

/** Keys whose values never reach a log line, at any depth of what is logged. */
const SECRET_KEYS = new Set([
  'authorization',
  'Authorization',
  'token',
  'sessionKey',
  'session_key',
  'privateKey',
  'apiV3Key',
  'apiV2Key',
  'jwtSecret',
  'adminToken',
  'appSecret',
  'aesKey',
  'accessToken',
  'access_token',
])
const CENSOR = '[redacted]'
/** How deep redaction looks: log objects are small and flat; deeper is not ours. */
const REDACT_DEPTH = 4

/**
 * One JSON logger, on stdout by default. Redaction is the safety net, not the plan: code never
 * passes keys, tokens or session keys to the logger in the first place.
 *
 * Two things the hot paths pay for on every request, done cheaply here:
 * - Redaction walks the logged object once (a few keys), copying only a branch that holds a secret
 *   key; pino's own `redact` option parsed and cloned its path list on every line (0.4% of the
 *   notify path's CPU).
 * - stdout is written in 4 KiB chunks (one write(2) per ~15 lines instead of one per line), and at
 *   least every FLUSH_MS, and synchronously at exit: a process killed outright (SIGKILL, OOM) loses
 *   at most that much of its last lines. The database, not the log, is the record of payments.
 */
export function createLogger(
  level: string,
  destination: DestinationStream = bufferedStdout(),
): Logger {
  return pino(
    {
      level,
      base: { service: 'fen-server' },
      formatters: { log: (object) => redactSecrets(object, 0) as Record<string, unknown> },
    },
    destination,
  )
}

/** `value` with every SECRET_KEYS value censored; the original is never changed. */
function redactSecrets(value: unknown, depth: number): unknown {
  if (depth >= REDACT_DEPTH || typeof value !== 'object' || value === null) return value
  if (value instanceof Error || value instanceof Date || Buffer.isBuffer(value)) return value
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined
    for (let i = 0; i < value.length; i++) {
      const v = redactSecrets(value[i], depth + 1)
      if (v !== value[i]) (copy ??= [...value])[i] = v
    }
    return copy ?? value
  }
  let copy: Record<string, unknown> | undefined
  const object = value as Record<string, unknown>
  for (const key in object) {
    const v = SECRET_KEYS.has(key) ? CENSOR : redactSecrets(object[key], depth + 1)
    if (v !== object[key]) (copy ??= { ...object })[key] = v
  }
  return copy ?? value
}

const FLUSH_MS = 500

/** The process's one stdout destination: every logger shares it (and its timer and exit hook). */
let stdout: DestinationStream | undefined

function bufferedStdout(): DestinationStream {
  if (stdout) return stdout
  const out = pino.destination({ dest: 1, sync: true, minLength: 4096 })
  setInterval(() => out.flush(), FLUSH_MS).unref()
  process.on('exit', () => out.flushSync())
  return (stdout = out)
}

export type { Logger }

/**
 * What may be logged of an error. A failed query's message, as drizzle builds it, ends with the
 * query's parameters (`Failed query: … params: …`), which can hold session keys and openids: it is
 * replaced by the database's own message, and no "params:" text ever reaches a log. The stack's
 * frames are kept (without its first line, which repeats the message).
 */
export function loggable(e: unknown): { message: string; code?: string; stack?: string } {
  const err = e as {
    message?: unknown
    code?: unknown
    stack?: unknown
    cause?: { message?: unknown; code?: unknown }
  }
  let message = typeof err?.message === 'string' ? err.message : String(e)
  if (message.startsWith('Failed query') && typeof err.cause?.message === 'string')
    message = err.cause.message
  message = message.split(/\nparams:/)[0]!.slice(0, 500)
  const code =
    typeof err?.code === 'string'
      ? err.code
      : typeof err?.cause?.code === 'string'
        ? err.cause.code
        : undefined
  const frames =
    typeof err?.stack === 'string'
      ? err.stack
          .split('\n')
          .filter((l) => /^\s+at /.test(l))
          .join('\n')
      : ''
  return { message, ...(code ? { code } : {}), ...(frames ? { stack: frames } : {}) }
}
