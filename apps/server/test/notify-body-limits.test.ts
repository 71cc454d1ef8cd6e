/**
 * What an unauthenticated request to /api/pay/notify may hold: a small body, read within
 * BODY_TIMEOUT_SECONDS, with at most NOTIFY_MAX_IN_FLIGHT bodies being read at once (more → 503,
 * so WeChat retries). A body the sender aborts is its failure, not ours: no 500. Message pushes
 * (/api/wechat/push) have the same bound, with slots of their own.
 */
import { connect, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHarness, type Harness } from './harness'

let h: Harness
beforeAll(async () => {
  h = await startHarness({ env: { BODY_TIMEOUT_SECONDS: '1', NOTIFY_MAX_IN_FLIGHT: '2' } })
})
afterAll(() => h?.close())

const PUSH = '/api/wechat/push'

/** A raw connection that sends the headers of a notification (or push) and `sent` bytes of its body. */
async function stalled(
  contentLength: number,
  sent: number,
  path = '/api/pay/notify',
): Promise<Socket & { reply: Promise<string> }> {
  const url = new URL(h.url)
  const socket = connect(Number(url.port), url.hostname)
  await new Promise<void>((r) => socket.once('connect', () => r()))
  socket.write(
    `POST ${path} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${contentLength}\r\n\r\n` +
      'x'.repeat(sent),
  )
  let text = ''
  socket.on('data', (d: Buffer) => (text += d.toString()))
  const reply = new Promise<string>((resolve) => socket.once('close', () => resolve(text)))
  socket.on('error', () => undefined)
  return Object.assign(socket, { reply })
}

async function metric(series: string): Promise<number> {
  const text = (await h.admin<string>('GET', '/metrics')).body
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line ? Number(line.slice(series.length + 1)) : 0
}

describe('notification bodies', () => {
  it('a body trickling past BODY_TIMEOUT_SECONDS is answered 408 and the connection closed', async () => {
    const s = await stalled(1000, 10)
    const reply = await s.reply
    expect(reply).toMatch(/^HTTP\/1\.1 408/)
  })

  it('a body over 1 MiB → 413', async () => {
    const res = await h.api('POST', '/api/pay/notify', {
      raw: Buffer.alloc(1024 * 1024 + 1, 'x'),
      headers: { 'content-type': 'application/json' },
    })
    expect(res.status).toBe(413)
  })

  it('beyond NOTIFY_MAX_IN_FLIGHT bodies being read at once → 503, and they are counted', async () => {
    const held = [await stalled(1000, 10), await stalled(1000, 10)]
    await h.until(async () => (await metric('fen_notify_bodies_in_flight')) === 2)
    const res = await h.api('POST', '/api/pay/notify', {
      raw: '{}',
      headers: { 'content-type': 'application/json' },
    })
    expect(res.status).toBe(503)
    for (const s of held) s.destroy()
    await h.until(async () => (await metric('fen_notify_bodies_in_flight')) === 0)
    const after = await h.api('POST', '/api/pay/notify', {
      raw: '{}',
      headers: { 'content-type': 'application/json' },
    })
    expect(after.status).not.toBe(503)
  })

  it('a body the sender aborts is not a 500 of ours', async () => {
    const series = 'fen_http_requests_total{method="POST",route="/api/pay/notify",status="400"}'
    const before = await metric(series)
    const s = await stalled(1000, 10)
    await h.until(async () => (await metric('fen_notify_bodies_in_flight')) === 1)
    s.destroy()
    await h.until(async () => (await metric(series)) === before + 1)
    expect(
      await metric('fen_http_requests_total{method="POST",route="/api/pay/notify",status="500"}'),
    ).toBe(0)
  })
})

describe('message push bodies', () => {
  it('beyond NOTIFY_MAX_IN_FLIGHT push bodies being read at once → 503 at once, the body unread', async () => {
    const held = [await stalled(1000, 10, PUSH), await stalled(1000, 10, PUSH)]
    await h.until(async () => (await metric('fen_wechat_push_bodies_in_flight')) === 2)
    // Its body never comes: answered without waiting for it (not 408 when the timeout runs out).
    const third = await stalled(1000, 10, PUSH)
    expect(await third.reply).toMatch(/^HTTP\/1\.1 503/)
    // Payment notifications keep slots of their own.
    const notify = await h.api('POST', '/api/pay/notify', {
      raw: '{}',
      headers: { 'content-type': 'application/json' },
    })
    expect(notify.status).toBe(401)
    for (const s of held) s.destroy()
    await h.until(async () => (await metric('fen_wechat_push_bodies_in_flight')) === 0)
    const after = await h.api('POST', PUSH, {
      raw: '{}',
      headers: { 'content-type': 'application/json' },
    })
    expect(after.status).toBe(401)
  })
})
