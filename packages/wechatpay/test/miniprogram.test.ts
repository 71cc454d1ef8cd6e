import { createCipheriv } from 'node:crypto'
import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import {
  Code2SessionError,
  ConfigError,
  DecryptionError,
  MiniProgramClient,
  NetworkError,
  TimeoutError,
  WechatPayError,
  decryptOpenData,
  type Code2SessionFailure,
  type Transport,
  type TransportRequest,
} from '../src'
import { caught } from './support/caught'
import { OPEN_DATA_VECTOR } from './fixtures/vectors'

const APPID = 'wx4f4bc4dec97d474b'
/** A recognisable AppSecret, so a leak anywhere is easy to spot. */
const SECRET = 'f3c8a1d2e9b74c5aSECRETb0d6e2f4a9'
const SESSION_KEY = 'tiihtNczf5v6AKRyjwEUhQ=='

interface Call {
  url: URL
  init: TransportRequest
}

function fake(respond: (url: URL) => Response | Promise<Response>): {
  transport: Transport
  calls: Call[]
} {
  const calls: Call[] = []
  const transport: Transport = async (url, init) => {
    const parsed = new URL(url)
    calls.push({ url: parsed, init })
    return respond(parsed)
  }
  return { transport, calls }
}

function json(body: unknown, contentType = 'application/json; charset=utf-8'): Response {
  return new Response(JSON.stringify(body), { headers: { 'Content-Type': contentType } })
}

function mp(transport: Transport, timeoutMs?: number): MiniProgramClient {
  return new MiniProgramClient({
    appid: APPID,
    secret: SECRET,
    transport,
    ...(timeoutMs ? { timeoutMs } : {}),
  })
}

