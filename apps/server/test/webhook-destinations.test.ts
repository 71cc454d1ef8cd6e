/**
 * Where a webhook may go (issue #23 item 8). A host is resolved at each delivery, every address
 * it has is checked, and the request connects to the address checked (no second lookup a DNS
 * answer could change in between). Loopback, link-local (169.254.169.254: cloud metadata),
 * private, shared (CGNAT), unspecified and this server's own addresses are refused — by default in
 * production; WEBHOOK_ALLOW_PRIVATE decides elsewhere (tests and dev use loopback receivers).
 */
import { generateKeyPairSync } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { createServer as createHttpsServer, globalAgent } from 'node:https'
import type { AddressInfo } from 'node:net'
import { networkInterfaces } from 'node:os'
import type { OutboxEventPage } from '@fen/shared'
import { generateSandboxKeys, merchantView, type SandboxMerchant } from '@fen/sandbox'
import { createCertificate } from '@fen/wechatpay/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig, type Config } from '../src/config'
import { refusedRangeOf, type ResolveHost } from '../src/destinations'
import { createSinks, type SinkEvent } from '../src/events/sinks'
import { createLogger } from '../src/logger'
import { startHarness } from './harness'
import { realMerchantEnv } from './support/config'
import { paidOrderEvent } from './support/paid-order'

const SECRET = 'whsec-prod-8f3kQ2xLr9ZpT4vN7bYc1mWd6sHj0aEu'

let merchant: SandboxMerchant
let receiver: Server
let port: number
/** Connections the receiver accepted (a refused delivery opens none) and requests it answered. */
let connections = 0
const requests: { url: string; headers: IncomingHttpHeaders }[] = []

beforeAll(async () => {
  merchant = merchantView(await generateSandboxKeys())
  receiver = createServer((req, res) => {
    requests.push({ url: req.url!, headers: req.headers })
    req.resume()
    req.on('end', () => res.writeHead(204).end())
  })
  receiver.on('connection', () => connections++)
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  port = (receiver.address() as AddressInfo).port
})
afterAll(() => new Promise((resolve) => receiver.close(resolve)))

const event: SinkEvent = {
  id: 1,
  type: 'order.paid',
  orderNo: 'FEN2026120810000012345678',
  createdAt: new Date().toISOString(),
  payload: {},
}

/** The events settings of a production configuration with `urls` as WEBHOOK_URLS. */
async function productionEvents(urls: string, extra: Record<string, string> = {}) {
  const config = await loadConfig(
    realMerchantEnv(merchant, {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://fen@db.internal:5432/fen',
      WECHAT_PUSH_TOKEN: 'shopPushToken2026',
      WECHAT_PUSH_AES_KEY: 'a'.repeat(43),
      WEBHOOK_URLS: urls,
      WEBHOOK_SECRET: SECRET,
      ...extra,
    }),
  )
  return config.events
}

/** A resolver that answers `addresses` for any host, counting its calls. */
function resolverOf(...addresses: string[]): ResolveHost & { calls: string[] } {
  const calls: string[] = []
  const resolve = async (hostname: string) => {
    calls.push(hostname)
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
  }
  return Object.assign(resolve, { calls })
}

function send(events: Config['events'], resolve: ResolveHost, ownAddresses?: () => string[]) {
  const sinks = createSinks(events, createLogger('silent'), {
    resolve,
    ...(ownAddresses ? { ownAddresses } : {}),
  })!
  return sinks.send(sinks.webhookNames[0]!, event, new Date())
}

describe('refusedRangeOf', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['fe80::1', 'link-local'],
    ['10.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fc00::1', 'private'],
    ['100.64.0.1', 'shared address space'],
    ['100.127.255.254', 'shared address space'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
  ])('%s is %s', (address, range) => {
    expect(refusedRangeOf(address)).toBe(range)
  })

  it.each(['93.184.216.34', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])(
    '%s is public',
    (address) => {
      expect(refusedRangeOf(address)).toBeUndefined()
    },
  )
})

