import { pino, type Logger } from 'pino'

/**
 * One JSON logger. Redaction is the safety net, not the plan: code never passes keys, tokens or
 * session keys to the logger in the first place.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'fen-server' },
    redact: {
      paths: [
        '*.authorization',
        '*.Authorization',
        '*.token',
        '*.sessionKey',
        '*.session_key',
        '*.privateKey',
        '*.apiV3Key',
        '*.apiV2Key',
        '*.jwtSecret',
        '*.adminToken',
        '*.appSecret',
        '*.aesKey',
        '*.accessToken',
        '*.access_token',
      ],
      censor: '[redacted]',
    },
  })
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