describe('MiniProgramClient.code2Session', () => {
  it('calls GET /sns/jscode2session with appid, secret, js_code and grant_type', async () => {
    const { transport, calls } = fake(() => json({ openid: 'o1', session_key: SESSION_KEY }))
    await mp(transport).code2Session('081Kq4Ga1MSox52Xo4Ia1Dz3Ga1Kq4Gu')
    expect(calls).toHaveLength(1)
    const { url, init } = calls[0]!
    expect(init.method).toBe('GET')
    expect(init.body).toBeUndefined()
    expect(url.origin).toBe('https://api.weixin.qq.com')
    expect(url.pathname).toBe('/sns/jscode2session')
    expect(Object.fromEntries(url.searchParams)).toEqual({
      appid: APPID,
      secret: SECRET,
      js_code: '081Kq4Ga1MSox52Xo4Ia1Dz3Ga1Kq4Gu',
      grant_type: 'authorization_code',
    })
  })

  it('encodes a js_code with reserved characters and honours baseUrl', async () => {
    const { transport, calls } = fake(() => json({ openid: 'o1', session_key: SESSION_KEY }))
    const client = new MiniProgramClient({
      appid: APPID,
      secret: SECRET,
      transport,
      baseUrl: 'http://127.0.0.1:8787/wx/',
    })
    await client.code2Session('a&b=c d')
    const { url } = calls[0]!
    expect(url.href.startsWith('http://127.0.0.1:8787/wx/sns/jscode2session?')).toBe(true)
    expect(url.searchParams.get('js_code')).toBe('a&b=c d')
    expect(url.searchParams.get('grant_type')).toBe('authorization_code')
  })

  it('succeeds on an answer without errcode', async () => {
    const { transport } = fake(() => json({ session_key: SESSION_KEY, openid: 'oGZUI0egBJY1z' }))
    const s = await mp(transport).code2Session('code')
    expect(s.openid).toBe('oGZUI0egBJY1z')
    expect(s.sessionKey).toBe(SESSION_KEY)
    expect(s.unionid).toBeUndefined()
    expect('unionid' in s).toBe(false)
  })

  it('succeeds on an answer with errcode 0 and keeps unionid', async () => {
    const { transport } = fake(() =>
      json({
        openid: 'oGZUI0egBJY1z',
        session_key: SESSION_KEY,
        unionid: 'oUnion_123',
        errcode: 0,
        errmsg: 'ok',
      }),
    )
    const s = await mp(transport).code2Session('code')
    expect(s).toMatchObject({ openid: 'oGZUI0egBJY1z', unionid: 'oUnion_123' })
    expect(s.sessionKey).toBe(SESSION_KEY)
  })

  it('parses a text/plain answer as JSON', async () => {
    const { transport } = fake(() =>
      json({ openid: 'o-plain', session_key: SESSION_KEY }, 'text/plain'),
    )
    const s = await mp(transport).code2Session('code')
    expect(s.openid).toBe('o-plain')
    expect(s.sessionKey).toBe(SESSION_KEY)
  })

  const failures: [number, string, Code2SessionFailure][] = [
    [40029, 'invalid code, rid: 652d44d0-1d0af18b-5b069232', 'invalid_code'],
    [40163, 'code been used, rid: 652d44d0-1d0af18b-5b069233', 'code_used'],
    [45011, 'api minute-quota reach limit mustslower retry next minute', 'rate_limited'],
    [40226, 'code blocked', 'blocked'],
    [-1, 'system error', 'system_busy'],
    [40013, 'invalid appid', 'other'],
    [40125, 'invalid appsecret, rid: 1', 'other'],
  ]
  it.each(failures)('errcode %i → Code2SessionError %s', async (errcode, errmsg, reason) => {
    const { transport } = fake(() => json({ errcode, errmsg }))
    const e = await caught(mp(transport).code2Session('code'))
    expect(e).toBeInstanceOf(Code2SessionError)
    expect(e).toBeInstanceOf(WechatPayError)
    expect(e).toMatchObject({ errcode, reason, name: 'Code2SessionError' })
    expect(e.message).toContain(String(errcode))
    expect(e.message).toContain(errmsg)
    expect(e.message).not.toContain(SECRET)
  })

  it('an errcode wins even when HTTP status is 200 and openid is present', async () => {
    const { transport } = fake(() =>
      json({ errcode: 40163, errmsg: 'code been used', openid: 'o1', session_key: SESSION_KEY }),
    )
    await expect(mp(transport).code2Session('code')).rejects.toMatchObject({
      reason: 'code_used',
    })
  })

  it('non-JSON → WechatPayError (not a Code2SessionError)', async () => {
    const { transport } = fake(
      () =>
        new Response('<html><body>502 Bad Gateway</body></html>', {
          status: 502,
          headers: { 'Content-Type': 'text/html' },
        }),
    )
    const e = await caught(mp(transport).code2Session('code'))
    expect(e).toBeInstanceOf(WechatPayError)
    expect(e).not.toBeInstanceOf(Code2SessionError)
    expect(e.message).toMatch(/without JSON/)
    expect(e.message).not.toContain(SECRET)
  })

  it('an answer without openid or session_key → WechatPayError', async () => {
    for (const body of [{ openid: 'o1' }, { session_key: SESSION_KEY }, {}]) {
      const { transport } = fake(() => json(body))
      const e = await caught(mp(transport).code2Session('code'))
      expect(e).toBeInstanceOf(WechatPayError)
      expect(e).not.toBeInstanceOf(Code2SessionError)
    }
  })

  it('sessionKey is readable but left out of JSON, Object.keys and util.inspect', async () => {
    const { transport } = fake(() =>
      json({ openid: 'o1', unionid: 'u1', session_key: SESSION_KEY }),
    )
    const s = await mp(transport).code2Session('code')
    expect(s.sessionKey).toBe(SESSION_KEY)
    expect(JSON.stringify(s)).toBe('{"openid":"o1","unionid":"u1"}')
    expect(JSON.stringify(s)).not.toContain(SESSION_KEY)
    expect(Object.keys(s)).toEqual(['openid', 'unionid'])
    expect(Object.entries(s).flat()).not.toContain(SESSION_KEY)
    expect({ ...s }).toEqual({ openid: 'o1', unionid: 'u1' })
    expect(inspect(s)).not.toContain(SESSION_KEY)
    expect(inspect(s, { depth: 5 })).not.toContain('sessionKey')
    expect(`${inspect({ session: s })}`).not.toContain(SESSION_KEY)
  })

  it('sessionKey cannot be reassigned', async () => {
    const { transport } = fake(() => json({ openid: 'o1', session_key: SESSION_KEY }))
    const s = await mp(transport).code2Session('code')
    expect(() => {
      ;(s as { sessionKey: string }).sessionKey = 'x'
    }).toThrow(TypeError)
    expect(s.sessionKey).toBe(SESSION_KEY)
  })

  it('refuses to be built without appid or secret', () => {
    expect(() => new MiniProgramClient({ appid: APPID, secret: '' })).toThrow(ConfigError)
    expect(() => new MiniProgramClient({ appid: '', secret: SECRET })).toThrow(ConfigError)
  })

  describe('the AppSecret never appears in an error message', () => {
    function assertNoSecret(e: Error): void {
      expect(e.message).not.toContain(SECRET)
      expect(String(e)).not.toContain(SECRET)
      expect(e.message).not.toContain('secret=')
    }

    it('network error, fetch-style (TypeError with a cause)', async () => {
      const transport: Transport = () =>
        Promise.reject(
          new TypeError('fetch failed', {
            cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), {
              code: 'ECONNREFUSED',
            }),
          }),
        )
      const e = await caught(mp(transport).code2Session('code'))
      expect(e).toBeInstanceOf(NetworkError)
      expect(e.message).toContain('/sns/jscode2session')
      assertNoSecret(e)
    })

    it('network error whose message quotes the URL (node-fetch style)', async () => {
      const transport: Transport = (url) =>
        Promise.reject(
          Object.assign(
            new Error(`request to ${url} failed, reason: connect ECONNREFUSED 127.0.0.1:443`),
            { name: 'FetchError', type: 'system', code: 'ECONNREFUSED' },
          ),
        )
      const e = await caught(mp(transport).code2Session('code'))
      expect(e).toBeInstanceOf(NetworkError)
      assertNoSecret(e)
    })

    it('network error from the real fetch (connection refused)', async () => {
      const client = new MiniProgramClient({
        appid: APPID,
        secret: SECRET,
        baseUrl: 'http://127.0.0.1:1',
        timeoutMs: 2_000,
      })
      const e = await caught(client.code2Session('code'))
      expect(e).toBeInstanceOf(NetworkError)
      assertNoSecret(e)
    })

    it('timeout', async () => {
      const transport: Transport = (_url, init) =>
        new Promise((_resolve, reject) => {
          init.signal.addEventListener('abort', () => reject(init.signal.reason), { once: true })
        })
      const e = await caught(mp(transport, 30).code2Session('code'))
      expect(e).toBeInstanceOf(TimeoutError)
      expect((e as TimeoutError).timeoutMs).toBe(30)
      assertNoSecret(e)
    })

    it('errcode error', async () => {
      const { transport } = fake(() => json({ errcode: 40125, errmsg: 'invalid appsecret' }))
      assertNoSecret(await caught(mp(transport).code2Session('code')))
    })

    it('non-JSON answer', async () => {
      const { transport } = fake(() => new Response('system busy', { status: 503 }))
      assertNoSecret(await caught(mp(transport).code2Session('code')))
    })
  })
})

