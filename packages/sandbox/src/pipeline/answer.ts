import { Readable } from 'node:stream'
import type { Context } from 'koa'
import { WechatError } from '../errors'
import type { SandboxReply, SandboxRequest } from '../http'
import type { Sandbox } from '../sandbox'
import type { CallMiddleware } from './context'

/** The content type of every JSON answer. */
export const JSON_TYPE = { 'Content-Type': 'application/json; charset=utf-8' }

/**
 * Sets the answer byte for byte: the status, exactly `headers` and `payload` (signatures cover
 * these bytes). Koa would add a `Content-Type` of its own to a body without one: removed.
 */
export function answer(
  ctx: Context,
  status: number,
  headers: Record<string, string>,
  payload: string | Buffer,
): void {
  ctx.status = status
  ctx.set(headers)
  ctx.body = payload
  if (headers['Content-Type'] === undefined) ctx.remove('Content-Type')
}

/** A JSON answer. */
export function sendJson(
  ctx: Context,
  status: number,
  body: unknown,
  headers: Record<string, string>,
): void {
  answer(ctx, status, { ...headers, ...JSON_TYPE }, JSON.stringify(body))
}

/** Sends the answer the steps inside it left (`ctx.state.answer`), once they are all done. */
export const send: CallMiddleware = async (ctx, next) => {
  await next()
  const a = ctx.state.answer
  if (a) answer(ctx, a.status, a.headers, a.payload)
}

/**
 * Turns the handler's reply — or the WeChat error a step inside it threw, in WeChat's
 * `{code, message, detail}` shape — into the answer's bytes and headers: JSON, or raw bytes with
 * their content type. A stream (the control API's event stream) goes out as it is: never signed,
 * never in the call log. Any other error is a bug: it goes on to the app's 500.
 */
export const render: CallMiddleware = async (ctx, next) => {
  let reply: SandboxReply
  try {
    await next()
    reply = ctx.state.reply!
  } catch (e) {
    if (!(e instanceof WechatError)) throw e
    reply = { status: e.status, body: e.body() }
  }
  const headers: Record<string, string> = { 'Request-ID': ctx.state.requestId, ...reply.headers }
  if (reply.raw instanceof Readable) {
    ctx.status = reply.status
    ctx.set({ ...headers, 'Content-Type': reply.contentType ?? 'application/octet-stream' })
    ctx.body = reply.raw
    return
  }
  let payload: string | Buffer
  if (reply.raw !== undefined) {
    payload = reply.raw
    headers['Content-Type'] = reply.contentType ?? 'application/octet-stream'
  } else {
    payload = reply.body === undefined ? '' : JSON.stringify(reply.body)
    if (payload) Object.assign(headers, JSON_TYPE)
  }
  ctx.state.answer = { status: reply.status, headers, payload, unsigned: reply.unsigned }
}

/**
 * Runs the route's handler on the call (the route contract, http.ts: the handler is given the
 * whole sandbox) and keeps its reply.
 */
export function handle(sandbox: Sandbox): CallMiddleware {
  return async (ctx) => {
    const { route, url, rawUrl, body, params, fault } = ctx.state
    const request: SandboxRequest = {
      sandbox,
      method: ctx.method,
      rawUrl,
      path: url.pathname,
      query: url.searchParams,
      headers: ctx.req.headers,
      body,
      params,
      fault,
    }
    ctx.state.reply = await route.handler(request)
  }
}
