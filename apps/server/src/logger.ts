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
      ],
      censor: '[redacted]',
    },
  })
}

export type { Logger }
