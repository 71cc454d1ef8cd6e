import { answerText, newCallRecord, type CallLog } from '../calls'
import type { SandboxEvents } from '../events'
import type { SandboxHost } from '../faults'
import type { Store } from '../state'
import type { CallMiddleware } from './context'

/** What the call log step uses of the sandbox. */
export interface CallLogDeps {
  calls: Pick<CallLog, 'add'>
  /** Read only: which order a call names. */
  store: Store
  clock: { now(): number }
  /** Each call is streamed as a `call` event once its connection closes. */
  events: Pick<SandboxEvents, 'emit'>
}

/**
 * Records a call to WeChat's side (`GET /__sandbox/calls`) as it arrives — with the fault that
 * answers it, if any — then its status once the answer was sent in full (a hung or reset call
 * never has one), its answer's body, and its duration when the connection closes.
 */
export function callLog(deps: CallLogDeps, via: SandboxHost): CallMiddleware {
  return async (ctx, next) => {
    const { res } = ctx
    const { url, params, body, fault } = ctx.state
    const call = deps.calls.add(
      newCallRecord(deps.store, {
        nowMs: deps.clock.now(),
        method: ctx.method,
        path: url.pathname,
        query: url.search.slice(1),
        params,
        body,
        fault: fault?.kind,
        ...(via === 'backup' ? { host: 'backup' as const } : {}),
      }),
    )
    ctx.state.call = call
    const started = performance.now()
    res.on('finish', () => {
      call.status = res.statusCode
    })
    res.on('close', () => {
      call.ms = Math.round(performance.now() - started)
      deps.events.emit({ type: 'call', data: { ...call } })
    })
    await next()
    const answer = ctx.state.answer
    if (answer && answer.payload.length > 0)
      call.response_body = answerText(answer.payload, answer.headers['Content-Type'])
  }
}
