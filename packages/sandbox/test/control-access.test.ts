/**
 * Who may drive the sandbox's own API and pages (`/__sandbox/…`) from a browser (issue #23, item
 * 6). Any web page could: a `text/plain` JSON body is a "simple" request (no preflight), so a
 * cross-site page paid an order and re-pointed the push URL; and with no Host check, DNS rebinding
 * read `/__sandbox/merchant` (the merchant's private key). Now: JSON bodies only (415), a foreign
 * `Origin` refused (403), only Host names of its own answered (421), CORS for allowed origins.
 * Requests are sent with node:http, which sends Host and Origin exactly as given, as a browser or
 * a rebinding page would.
 */
import { request } from 'node:http'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSandbox, type RunningSandbox } from '../src/server'
import { sandboxKeys } from './support/keys'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any

const SHOP = 'http://127.0.0.1:10086'
const LAN = '192.168.1.20'

let sb: RunningSandbox
let port: number
let consoleDir: string

beforeAll(async () => {
  consoleDir = mkdtempSync(join(tmpdir(), 'fen-console-'))
  mkdirSync(join(consoleDir, 'assets'))
  writeFileSync(join(consoleDir, 'index.html'), '<!doctype html><title>Fen sandbox</title>')
  writeFileSync(join(consoleDir, 'assets', 'app-1a2b.js'), 'console.log(1)')
  sb = await startSandbox({
    keys: await sandboxKeys(),
    port: 0,
    consoleDir,
    allowedOrigins: [SHOP],
    allowedHosts: [LAN],
  })
  port = Number(new URL(sb.url).port)
})
afterAll(async () => {
  await sb?.close()
  rmSync(consoleDir, { recursive: true, force: true })
})

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Json
}

/** One request to the sandbox with exactly these headers (Host defaults to the sandbox's own). */
function send(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: {
          host: `127.0.0.1:${port}`,
          ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          let parsed: Json = text
          try {
            parsed = JSON.parse(text)
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed })
        })
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

const json = { 'content-type': 'application/json' }

/** An order the attacker page would pay: a Native prepay made through the control-free path. */
async function unpaidOrder(): Promise<string> {
  const no = `ACC${Date.now()}${Math.floor(Math.random() * 1000)}`
  const { WechatPay } = await import('@fen/wechatpay')
  const m = sb.merchant
  const wxpay = new WechatPay({
    baseUrl: sb.url,
    mchid: m.mchid,
    appid: m.appid,
    serialNo: m.merchantSerialNo,
    privateKey: m.merchantPrivateKey,
    apiV3Key: m.apiV3Key,
    platform: { publicKey: { id: m.platformPublicKeyId, key: m.platformPublicKey } },
  })
  await wxpay.transactions.native({
    description: 'access test',
    out_trade_no: no,
    notify_url: 'http://127.0.0.1:9/notify',
    amount: { total: 1 },
  })
  return no
}

async function tradeState(no: string): Promise<string> {
  const state = await send('GET', '/__sandbox/state')
  return state.body.orders.find((o: Json) => o.out_trade_no === no).trade_state
}

describe('content type: JSON only on the control API', () => {
  it('a text/plain JSON body (a cross-site form or fetch without preflight) → 415, nothing paid', async () => {
    const no = await unpaidOrder()
    const res = await send(
      'POST',
      '/__sandbox/pay',
      { 'content-type': 'text/plain;charset=UTF-8' },
      JSON.stringify({ out_trade_no: no }),
    )
    expect(res.status).toBe(415)
    expect(res.body.code).toBe('UNSUPPORTED_MEDIA_TYPE')
    expect(await tradeState(no)).toBe('NOTPAY')
  })

  it('a body with no content type (a typeless Blob), and a form post, → 415; the push URL stays', async () => {
    const before = (await send('GET', '/__sandbox/settings')).body.push
    const push = JSON.stringify({ push: { url: 'http://attacker.example/p', token: 'x' } })
    expect((await send('POST', '/__sandbox/settings', {}, push)).status).toBe(415)
    const form = { 'content-type': 'application/x-www-form-urlencoded' }
    expect((await send('POST', '/__sandbox/settings', form, push)).status).toBe(415)
    expect((await send('POST', '/__sandbox/reset', form, '')).status).toBe(415)
    expect((await send('GET', '/__sandbox/settings')).body.push).toEqual(before)
  })

  it('application/json (with a charset) works; an empty body needs no content type', async () => {
    const no = await unpaidOrder()
    const paid = await send(
      'POST',
      '/__sandbox/pay',
      { 'content-type': 'application/json; charset=utf-8' },
      JSON.stringify({ out_trade_no: no }),
    )
    expect(paid.status).toBe(200)
    expect(paid.body.trade_state).toBe('SUCCESS')
    expect((await send('POST', '/__sandbox/push/verify')).status).toBe(400) // no push set: its own refusal
  })
})