describe('a delivery in production', () => {
  it.each([
    [['127.0.0.1'], '127.0.0.1 (loopback)'],
    [['169.254.169.254'], '169.254.169.254 (link-local)'],
    [['::ffff:127.0.0.1'], '::ffff:127.0.0.1 (loopback)'],
    // One bad address among good ones is enough: the connection could pick any.
    [['93.184.216.34', '10.0.0.8'], '10.0.0.8 (private)'],
  ])('to a host resolving to %j is refused before any connection', async (addresses, why) => {
    const events = await productionEvents(`https://hooks.example.com:${port}/fen`)
    const before = connections
    const resolve = resolverOf(...addresses)
    await expect(send(events, resolve)).rejects.toThrow(
      `refused: hooks.example.com resolves to ${why}; WEBHOOK_ALLOW_PRIVATE=true allows it`,
    )
    expect(resolve.calls).toEqual(['hooks.example.com'])
    expect(connections).toBe(before)
  })

  it("to this server's own address is refused", async () => {
    const events = await productionEvents(`https://shop.example.com:${port}/fen`)
    await expect(
      send(events, resolverOf('203.0.113.7'), () => ['203.0.113.7', '::1']),
    ).rejects.toThrow("resolves to 203.0.113.7 (this server's own address)")
    // And each address this machine really has is refused, whatever its range.
    const own = Object.values(networkInterfaces())
      .flat()
      .map((i) => i!.address)
    for (const address of own)
      await expect(send(events, resolverOf(address))).rejects.toThrow(`resolves to ${address} (`)
  })

  it('with WEBHOOK_ALLOW_PRIVATE=true goes to the address it checked, not to a second lookup', async () => {
    // http: this receiver speaks no TLS (production's https-only rule is the config's).
    const events = {
      ...(await productionEvents('https://hooks.fen.test/fen', { WEBHOOK_ALLOW_PRIVATE: 'true' })),
      webhookUrls: [`http://hooks.fen.test:${port}/fen?token=t`],
    }
    // hooks.fen.test exists in no DNS: only the address resolved here can be reached.
    const resolve = resolverOf('127.0.0.1')
    const before = requests.length
    await send(events, resolve)
    expect(resolve.calls).toEqual(['hooks.fen.test'])
    expect(requests.slice(before)).toEqual([
      {
        url: '/fen?token=t',
        headers: expect.objectContaining({
          host: `hooks.fen.test:${port}`,
          'fen-event-id': '1',
          'content-type': 'application/json',
        }),
      },
    ])
  })
})

describe('over https, connected to the address checked', () => {
  it("the certificate is still checked against the URL's host", async () => {
    // A certificate for hooks.fen.test, trusted here as its own CA.
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const cert = createCertificate({
      publicKey,
      signingKey: privateKey,
      serialNo: '01',
      subject: { CN: 'hooks.fen.test' },
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 3600_000),
    })
    const hosts: string[] = []
    const key = privateKey.export({ type: 'pkcs8', format: 'pem' })
    const tls = createHttpsServer({ key, cert }, (req, res) => {
      hosts.push(req.headers.host!)
      req.resume()
      req.on('end', () => res.writeHead(204).end())
    })
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve))
    const tlsPort = (tls.address() as AddressInfo).port
    const ca = globalAgent.options.ca
    globalAgent.options.ca = cert
    try {
      const events = (url: string) => ({
        webhookUrls: [url],
        webhookSecret: SECRET,
        allowPrivate: true,
        nats: undefined,
      })
      await send(events(`https://hooks.fen.test:${tlsPort}/fen`), resolverOf('127.0.0.1'))
      expect(hosts).toEqual([`hooks.fen.test:${tlsPort}`])
      // Same address, another name: the certificate does not name it.
      await expect(
        send(events(`https://other.fen.test:${tlsPort}/fen`), resolverOf('127.0.0.1')),
      ).rejects.toThrow(/other\.fen\.test/)
      expect(hosts).toHaveLength(1)
    } finally {
      globalAgent.options.ca = ca
      globalAgent.destroy()
      await new Promise((resolve) => tls.close(resolve))
    }
  })
})

describe('through the outbox (WEBHOOK_ALLOW_PRIVATE=false, as in production)', () => {
  it('a webhook to localhost is refused, with a clear lastError, and nothing is sent', async () => {
    const h = await startHarness({
      env: {
        WEBHOOK_URLS: `http://localhost:${port}/fen`,
        WEBHOOK_SECRET: SECRET,
        WEBHOOK_ALLOW_PRIVATE: 'false',
      },
    })
    try {
      const before = connections
      const e = await paidOrderEvent(h, await h.login('o-webhook-destination'))
      await h.dispatch()
      const shown = await h.admin<OutboxEventPage>('GET', '/api/admin/events')
      const deliveries = shown.body.items.find((x) => x.id === e.id)!.deliveries!
      expect(deliveries).toEqual([
        {
          sink: `webhook:http://localhost:${port}/fen`,
          attempts: 1,
          status: 'pending',
          lastError: expect.stringMatching(
            /^refused: localhost resolves to (127\.0\.0\.1|::1) \(loopback\); WEBHOOK_ALLOW_PRIVATE=true allows it$/,
          ),
          nextAttemptAt: expect.any(String),
        },
      ])
      expect(connections).toBe(before)
    } finally {
      await h.close()
    }
  }, 60_000)
})
