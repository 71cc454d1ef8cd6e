import { createHash } from 'node:crypto'
import { randomBytes } from 'node:crypto'
import type { Route, SandboxReply } from '../http'

/** Login codes live 5 minutes (sandbox time) and work once. */
export const LOGIN_CODE_TTL_MS = 5 * 60_000

const ERRMSG: Record<number, string> = {
  [-1]: 'system error',
  40013: 'invalid appid',
  40125: 'invalid appsecret',
  40029: 'invalid code',
  40163: 'code been used',
  45011: 'api minute-quota reach limit mustslower retry next minute',
  40226: 'code blocked',
  41002: 'appid missing',
  41004: 'appsecret missing',
  41008: 'missing code',
}

/** api.weixin.qq.com answers 200 with an errcode for every failure. */
function fail(errcode: number): SandboxReply {
  const rid = randomBytes(12).toString('hex')
  return { status: 200, body: { errcode, errmsg: `${ERRMSG[errcode]}, rid: ${rid}` } }
}

/** A stable unionid for an openid, as if the app were bound to an Open Platform account. */
function unionidOf(openid: string): string {
  return 'oU' + createHash('sha256').update(openid).digest('base64url').slice(0, 26)
}

export const loginRoutes: Route[] = [
  {
    method: 'GET',
    path: '/sns/jscode2session',
    kind: 'open',
    handler: ({ sandbox, query, fault }) => {
      if (fault?.kind === 'error500') return fail(-1)
      if (fault?.kind === 'error429') return fail(45011)
      const appid = query.get('appid')
      const secret = query.get('secret')
      const code = query.get('js_code')
      if (!appid) return fail(41002)
      if (!secret) return fail(41004)
      if (!code) return fail(41008)
      if (appid !== sandbox.keys.appid) return fail(40013)
      if (secret !== sandbox.keys.appSecret) return fail(40125)
      if (query.get('grant_type') !== 'authorization_code') return fail(40029)
      const entry = sandbox.store.loginCodes.get(code)
      if (!entry || sandbox.clock.now() - entry.createdAt > LOGIN_CODE_TTL_MS) return fail(40029)
      if (entry.used) return fail(40163)
      entry.used = true
      if (entry.errcode !== undefined) return fail(entry.errcode)
      return {
        status: 200,
        body: {
          openid: entry.openid,
          session_key: randomBytes(16).toString('base64'),
          // Only a mini-program bound to an Open Platform account has unionids.
          ...(sandbox.openPlatformBound ? { unionid: unionidOf(entry.openid) } : {}),
        },
      }
    },
  },
]
