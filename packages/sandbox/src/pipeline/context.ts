import type { Next, ParameterizedContext } from 'koa'
import type { CallRecord } from '../calls'
import type { Fault } from '../faults'
import type { Route, SandboxReply } from '../http'

/**
 * The request pipeline's shared words. A routed call runs through small Koa middleware, composed
 * per route kind in server.ts; each step reads and fills in its part of {@link CallState}.
 */

/** What the app's middleware before the router leaves for it: the raw body and the parsed URL. */
export interface SandboxState {
  body: Buffer
  url: URL
  /** The path and query exactly as they arrived (signatures cover them). */
  rawUrl: string
}

/** An answer ready to send: exactly these headers and bytes (a signature covers the bytes). */
export interface Answer {
  status: number
  headers: Record<string, string>
  payload: string | Buffer
  /** The handler asked for it to stay unsigned (`SandboxReply.unsigned`). */
  unsigned?: boolean
}

/** One routed call as its middleware share it; each field names the step that fills it in. */
export interface CallState extends SandboxState {
  /** The route matched (set before the pipeline runs). */
  route: Route
  /** The route's parameters as they appear in the path, still percent-encoded (likewise). */
  params: Record<string, string>
  /** The answer's `Request-ID` (likewise). */
  requestId: string
  /** The fault armed for this call, if any (`chooseFault`; WeChat's side only). */
  fault?: Fault
  /** The call's entry in the call log (`callLog`; WeChat's side only). */
  call?: CallRecord
  /** The merchant's APIv3 signature checked out (`verifyV3Request`). */
  authenticated?: boolean
  /** What the route's handler returned (`handle`). */
  reply?: SandboxReply
  /** The answer to send (`render`, `v3FaultAnswer`); none for a stream or a dropped connection. */
  answer?: Answer
}

export type CallContext = ParameterizedContext<CallState>

/** One step of a routed call; one with nothing to do after the steps inside returns `next()`. */
export type CallMiddleware = (ctx: CallContext, next: Next) => Promise<void>

/**
 * The steps as one function, run outermost first: koa-compose's onion for one call, adding (like
 * koa-compose) no promise of its own between steps. The router does not compose them: a HEAD
 * request a GET route passes over must skip all of its steps (server.ts).
 */
export function compose(steps: readonly CallMiddleware[]): (ctx: CallContext) => Promise<void> {
  return (ctx) => {
    let last = -1
    const dispatch = (i: number): Promise<void> => {
      if (i <= last) return Promise.reject(new Error('next() called more than once'))
      last = i
      const step = steps[i]
      if (!step) return Promise.resolve()
      try {
        return step(ctx, () => dispatch(i + 1))
      } catch (e) {
        return Promise.reject(e)
      }
    }
    return dispatch(0)
  }
}
