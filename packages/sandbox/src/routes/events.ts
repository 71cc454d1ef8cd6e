import { PassThrough } from 'node:stream'
import { WechatError } from '../errors'
import type { Route } from '../http'

/** A comment line now and then keeps idle proxies (Taro's dev server) from closing the stream. */
const HEARTBEAT_MS = 15_000

/**
 * The live side of the control API, for `fen-sandbox listen` / `logs` and the console page:
 * - `GET /__sandbox/events[?forward_to=URL]`: Server-Sent Events — `ready` first, then `call`
 *   (each call to WeChat's side once answered) and `delivery` (each notification attempt).
 *   With `forward_to`, every notification attempt is also sent to that URL for as long as the
 *   stream is open: closing it unregisters the forward, so a CLI that dies leaves none behind.
 * - `GET /__sandbox/forwards`: the forwards open now.
 */
export const eventRoutes: Route[] = [
  {
    method: 'GET',
    path: '/__sandbox/events',
    kind: 'control',
    handler: ({ sandbox, query }) => {
      const forwardTo = query.get('forward_to') ?? undefined
      if (forwardTo !== undefined && !isHttpUrl(forwardTo)) {
        throw new WechatError(400, 'INVALID_INPUT', 'forward_to: an http:// or https:// URL')
      }
      const stream = new PassThrough()
      const write = (event: string, data: unknown) =>
        stream.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
      const forward = forwardTo === undefined ? undefined : sandbox.notifier.addForward(forwardTo)
      write('ready', forward === undefined ? {} : { forward: { id: forward, url: forwardTo } })
      const stop = sandbox.events.on((e) => write(e.type, e.data))
      const heartbeat = setInterval(() => stream.write(': keep-alive\n\n'), HEARTBEAT_MS)
      heartbeat.unref()
      // Koa destroys the stream when the client goes away (or the sandbox closes).
      stream.on('close', () => {
        stop()
        clearInterval(heartbeat)
        if (forward !== undefined) sandbox.notifier.removeForward(forward)
      })
      return {
        status: 200,
        raw: stream,
        contentType: 'text/event-stream; charset=utf-8',
        headers: { 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' },
      }
    },
  },
  {
    method: 'GET',
    path: '/__sandbox/forwards',
    kind: 'control',
    handler: ({ sandbox }) => ({ status: 200, body: sandbox.notifier.forwards() }),
  },
]

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s)
    return u.protocol === 'http:' || u.protocol === 'https:'
  } catch {
    return false
  }
}
