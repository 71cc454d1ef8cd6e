import { createDecipheriv } from 'node:crypto'
import { DecryptionError, WechatPayError } from '../core/errors'
import { exchange } from '../core/http'
import type { Transport } from '../core/transport'
import { MiniProgramError } from './errors'
import type { CallOptions } from '../resources/transactions'

/** Why code2Session refused, by its documented (and observed) errcodes. */
export type Code2SessionFailure =
  /** 40029: the code is invalid or expired (codes live 5 minutes). */
  | 'invalid_code'
  /** 40163: the code was already exchanged (codes are single use). */
  | 'code_used'
  /** 45011: more than 100 calls per user per minute. */
  | 'rate_limited'
  /** 40226: a high-risk user; login was blocked. */
  | 'blocked'
  /** -1: WeChat is busy; retry later. */
  | 'system_busy'
  /** Any other errcode (40013 invalid appid, 40125 invalid secret, …). */
  | 'other'

const FAILURES: Record<number, Code2SessionFailure> = {
  40029: 'invalid_code',
  40163: 'code_used',
  45011: 'rate_limited',
  40226: 'blocked',
  [-1]: 'system_busy',
}

/** code2Session answered with a non-zero `errcode` (a {@link MiniProgramError} with a `reason`). */
export class Code2SessionError extends MiniProgramError {
  override name = 'Code2SessionError'
  readonly reason: Code2SessionFailure
  constructor(errcode: number, errmsg: string) {
    super({ errcode, errmsg, api: 'code2Session' })
    this.reason = FAILURES[errcode] ?? 'other'
  }
}

/**
 * A mini-program session. `sessionKey` is deliberately non-enumerable: `JSON.stringify`, pino and
 * `console.log` leave it out, so logging the session never leaks it. Never send it to the client.
 */
export interface MiniProgramSession {
  openid: string
  /** Present only when the app is bound to a WeChat Open Platform account. */
  unionid?: string
  readonly sessionKey: string
}

/**
 * Exchanges a `wx.login` code for the user's openid (and unionid) and session key.
 * Throws {@link Code2SessionError} for WeChat's errcodes. A missing errcode counts as success:
 * real answers often omit it. Called through {@link MiniProgramClient.code2Session}.
 *
 * @see https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/code2Session.html
 */
export async function code2Session(
  http: { appid: string; secret: string; baseUrl: string; timeoutMs: number; transport: Transport },
  jsCode: string,
  options?: CallOptions,
): Promise<MiniProgramSession> {
  const query = new URLSearchParams({
    appid: http.appid,
    secret: http.secret,
    js_code: jsCode,
    grant_type: 'authorization_code',
  })
  const res = await exchange(
    http.transport,
    `${http.baseUrl}/sns/jscode2session?${query}`,
    { method: 'GET', headers: { Accept: 'application/json' } },
    http.timeoutMs,
    'GET /sns/jscode2session', // never the URL: it carries the AppSecret
    options?.signal,
  )
  let body: {
    openid?: string
    unionid?: string
    session_key?: string
    errcode?: number
    errmsg?: string
  }
  try {
    // Parsed whatever the Content-Type: some api.weixin.qq.com answers say text/plain.
    body = JSON.parse(res.body.toString('utf8'))
  } catch (cause) {
    throw new WechatPayError(`code2Session answered HTTP ${res.status} without JSON`, { cause })
  }
  if (body.errcode !== undefined && body.errcode !== 0) {
    throw new Code2SessionError(body.errcode, body.errmsg ?? '')
  }
  if (!body.openid || !body.session_key) {
    throw new WechatPayError('code2Session answered without openid or session_key')
  }
  const session = { openid: body.openid } as MiniProgramSession
  if (body.unionid) session.unionid = body.unionid
  Object.defineProperty(session, 'sessionKey', { value: body.session_key, enumerable: false })
  return session
}

/**
 * Decrypts mini-program open data (`encryptedData` + `iv` from `wx.getUserInfo`, phone number and
 * the like) with the session key: AES-128-CBC, PKCS#7. When `appid` is given, the watermark must
 * carry it, or the data was meant for another app.
 *
 * @see https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/signature.html
 */
export function decryptOpenData<T = Record<string, unknown>>(
  sessionKey: string,
  encryptedData: string,
  iv: string,
  appid?: string,
): T {
  const key = Buffer.from(sessionKey, 'base64')
  const ivBytes = Buffer.from(iv, 'base64')
  if (key.length !== 16 || ivBytes.length !== 16) {
    throw new DecryptionError('session_key and iv must each be 16 bytes (Base64)')
  }
  let data: T & { watermark?: { appid?: string } }
  try {
    const decipher = createDecipheriv('aes-128-cbc', key, ivBytes)
    const plain = Buffer.concat([
      decipher.update(Buffer.from(encryptedData, 'base64')),
      decipher.final(),
    ])
    data = JSON.parse(plain.toString('utf8'))
  } catch (cause) {
    throw new DecryptionError('open data could not be decrypted with this session key', { cause })
  }
  if (appid !== undefined && data.watermark?.appid !== appid) {
    throw new DecryptionError('open data watermark is for another appid')
  }
  return data
}
