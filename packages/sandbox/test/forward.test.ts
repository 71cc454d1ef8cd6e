import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { DeliveryEvent } from '../src/notifier'
import type { NotificationRecord } from '../src/notifier'
import { startSandbox, type RunningSandbox } from '../src/server'
import {
  closedPort,
  control,
  jsonLines,
  listener,
  merchantClient,
  runCli,
  until,
} from './support/cli'

/**
 * `fen-sandbox listen --forward-to`: every notification attempt also goes to the forward, whatever
 * `notify_url` the order named; an attempt is delivered when either copy is accepted.
 */

let sb: RunningSandbox
/** Where the orders' notify_url points: nothing listens there (a shop's public domain, offline). */
let unreachable: string

beforeAll(async () => {
  sb = await startSandbox({ port: 0 })
  unreachable = `http://127.0.0.1:${await closedPort()}/notify`
})
afterAll(async () => {
  await sb?.close()
})
afterEach(async () => {
  await control(sb, 'POST', '/__sandbox/reset')
})

let seq = 0
async function paidOrder(): Promise<string> {
  const no = `FWD${process.pid}${Date.now()}${seq++}`
  await merchantClient(sb).transactions.native({
    description: 'forward',
    out_trade_no: no,
    notify_url: unreachable,
    amount: { total: 100 },
  })
  await control(sb, 'POST', '/__sandbox/pay', { out_trade_no: no })
  return no
}

const notification = async (no: string) =>
  (await control<NotificationRecord[]>(sb, 'GET', `/__sandbox/notifications?out_trade_no=${no}`))[0]

describe('fen-sandbox listen --forward-to', () => {
  it('forwards a real signed notification, prints it and the answer, and unregisters on Ctrl-C', async () => {
    const shop = await listener(() => 204)
    const cli = runCli(['listen', '--forward-to', shop.url, '--url', sb.url])
    try {
      await cli.waitFor((s) => s.includes('Ready.'))
      expect(cli.out()).toContain(`Forwarding notifications to ${shop.url}`)
      expect(await control(sb, 'GET', '/__sandbox/forwards')).toEqual([
        { id: expect.any(String), url: shop.url },
      ])
      const no = await paidOrder()
      await until(
        () => shop.received.length,
        (n) => n === 1,
      )
      // What reached the shop verifies and decrypts with the merchant's SDK.
      const { headers, body } = shop.received[0]!
      const event = await merchantClient(sb).parseNotification(
        headers as Record<string, string>,
        body,
      )
      expect(event.eventType).toBe('TRANSACTION.SUCCESS')
      expect(event.type === 'transaction' && event.transaction.out_trade_no).toBe(no)

      const out = await cli.waitFor((s) => s.includes('<--'))
      expect(out).toContain(`--> TRANSACTION.SUCCESS  out_trade_no=${no}`)
      expect(out).toContain(`<-- [204] POST ${shop.url}`)
      expect(out).toContain('delivered')
      // The unreachable notify_url failed; the forward's 204 delivered it: no retries follow.
      const record = await until(
        () => notification(no),
        (n) => n?.status === 'delivered',
      )
      expect(record!.attempts.map((a) => [a.forwarded_to, a.ok])).toEqual(
        expect.arrayContaining([
          [undefined, false],
          [shop.url, true],
        ]),
      )
      expect(record!.attempts).toHaveLength(2)
    } finally {
      cli.kill('SIGINT')
      await shop.close()
    }
    expect(await cli.exited).toBe(0)
    expect(cli.out()).toContain('unregistered')
    await until(
      () => control<unknown[]>(sb, 'GET', '/__sandbox/forwards'),
      (f) => f.length === 0,
    )
  }, 90_000)

  it('a forward that refuses sees every retry on the schedule; --json prints each attempt', async () => {
    let answers = 0
    // 500 to the first attempt, 204 to the next.
    const shop = await listener(() => (answers++ === 0 ? 500 : 204))
    const cli = runCli(['listen', '--forward-to', shop.url, '--url', sb.url, '--json'])
    try {
      await cli.waitFor((s) => s.includes('"event":"ready"'))
      const ready = jsonLines(cli.out())[0] as { forward: { id: string; url: string } }
      expect(ready.forward.url).toBe(shop.url)
      const no = await paidOrder()
      const first = await until(
        () => notification(no),
        (n) => n?.next_attempt_at !== undefined && n.attempts.length === 2,
      )
      expect(first!.status).toBe('pending')
      // The retry falls due 15 s (sandbox time) after the first attempt.
      await control(sb, 'POST', '/__sandbox/clock', { advanceSeconds: 15 })
      await until(
        () => notification(no),
        (n) => n?.status === 'delivered',
      )
      const out = await cli.waitFor((s) => s.split('"event":"delivery"').length === 3)
      const deliveries = jsonLines(out).filter((l) => l.event === 'delivery') as unknown as (
        DeliveryEvent | { event: string }
      )[]
      expect(deliveries).toEqual([
        expect.objectContaining({
          event_type: 'TRANSACTION.SUCCESS',
          out_trade_no: no,
          url: shop.url,
          forward: ready.forward.id,
          attempt: expect.objectContaining({ status: 500, ok: false, forwarded_to: shop.url }),
        }),
        expect.objectContaining({
          forward: ready.forward.id,
          attempt: expect.objectContaining({ status: 204, ok: true }),
        }),
      ])
      expect(shop.received).toHaveLength(2)
      // The same notification both times (same id), each attempt signed afresh.
      const ids = shop.received.map((r) => (JSON.parse(r.body) as { id: string }).id)
      expect(ids[0]).toBe(ids[1])
      expect(shop.received[0]!.headers['wechatpay-nonce']).not.toBe(
        shop.received[1]!.headers['wechatpay-nonce'],
      )
    } finally {
      cli.kill('SIGINT')
      await shop.close()
    }
    expect(await cli.exited).toBe(0)
  }, 90_000)

  it('the event stream refuses a forward that is not an http(s) URL', async () => {
    const res = await fetch(`${sb.url}/__sandbox/events?forward_to=ftp://example.com/`)
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ code: 'INVALID_INPUT' })
    expect(await control(sb, 'GET', '/__sandbox/forwards')).toEqual([])
  })
})
