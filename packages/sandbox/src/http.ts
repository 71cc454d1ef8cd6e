import type { IncomingHttpHeaders } from 'node:http'
import type { Fault } from './faults'
import type { SandboxReply } from './reply'
import type { Sandbox } from './sandbox'

/**
 * The contract between the HTTP layer (`server.ts`) and the route tables (`routes/*`). It lives
 * below both, so a route never imports the server that mounts it.
 */

/** What a route handler sees. `rawUrl` is the path and query exactly as they arrived. */
export interface SandboxRequest {
  sandbox: Sandbox
  method: string
  rawUrl: string
  path: string
  query: URLSearchParams
  headers: IncomingHttpHeaders
  body: Buffer
  /** Path parameters as they appear in the URL, still percent-encoded (handlers decode them). */
  params: Record<string, string>
  /** The fault applied to this call, if any (routes with their own fault forms read it). */
  fault: Fault | undefined
}

// What a handler returns lives in reply.ts, below this contract: the parts that build answers
// (weixin/answers.ts) need it without the routes' side.
export type { SandboxReply } from './reply'

/**
 * One route. `path` is a `@koa/router` path (`/v3/refund/domestic/refunds/:no`), matched
 * case-sensitively and without a trailing slash. How a route is guarded (`kind`):
 * - `v3`: WeChat Pay APIv3 — faults, Accept/User-Agent, Authorization signature, signed answers;
 * - `v2`: APIv2 XML (the handler checks `sign`) and `open` (api.weixin.qq.com) — faults only;
 * - `control` and `page`: the sandbox's own `/__sandbox/` API and pages.
 */
export interface Route {
  method: string
  path: string
  kind: 'v3' | 'v2' | 'open' | 'control' | 'page'
  handler: (req: SandboxRequest) => SandboxReply | Promise<SandboxReply>
}