describe('decryptOpenData', () => {
  it('rejects a session key or iv that is not 16 bytes', () => {
    const { encryptedData, iv } = OPEN_DATA_VECTOR
    const key24 = Buffer.alloc(24, 7).toString('base64')
    const key15 = Buffer.alloc(15, 7).toString('base64')
    expect(() => decryptOpenData(key24, encryptedData, iv)).toThrow(DecryptionError)
    expect(() => decryptOpenData(key15, encryptedData, iv)).toThrow(/16 bytes/)
    expect(() => decryptOpenData('', encryptedData, iv)).toThrow(DecryptionError)
    expect(() =>
      decryptOpenData(
        OPEN_DATA_VECTOR.sessionKey,
        encryptedData,
        Buffer.alloc(12).toString('base64'),
      ),
    ).toThrow(DecryptionError)
  })

  it('rejects a wrong session key', () => {
    const wrong = Buffer.from('0123456789abcdef').toString('base64')
    expect(() =>
      decryptOpenData(wrong, OPEN_DATA_VECTOR.encryptedData, OPEN_DATA_VECTOR.iv),
    ).toThrow(DecryptionError)
    expect(() =>
      decryptOpenData(wrong, OPEN_DATA_VECTOR.encryptedData, OPEN_DATA_VECTOR.iv),
    ).toThrow(/could not be decrypted/)
  })

  it('decrypts data encrypted with a session key, and checks the watermark', () => {
    const key = Buffer.from('00112233445566778899aabbccddeeff', 'hex')
    const iv = Buffer.from('ffeeddccbbaa99887766554433221100', 'hex')
    const payload = {
      phoneNumber: '13580006666',
      purePhoneNumber: '13580006666',
      countryCode: '86',
      watermark: { appid: APPID, timestamp: 1477314187 },
    }
    const cipher = createCipheriv('aes-128-cbc', key, iv)
    const encryptedData = Buffer.concat([
      cipher.update(JSON.stringify(payload), 'utf8'),
      cipher.final(),
    ]).toString('base64')
    const sk = key.toString('base64')
    const ivb = iv.toString('base64')
    expect(decryptOpenData(sk, encryptedData, ivb, APPID)).toEqual(payload)
    expect(() => decryptOpenData(sk, encryptedData, ivb, 'wx0000000000000000')).toThrow(
      DecryptionError,
    )
  })
})
