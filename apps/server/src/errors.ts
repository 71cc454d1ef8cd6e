import { ERROR_CODES, type ErrorCode } from '@fen/shared'

/**
 * The one error type routes and services throw for an expected failure: rendered as
 * `{code, message}` with the code's status by the error middleware. Anything else is a bug and
 * becomes 500 INTERNAL without details.
 */
export class AppError extends Error {
  readonly status: number
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message)
    this.status = ERROR_CODES[code]
  }
}
