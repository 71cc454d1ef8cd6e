import { isIP } from 'node:net'
import type { Context, Next } from 'koa'

/**
 * Who may use the sandbox's own API and pages (`/__sandbox/…`) — the only part of it a web page
 * could abuse: it pays orders, moves the clock, re-points pushes, and `GET /__sandbox/merchant`
 * hands out the merchant's private key. A web page reaches a sandbox on the developer's laptop in
 * two ways, and each is closed here:
 * - a cross-site request: refused when its `Origin` is not the sandbox's own or a configured one
 *   (403), and a body that is not `application/json` is refused (415) — a `text/plain` body is
 *   what lets a page post without a CORS preflight;
 * - DNS rebinding (a page whose own name now resolves to 127.0.0.1, so its reads are
 *   "same-origin"): refused by the `Host` header, which then carries the attacker's name (421).
 *   Answered: loopback names, the host the sandbox listens on, and configured names.
 * WeChat's own paths (`/v3/…`, `/sns/…`, `/cgi-bin/…`) are left alone: servers call them, by
 * whatever name reaches the sandbox (a LAN address, a container's name), and they hold nothing a
 * page could use without the merchant's keys.
 */
export interface ControlAccess {
  /** Host names answered besides loopback and the listen host (lower case, IPv6 unbracketed). */
  hosts: Set<string>
  /** Origins allowed besides the sandbox's own (`http://host:port`, as browsers send them). */
  origins: Set<string>
}

/** Names a browser on this machine uses for it: always answered. */
const LOOPBACK = ['localhost', '127.0.0.1', '::1']

/** The prefix of the sandbox's own routes; nothing else is checked here. */
export const CONTROL_PREFIX = '/__sandbox'

/**
 * The access rules of a sandbox listening on `listenHost`, with `hosts` and `origins` allowed too.
 * Throws naming the option when an entry is malformed.
 */
export function controlAccess(
  listenHost: string,
  hosts: readonly string[] = [],
  origins: readonly string[] = [],
): ControlAccess {
  const access: ControlAccess = { hosts: new Set(LOOPBACK), origins: new Set() }
  for (const h of [listenHost, ...hosts]) {
    const name = hostName(h)
    if (name === undefined) throw new Error(`allowedHosts: not a host name or address: "${h}"`)
    access.hosts.add(name)
  }
  for (const o of origins) access.origins.add(originOf(o, 'allowedOrigins'))
  return access
}

/**
 * `text` as a browser's `Origin` header would give it (`http://127.0.0.1:10086`), or throws:
 * only a scheme, host and port — no path, query or credentials.
 */
export function originOf(text: string, option = 'origin'): string {
  let url: URL | undefined
  try {
    url = new URL(text.trim())
  } catch {
    // reported below
  }
  if (
    !url ||
    !['http:', 'https:'].includes(url.protocol) ||
    url.username ||
    url.password ||
    url.search ||
    url.hash ||
    !/^https?:\/\/[^/]+\/?$/i.test(text.trim())
  ) {
    throw new Error(`${option}: not an origin (http[s]://host[:port]): "${text}"`)
  }
  return url.origin
}

/**
 * The host name of a `Host` header or a configured name, lower case, IPv6 without brackets and
 * without the port; undefined when it is not a host name or address.
 */
export function hostName(header: string): string | undefined {
  let host = header.trim().toLowerCase()
  if (host.startsWith('[')) {
    const end = host.indexOf(']')
    if (end < 0 || !/^(:\d{1,5})?$/.test(host.slice(end + 1))) return undefined
    host = host.slice(1, end)
    return isIP(host) === 6 ? host : undefined
  }
  if (isIP(host) === 6) return host // a configured IPv6 address, unbracketed
  host = host.replace(/:\d{1,5}$/, '').replace(/\.$/, '')
  return /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(host)
    ? host
    : undefined
}

/** The methods and headers the control API answers across origins. */
const CORS_METHODS = 'GET, POST, DELETE'
const CORS_HEADERS = 'Content-Type'

/**
 * The checks of {@link ControlAccess} on every request under `/__sandbox` (before routing): the
 * Host, then the Origin (answering a CORS preflight for an allowed one), then the content type of
 * a body. Refusals are JSON `{code, message}`.
 */
export function controlGuard(access: ControlAccess) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const path = ctx.path
    if (path !== CONTROL_PREFIX && !path.startsWith(`${CONTROL_PREFIX}/`)) return next()
    const refuse = (status: number, code: string, message: string) => {
      ctx.status = status
      ctx.set('Content-Type', 'application/json; charset=utf-8')
      ctx.body = JSON.stringify({ code, message })
    }

    const hostHeader = ctx.get('host')
    const host = hostName(hostHeader)
    if (host === undefined || !access.hosts.has(host)) {
      return refuse(
        421,
        'MISDIRECTED_REQUEST',
        `the sandbox does not answer to the host "${hostHeader}" (allow it with --allowed-hosts / SANDBOX_ALLOWED_HOSTS)`,
      )
    }

    const origin = ctx.get('origin')
    const own =
      origin === `http://${hostHeader.toLowerCase()}` ||
      origin === `https://${hostHeader.toLowerCase()}`
    const allowed = origin !== '' && !own && access.origins.has(origin)
    if (origin !== '' && !own && !allowed) {
      return refuse(
        403,
        'FORBIDDEN_ORIGIN',
        `requests from ${origin} are not allowed (allow the origin with --allowed-origins / SANDBOX_ALLOWED_ORIGINS)`,
      )
    }
    if (allowed) {
      ctx.set('Access-Control-Allow-Origin', origin)
      ctx.vary('Origin')
    }
    if (ctx.method === 'OPTIONS') {
      // A CORS preflight: only for an allowed origin (a same-origin page never sends one).
      if (!allowed) return refuse(403, 'FORBIDDEN_ORIGIN', 'a preflight needs an allowed Origin')
      ctx.status = 204
      ctx.set({
        'Access-Control-Allow-Methods': CORS_METHODS,
        'Access-Control-Allow-Headers': CORS_HEADERS,
        'Access-Control-Max-Age': '600',
      })
      return
    }

    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      const type = ctx.get('content-type')
      const body = (ctx.state as { body?: Buffer }).body
      const json = type.split(';')[0]!.trim().toLowerCase() === 'application/json'
      if (type === '' ? (body?.length ?? 0) > 0 : !json) {
        return refuse(
          415,
          'UNSUPPORTED_MEDIA_TYPE',
          'the control API takes application/json bodies only',
        )
      }
    }
    return next()
  }
}
