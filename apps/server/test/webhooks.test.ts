/**
 * Signed webhooks (issue 12): each outbox event is POSTed to each WEBHOOK_URLS receiver with
 * `Fen-Signature` and `Fen-Event-Id`, retried with backoff (the server's clock is moved with
 * `advance`, runs are `dispatch()`), given up after a day, and re-sent by redeliver.
 */
import { createHmac } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ErrorBody, OutboxEvent, OutboxEventPage } from '@fen/shared'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SINK_BACKOFF_S } from '../src/services/outbox'
import { signWebhook, verifyWebhookSignature } from '../src/webhooks'
import { startHarness, type Harness } from './harness'
import { paidOrderEvent } from './support/paid-order'

const SECRET = 'whsec-test-0123456789abcdefghijklmnop'
/** The receiver's own token, in its URL's query string: never shown or logged by Fen. */
const RECEIVER_TOKEN = 'rcv-QueryTok3n-0123'

interface Received {
  url: string
  headers: IncomingHttpHeaders
  body: string
  answered: number
}

let h: Harness
let receiver: Server
let shopper: string
const received: Received[] = []
/** How many of the next requests the receiver answers 500. */
let failNext = 0
let receiverUrl: string
/** The receiver as the admin API and the logs name it: no query string. */
let receiverSink: string
/** Every line the server logged in this suite. */
const logs: string[] = []

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const answered = failNext > 0 ? 500 : 200
      if (failNext > 0) failNext--
      received.push({
        url: req.url!,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
        answered,
      })
      res.writeHead(answered).end()
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`
  receiverUrl = `${origin}/fen/events?token=${RECEIVER_TOKEN}`
  receiverSink = `webhook:${origin}/fen/events?…`
  h = await startHarness({ env: { WEBHOOK_URLS: receiverUrl, WEBHOOK_SECRET: SECRET } })
  h.services.ctx.logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(line) })
  shopper = await h.login('o-webhook-shopper')
}, 60_000)
afterAll(async () => {
  await h?.close()
  await new Promise((resolve) => receiver.close(resolve))
})

const of = (id: number) => received.filter((r) => r.headers['fen-event-id'] === String(id))

async function event(id: number): Promise<OutboxEvent> {
  const res = await h.admin<OutboxEventPage>('GET', '/api/admin/events?limit=200')
  return res.body.items.find((e) => e.id === id)!
}

describe('webhook delivery', () => {
  it('a receiver failing 3 times gets the event on the 4th attempt, validly signed', async () => {
    const e = await paidOrderEvent(h, shopper)
    failNext = 3
    await h.dispatch()
    expect(of(e.id).map((r) => r.answered)).toEqual([500])
    const after1 = (await event(e.id)).deliveries
    expect(after1).toEqual([
      {
        sink: receiverSink,
        attempts: 1,
        status: 'pending',
        lastError: 'HTTP 500',
        nextAttemptAt: expect.any(String),
      },
    ])
    expect(new Date(after1![0]!.nextAttemptAt!).getTime() - h.now().getTime()).toBeGreaterThan(
      (SINK_BACKOFF_S[0]! - 5) * 1000,
    )

    // Not due yet: a run now sends nothing.
    await h.dispatch()
    expect(of(e.id)).toHaveLength(1)
    for (const delay of SINK_BACKOFF_S.slice(0, 3)) {
      h.advance(delay)
      await h.dispatch()
    }
    expect(of(e.id).map((r) => r.answered)).toEqual([500, 500, 500, 200])

    const last = of(e.id)[3]!
    expect(last.headers['content-type']).toBe('application/json')
    // Verified here by hand, as a receiver in any language would.
    const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(last.headers['fen-signature']))
    expect(m).not.toBeNull()
    const t = Number(m![1])
    expect(Math.abs(t - h.now().getTime() / 1000)).toBeLessThan(60)
    expect(m![2]).toBe(createHmac('sha256', SECRET).update(`${t}.${last.body}`).digest('hex'))
    expect(
      verifyWebhookSignature(last.body, String(last.headers['fen-signature']), SECRET, {
        now: h.now(),
      }),
    ).toBe(true)
    expect(JSON.parse(last.body)).toEqual({
      id: e.id,
      type: 'order.paid',
      orderNo: e.orderNo,
      createdAt: e.createdAt,
      payload: expect.objectContaining({}),
    })

    expect((await event(e.id)).deliveries).toEqual([
      { sink: receiverSink, attempts: 4, status: 'delivered', lastError: 'HTTP 500' },
    ])
    // Delivered: later runs send nothing more.
    h.advance(3600)
    await h.dispatch()
    expect(of(e.id)).toHaveLength(4)
  })

  it('redeliver re-sends a delivered event; unknown and malformed ids are refused', async () => {
    const e = await paidOrderEvent(h, shopper)
    await h.dispatch()
    expect(of(e.id)).toHaveLength(1)
    const res = await h.admin('POST', `/api/admin/events/${e.id}/redeliver`)
    expect(res).toMatchObject({ status: 202, body: { id: e.id } })
    expect((await event(e.id)).deliveries![0]).toMatchObject({ status: 'pending', attempts: 0 })
    await h.dispatch()
    expect(of(e.id).map((r) => r.answered)).toEqual([200, 200])
    expect(of(e.id)[1]!.body).toBe(of(e.id)[0]!.body)
    expect((await event(e.id)).deliveries![0]).toMatchObject({ status: 'delivered', attempts: 1 })

    const missing = await h.admin<ErrorBody>('POST', '/api/admin/events/999999/redeliver')
    expect({ status: missing.status, code: missing.body.code }).toEqual({
      status: 404,
      code: 'EVENT_NOT_FOUND',
    })
    const bad = await h.admin<ErrorBody>('POST', '/api/admin/events/abc/redeliver')
    expect({ status: bad.status, code: bad.body.code }).toEqual({
      status: 400,
      code: 'INVALID_INPUT',
    })
  })

  it('a receiver down for a day: given up as failed, and redeliver starts over', async () => {
    const e = await paidOrderEvent(h, shopper)
    failNext = 1000
    await h.dispatch()
    for (let i = 0; i < 30 && (await event(e.id)).deliveries![0]!.status === 'pending'; i++) {
      h.advance(SINK_BACKOFF_S.at(-1)!)
      await h.dispatch()
    }
    const gaveUp = (await event(e.id)).deliveries![0]!
    expect(gaveUp).toEqual({
      sink: receiverSink,
      attempts: of(e.id).length,
      status: 'failed',
      lastError: 'HTTP 500',
    })
    // Attempts spread over a day, not hammered: fewer than a dozen.
    expect(gaveUp.attempts).toBeGreaterThan(3)
    expect(gaveUp.attempts).toBeLessThan(12)
    h.advance(86_400)
    await h.dispatch()
    expect(of(e.id)).toHaveLength(gaveUp.attempts)

    failNext = 0
    expect((await h.admin('POST', `/api/admin/events/${e.id}/redeliver`)).status).toBe(202)
    await h.dispatch()
    expect(of(e.id).at(-1)!.answered).toBe(200)
    expect((await event(e.id)).deliveries![0]).toMatchObject({ status: 'delivered', attempts: 1 })
  })
})

describe("the receiver's URL", () => {
  it('is shown and logged without its query string (a receiver token)', async () => {
    // The suites above moved the clock on by days: a new login.
    const e = await paidOrderEvent(h, await h.login('o-webhook-url'))
    failNext = 1
    await h.dispatch()
    expect(of(e.id)).toHaveLength(1)
    // The token did go to the receiver: only what Fen shows and logs is without it.
    expect(of(e.id)[0]!.url).toBe(`/fen/events?token=${RECEIVER_TOKEN}`)
    const shown = await h.admin<OutboxEventPage>('GET', '/api/admin/events?limit=200')
    const order = await h.admin('GET', `/api/admin/orders/${e.orderNo}`)
    const warned = logs.filter((l) => l.includes('event delivery to a sink failed'))
    expect(warned.length).toBeGreaterThan(0)
    for (const text of [JSON.stringify(shown.body), JSON.stringify(order.body), ...logs])
      expect(text).not.toContain(RECEIVER_TOKEN)
    expect(JSON.stringify(shown.body)).toContain(JSON.stringify(receiverSink))
    expect(JSON.parse(warned.at(-1)!)).toMatchObject({ sink: receiverSink, error: 'HTTP 500' })
  })
})

describe('verifyWebhookSignature', () => {
  const body = '{"id":1,"type":"order.paid"}'
  const at = new Date('2026-12-03T10:00:00Z')
  const header = signWebhook(body, SECRET, at)

  it('accepts the signature of the exact body within the tolerance', () => {
    expect(verifyWebhookSignature(body, header, SECRET, { now: at })).toBe(true)
    expect(verifyWebhookSignature(Buffer.from(body), header, SECRET, { now: at })).toBe(true)
    const later = new Date(at.getTime() + 299_000)
    expect(verifyWebhookSignature(body, header, SECRET, { now: later })).toBe(true)
    // A rotation: an old and a new signature side by side.
    const both = `${header},v1=${'0'.repeat(64)}`
    expect(verifyWebhookSignature(body, both, SECRET, { now: at })).toBe(true)
  })

  it('refuses another body, secret or time, and malformed headers', () => {
    expect(verifyWebhookSignature(`${body} `, header, SECRET, { now: at })).toBe(false)
    expect(verifyWebhookSignature(body, header, `${SECRET}x`, { now: at })).toBe(false)
    const replay = new Date(at.getTime() + 301_000)
    expect(verifyWebhookSignature(body, header, SECRET, { now: replay })).toBe(false)
    for (const bad of [undefined, '', 't=abc,v1=00', header.replace(/,v1=.*/, ''), 'v1=00'])
      expect(verifyWebhookSignature(body, bad, SECRET, { now: at })).toBe(false)
  })
})
