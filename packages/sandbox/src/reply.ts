import type { Readable } from 'node:stream'

/**
 * What a route handler returns: JSON `body`, or `raw` bytes with a content type. A control route
 * may answer a stream (`raw` a Readable, the event stream): it is never signed, and ends when the
 * client goes away (the stream is destroyed then).
 *
 * Its own module, below both the route contract (http.ts, which re-exports it) and the parts that
 * build answers (weixin/answers.ts), so neither imports the other's side.
 */
export interface SandboxReply {
  status: number
  body?: unknown
  raw?: string | Buffer | Readable
  contentType?: string
  headers?: Record<string, string>
  /** Leave a 2xx answer unsigned (the bill file, as WeChat does). */
  unsigned?: boolean
}
