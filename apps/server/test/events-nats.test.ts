/**
 * Outbox events to NATS JetStream (issue 12), against the real server at 127.0.0.1:4222: the
 * server creates its stream when missing and publishes each event to `<prefix>.<type>` with
 * `Nats-Msg-Id: <event id>`, so a publish retried after a lost ack is stored once. Each run uses a
 * stream and subjects of its own (two streams may not share subjects) and deletes the stream.
 */
import { randomBytes } from 'node:crypto'
import { connect, type JetStreamManager, type NatsConnection } from 'nats'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createSinks, type EventSinks } from '../src/events/sinks'
import { createLogger } from '../src/logger'
import { startHarness, type Harness } from './harness'
import { paidOrderEvent } from './support/paid-order'

const NATS_URL = 'nats://127.0.0.1:4222'
const run = randomBytes(4).toString('hex')
const STREAM = `FEN_TEST_${run}`
const PREFIX = `fen.test${run}.events`
/** The stream of the TLS test: never made, unless an event went out in clear. */
const TLS_STREAM = `FEN_TEST_TLS_${run}`

let h: Harness
let nc: NatsConnection
let jsm: JetStreamManager

beforeAll(async () => {
  nc = await connect({ servers: NATS_URL, timeout: 5000 })
  jsm = await nc.jetstreamManager()
  h = await startHarness({
    env: {
      EVENTS_NATS_URL: NATS_URL,
      EVENTS_NATS_STREAM: STREAM,
      EVENTS_NATS_SUBJECT_PREFIX: PREFIX,
    },
  })
}, 60_000)
afterAll(async () => {
  await h?.close()
  await jsm?.streams.delete(STREAM).catch(() => undefined)
  await jsm?.streams.delete(TLS_STREAM).catch(() => undefined)
  await nc?.close()
})

it('each event is stored once on the stream, even when its publish is retried', async () => {
  const shopper = await h.login('o-nats-shopper')
  // The first publish reaches the stream but its ack is "lost": the server retries it later.
  const sinks = h.services.ctx.sinks as EventSinks
  const send = sinks.send.bind(sinks)
  let lose = 1
  sinks.send = async (sink, event, at) => {
    await send(sink, event, at)
    if (lose-- > 0) throw new Error('ack lost')
  }
  const first = await paidOrderEvent(h, shopper)
  const second = await paidOrderEvent(h, shopper)

  await h.dispatch()
  expect((await jsm.streams.info(STREAM)).config.subjects).toEqual([`${PREFIX}.>`])
  const deliveries = async () =>
    (
      await h.admin<{
        items: { id: number; deliveries?: { status: string; attempts: number }[] }[]
      }>('GET', '/api/admin/events')
    ).body.items.filter((e) => e.id === first.id || e.id === second.id)
  // One of the two publishes "failed" and is pending a retry; the other is delivered.
  expect((await deliveries()).map((e) => e.deliveries![0]!.status).sort()).toEqual([
    'delivered',
    'pending',
  ])

  h.advance(10)
  await h.dispatch()
  expect((await deliveries()).map((e) => e.deliveries![0])).toEqual([
    expect.objectContaining({ status: 'delivered' }),
    expect.objectContaining({ status: 'delivered' }),
  ])

  const state = (await jsm.streams.info(STREAM)).state
  expect(state.messages).toBe(2)
  const stored = await Promise.all(
    [state.first_seq, state.last_seq].map((seq) => jsm.streams.getMessage(STREAM, { seq })),
  )
  expect(stored.map((m) => m.header.get('Nats-Msg-Id')).sort()).toEqual(
    [String(first.id), String(second.id)].sort(),
  )
  for (const m of stored) {
    expect(m.subject).toBe(`${PREFIX}.order.paid`)
    const body = m.json<{ id: number; type: string; orderNo: string }>()
    expect(String(body.id)).toBe(m.header.get('Nats-Msg-Id'))
    expect(body.type).toBe('order.paid')
  }
})

it('a tls:// URL is TLS or nothing: a server offering no TLS gets no event', async () => {
  // The server at 127.0.0.1:4222 speaks plain NATS (as one in the middle would).
  const sinks = createSinks(
    {
      webhookUrls: [],
      webhookSecret: undefined,
      allowPrivate: false,
      nats: {
        url: 'tls://127.0.0.1:4222',
        stream: TLS_STREAM,
        subjectPrefix: `fen.test${run}tls.events`,
      },
    },
    createLogger('silent'),
  )!
  const event = { id: 1, type: 'order.paid', orderNo: 'FEN1', createdAt: '', payload: {} }
  try {
    await expect(sinks.send('nats', event, new Date())).rejects.toThrow(/tls/i)
  } finally {
    await sinks.close()
  }
  const streams = await jsm.streams.names().next()
  expect(streams).not.toContain(TLS_STREAM)
})
