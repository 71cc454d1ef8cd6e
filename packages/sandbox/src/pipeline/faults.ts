import type { ServerResponse } from 'node:http'
import type { Faults, SandboxHost } from '../faults'
import { JSON_TYPE } from './answer'
import type { CallMiddleware } from './context'

/** Takes the fault armed for this call's path, if one hits (`POST /__sandbox/faults`). */
export function chooseFault(faults: Pick<Faults, 'forPath'>, via: SandboxHost): CallMiddleware {
  return (ctx, next) => {
    ctx.state.fault = faults.forPath(ctx.state.url.pathname, via)
    return next()
  }
}

/**
 * The faults that give no HTTP answer: `timeout` never answers (the socket is dropped after a
 * minute, or when the client gives up; `close()` drops it at once through `hung`); `reset` and
 * `unreachable` drop the connection (for `unreachable`, as if it had been refused — the call never
 * reached WeChat, so nothing of it is applied).
 */
export function dropConnection(hung: Set<ServerResponse>): CallMiddleware {
  return (ctx, next) => {
    const { req, res } = ctx
    switch (ctx.state.fault?.kind) {
      case 'timeout':
        ctx.respond = false
        hung.add(res)
        res.on('close', () => hung.delete(res))
        setTimeout(() => res.destroy(), 60_000).unref()
        return Promise.resolve()
      case 'reset':
      case 'unreachable':
        ctx.respond = false
        req.socket.destroy()
        return Promise.resolve()
    }
    return next()
  }
}

/**
 * `error500` and `error429` in APIv3's shape, in place of the handler (APIv2 and login routes
 * render them in their own shape: the fault is in their request). Never signed.
 */
export const v3FaultAnswer: CallMiddleware = (ctx, next) => {
  const kind = ctx.state.fault?.kind
  if (kind !== 'error500' && kind !== 'error429') return next()
  const [status, code, message] =
    kind === 'error500'
      ? [500, 'SYSTEM_ERROR', '系统繁忙,请稍后重试']
      : [429, 'FREQUENCY_LIMITED', '请求频率超过限制，请降低频率']
  ctx.state.answer = {
    status,
    headers: { 'Request-ID': ctx.state.requestId, ...JSON_TYPE },
    payload: JSON.stringify({ code, message }),
  }
  return Promise.resolve()
}