describe('Origin: its own and the configured ones only', () => {
  it('a foreign Origin → 403, for writes and reads alike; nothing paid', async () => {
    const no = await unpaidOrder()
    const evil = { ...json, origin: 'https://evil.example' }
    const res = await send('POST', '/__sandbox/pay', evil, JSON.stringify({ out_trade_no: no }))
    expect(res.status).toBe(403)
    expect(res.body.code).toBe('FORBIDDEN_ORIGIN')
    expect(res.headers['access-control-allow-origin']).toBeUndefined()
    expect(await tradeState(no)).toBe('NOTPAY')
    expect(
      (await send('GET', '/__sandbox/merchant', { origin: 'https://evil.example' })).status,
    ).toBe(403)
    // `null`: sandboxed frames, data: URLs, redirects.
    expect((await send('GET', '/__sandbox/merchant', { origin: 'null' })).status).toBe(403)
    // The shop's port on another host is another origin.
    expect(
      (await send('GET', '/__sandbox/merchant', { origin: 'http://127.0.0.2:10086' })).status,
    ).toBe(403)
  })

  it('the sandbox’s own origin (its console page) works, by whichever of its names it was opened', async () => {
    const no = await unpaidOrder()
    const own = { ...json, origin: `http://127.0.0.1:${port}` }
    const res = await send('POST', '/__sandbox/pay', own, JSON.stringify({ out_trade_no: no }))
    expect(res.status).toBe(200)
    const local = await send('GET', '/__sandbox/merchant', {
      host: `localhost:${port}`,
      origin: `http://localhost:${port}`,
    })
    expect(local.status).toBe(200)
    // Another port of the same host is not the sandbox.
    expect(
      (await send('GET', '/__sandbox/merchant', { origin: `http://127.0.0.1:${port + 1}` })).status,
    ).toBe(403)
  })

  it('a configured origin (the shop) works, with CORS: the preflight and the answer', async () => {
    const preflight = await send('OPTIONS', '/__sandbox/login-codes', {
      origin: SHOP,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type',
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers['access-control-allow-origin']).toBe(SHOP)
    expect(preflight.headers['access-control-allow-methods']).toMatch(/POST/)
    expect(String(preflight.headers['access-control-allow-headers']).toLowerCase()).toContain(
      'content-type',
    )
    expect(preflight.headers.vary).toMatch(/Origin/)

    const res = await send('POST', '/__sandbox/login-codes', { ...json, origin: SHOP }, '{}')
    expect(res.status).toBe(200)
    expect(res.body.code).toMatch(/./)
    expect(res.headers['access-control-allow-origin']).toBe(SHOP)
  })

  it('a preflight from a foreign origin, or with no origin → 403, no CORS headers', async () => {
    const foreign = await send('OPTIONS', '/__sandbox/pay', {
      origin: 'https://evil.example',
      'access-control-request-method': 'POST',
    })
    expect(foreign.status).toBe(403)
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined()
    expect((await send('OPTIONS', '/__sandbox/pay')).status).toBe(403)
  })

  it('an origin allowed at run time (allowOrigin) works from then on', async () => {
    const later = 'http://127.0.0.1:10087'
    expect((await send('GET', '/__sandbox/merchant', { origin: later })).status).toBe(403)
    sb.allowOrigin(later)
    expect((await send('GET', '/__sandbox/merchant', { origin: later })).status).toBe(200)
    expect(() => sb.allowOrigin('not an origin')).toThrow(/origin/)
  })
})

describe('Host: its own names only (DNS rebinding)', () => {
  it('Host evil.example → 421 for the control API and the pages; the merchant is not read', async () => {
    for (const path of ['/__sandbox/merchant', '/__sandbox/', '/__sandbox/assets/app-1a2b.js']) {
      const res = await send('GET', path, { host: `evil.example:${port}` })
      expect(res.status, path).toBe(421)
      expect(JSON.stringify(res.body)).not.toContain('PRIVATE KEY')
    }
    const res = await send('GET', '/__sandbox/merchant', { host: 'evil.example' })
    expect(res.status).toBe(421)
    expect(res.body.code).toBe('MISDIRECTED_REQUEST')
  })

  it('loopback names, the listen host and the configured hosts are answered', async () => {
    for (const host of [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `LOCALHOST:${port}`,
      `[::1]:${port}`,
      `${LAN}:${port}`,
      '127.0.0.1',
    ]) {
      expect((await send('GET', '/__sandbox/merchant', { host })).status, host).toBe(200)
    }
    expect(
      (await send('GET', '/__sandbox/merchant', { host: `192.168.1.21:${port}` })).status,
    ).toBe(421)
  })

  it('the control page and its assets are served on its own names', async () => {
    const page = await send('GET', '/__sandbox/')
    expect(page.status).toBe(200)
    expect(page.headers['content-type']).toMatch(/text\/html/)
    const asset = await send('GET', '/__sandbox/assets/app-1a2b.js', { host: `localhost:${port}` })
    expect(asset.status).toBe(200)
  })

  it("WeChat's own paths are not Host-checked: servers call them by any name (LAN, container)", async () => {
    const certs = await send('GET', '/v3/certificates', {
      host: `sandbox.internal:${port}`,
      accept: 'application/json',
      'user-agent': 'test',
    })
    // Refused for its missing signature, as WeChat would: not for the Host.
    expect(certs.status).toBe(401)
    expect(certs.body.code).toBe('SIGN_ERROR')
    const login = await send(
      'GET',
      `/sns/jscode2session?appid=${sb.merchant.appid}&secret=${sb.merchant.appSecret}&js_code=nope&grant_type=authorization_code`,
      { host: `${'10.0.0.7'}:${port}` },
    )
    expect(login.status).toBe(200)
    expect(login.body.errcode).toBe(40029)
  })
})

describe('options', () => {
  it('refuses a malformed allowed origin or host at start', async () => {
    const keys = await sandboxKeys()
    await expect(
      startSandbox({ keys, port: 0, allowedOrigins: ['http://x/path'] }),
    ).rejects.toThrow(/allowedOrigins/)
    await expect(startSandbox({ keys, port: 0, allowedHosts: ['a b'] })).rejects.toThrow(
      /allowedHosts/,
    )
  })

  it('a sandbox told to listen on a LAN name answers to it', async () => {
    const named = await startSandbox({ keys: await sandboxKeys(), port: 0, host: 'localhost' })
    try {
      const res = await fetch(`${named.url}/__sandbox/merchant`)
      expect(res.status).toBe(200)
    } finally {
      await named.close()
    }
  })
})
