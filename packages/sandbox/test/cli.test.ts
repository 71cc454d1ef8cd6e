import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { CallRecord } from '../src/calls'
import { generateSandboxKeys, merchantView, type SandboxKeys } from '../src/keys'
import { startSandbox, type RunningSandbox } from '../src/server'
import {
  closedPort,
  control,
  jsonLines,
  merchantClient,
  runCli,
  runToEnd,
  until,
} from './support/cli'

/** `fen-sandbox`'s commands against a sandbox started here (port 0), and its usage errors. */

let sb: RunningSandbox
let keys: SandboxKeys
const dirs: string[] = []

beforeAll(async () => {
  keys = await generateSandboxKeys()
  sb = await startSandbox({ keys, port: 0, refundSettleSeconds: false })
})
afterAll(async () => {
  await sb?.close()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})
afterEach(async () => {
  await control(sb, 'POST', '/__sandbox/reset')
})

/** A keys file in a temporary folder. */
function keysFile(content: object): string {
  const dir = mkdtempSync(join(tmpdir(), 'fen-cli-'))
  dirs.push(dir)
  const file = join(dir, 'keys.json')
  writeFileSync(file, JSON.stringify(content), { mode: 0o600 })
  return file
}

let seq = 0
const orderNo = () => `CLI${process.pid}${Date.now()}${seq++}`

async function nativeOrder(): Promise<string> {
  const no = orderNo()
  await merchantClient(sb).transactions.native({
    description: 'cli',
    out_trade_no: no,
    notify_url: 'http://127.0.0.1:1/notify',
    amount: { total: 100 },
  })
  return no
}

describe('fen-sandbox usage', () => {
  it('--help lists the commands in English, and in 中文 with --lang zh', async () => {
    const en = await runToEnd(['--help'])
    expect(en.code).toBe(0)
    for (const c of ['start', 'listen', 'trigger', 'logs', 'clock', 'faults', 'reset']) {
      expect(en.out).toContain(`  ${c}`)
    }
    expect(en.out).toContain('Exit codes')
    const zh = await runToEnd(['help', 'listen', '--lang', 'zh'])
    expect(zh.code).toBe(0)
    expect(zh.out).toContain('--forward-to')
    expect(zh.out).toContain('转发')
  }, 60_000)

  it('an unknown command or option exits 2 and says so; with --json the error is JSON', async () => {
    const unknown = await runToEnd(['frobnicate'])
    expect(unknown.code).toBe(2)
    expect(unknown.err).toContain('unknown command "frobnicate"')
    const bad = await runToEnd(['trigger', 'payment.success', '--bogus', '--json'])
    expect(bad.code).toBe(2)
    expect(JSON.parse(bad.err)).toEqual({
      error: { code: 'USAGE', message: expect.stringContaining("'--bogus'") },
    })
    expect(bad.out).toBe('')
  }, 60_000)

  it('a --url where nothing listens exits 1, naming the URL', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`
    const human = await runToEnd(['reset', '--url', url])
    expect(human.code).toBe(1)
    expect(human.err).toContain(`cannot reach the sandbox at ${url}`)
    const json = await runToEnd(['clock', '--url', url, '--json'])
    expect(json.code).toBe(1)
    expect(JSON.parse(json.err)).toMatchObject({ error: { code: 'UNREACHABLE' } })
  }, 60_000)
})

describe('fen-sandbox start', () => {
  it('starts with the flags given (port 0, keys file, refunds settled by hand) and prints a ready line', async () => {
    const file = keysFile(keys)
    const cli = runCli([
      'start',
      '--port',
      '0',
      '--keys',
      file,
      '--refund-settle-seconds',
      '0',
      '--time-scale',
      '60',
      '--mode',
      'certificate',
      '--quiet',
      '--json',
    ])
    try {
      await cli.waitFor((s) => s.includes('"event":"ready"'))
      const ready = jsonLines(cli.out())[0]!
      expect(ready).toMatchObject({
        event: 'ready',
        mchid: keys.mchid,
        mode: 'certificate',
        keys: file,
        generated: false,
        timeScale: 60,
        refundSettleSeconds: 0,
      })
      const url = ready.url as string
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      // Same keys as `sb`: the same merchant, on the CLI's sandbox.
      const started = { url, merchant: sb.merchant } as RunningSandbox
      expect(await control(started, 'GET', '/__sandbox/merchant')).toMatchObject({
        platformMode: 'certificate',
      })
      await control(started, 'POST', '/__sandbox/platform', { mode: 'publicKey' })
      const client = merchantClient(started)
      const no = orderNo()
      await client.transactions.native({
        description: 'settle by hand',
        out_trade_no: no,
        notify_url: 'http://127.0.0.1:1/notify',
        amount: { total: 100 },
      })
      await control(started, 'POST', '/__sandbox/pay', { out_trade_no: no })
      await client.refunds.create({
        out_trade_no: no,
        out_refund_no: `${no}R`,
        amount: { refund: 100, total: 100, currency: 'CNY' },
      })
      // A day later (sandbox time) it is still PROCESSING: 0 means by hand only.
      await control(started, 'POST', '/__sandbox/clock', { advanceSeconds: 86_400 })
      expect((await client.refunds.query(`${no}R`)).status).toBe('PROCESSING')
      const settled = await runToEnd([
        'trigger',
        'refund.success',
        '--out-refund-no',
        `${no}R`,
        '--url',
        url,
      ])
      expect(settled.code).toBe(0)
      expect(settled.out).toContain(`refund ${no}R → SUCCESS`)
      expect((await client.refunds.query(`${no}R`)).status).toBe('SUCCESS')
    } finally {
      cli.kill('SIGINT')
    }
    expect(await cli.exited).toBe(0)
    expect(cli.err()).toBe('')
  }, 90_000)

  it('refuses a bad flag value before starting (exit 2)', async () => {
    const r = await runToEnd(['start', '--port', 'eighty'])
    expect(r.code).toBe(2)
    expect(r.err).toContain('--port (or SANDBOX_PORT) must be a number')
    const origin = await runToEnd(['start', '--allowed-origins', 'http://127.0.0.1:10086/shop'])
    expect(origin.code).toBe(2)
    expect(origin.err).toContain('--allowed-origins (or SANDBOX_ALLOWED_ORIGINS)')
    const host = await runToEnd([], { SANDBOX_ALLOWED_HOSTS: '192.168.1.20,not a host' })
    expect(host.code).toBe(2)
    expect(host.err).toContain('--allowed-hosts (or SANDBOX_ALLOWED_HOSTS): "not a host"')
  }, 60_000)
})

describe('fen-sandbox start from SANDBOX_* variables (what pnpm sandbox does)', () => {
  it('listens on SANDBOX_PORT with the SANDBOX_KEYS keys, and stops on SIGTERM', async () => {
    const port = await closedPort()
    const cli = runCli([], {
      SANDBOX_PORT: String(port),
      SANDBOX_KEYS: keysFile(keys),
      SANDBOX_QUIET: '1',
      // What `pnpm dev` passes: the shop's H5 origin (and a LAN name, as for a phone).
      SANDBOX_ALLOWED_ORIGINS: 'http://127.0.0.1:10086, http://localhost:10086',
      SANDBOX_ALLOWED_HOSTS: '192.168.1.20',
    })
    try {
      await cli.waitFor((s) => s.includes('listening on'))
      expect(cli.out()).toContain(`listening on http://127.0.0.1:${port}`)
      expect(cli.out()).toContain(keys.mchid)
      expect(cli.out()).toContain('192.168.1.20')
      const res = await fetch(`http://127.0.0.1:${port}/__sandbox/merchant`)
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ ...merchantView(keys), platformMode: 'publicKey' })
      const merchantFrom = async (origin: string) =>
        (await fetch(`http://127.0.0.1:${port}/__sandbox/merchant`, { headers: { origin } })).status
      expect(await merchantFrom('http://localhost:10086')).toBe(200)
      expect(await merchantFrom('http://evil.example')).toBe(403)
    } finally {
      cli.kill('SIGTERM')
    }
    expect(await cli.exited).toBe(0)
    expect(cli.err()).toBe('')
  }, 60_000)

  it('refuses an incomplete keys file, naming the missing field', async () => {
    const { apiV3Key: _drop, ...partial } = keys
    const r = await runToEnd([], {
      SANDBOX_PORT: String(await closedPort()),
      SANDBOX_KEYS: keysFile(partial),
      SANDBOX_QUIET: '1',
    })
    expect(r.code).toBe(1)
    expect(r.err).toContain('has no apiV3Key')
    expect(r.out).not.toContain('listening on')
  }, 60_000)
})

describe('fen-sandbox trigger', () => {
  it('payment.success pays the order; payment.failed leaves it payable; --json prints the transaction', async () => {
    const failed = await nativeOrder()
    const f = await runToEnd([
      'trigger',
      'payment.failed',
      '--out-trade-no',
      failed,
      '--url',
      sb.url,
    ])
    expect(f.code).toBe(0)
    expect(f.out).toContain('payment failed')
    // A failed attempt is not a state of a JSAPI/Native order (issue 11 B1): it stays NOTPAY.
    expect((await merchantClient(sb).transactions.queryByOutTradeNo(failed)).trade_state).toBe(
      'NOTPAY',
    )

    const paid = await nativeOrder()
    const p = await runToEnd([
      'trigger',
      'payment.success',
      '--out-trade-no',
      paid,
      '--url',
      sb.url,
      '--json',
    ])
    expect(p.code).toBe(0)
    expect(JSON.parse(p.out)).toMatchObject({
      out_trade_no: paid,
      trade_state: 'SUCCESS',
      transaction_id: expect.any(String),
    })
    expect((await merchantClient(sb).transactions.queryByOutTradeNo(paid)).trade_state).toBe(
      'SUCCESS',
    )
  }, 60_000)

  it('an unknown order exits 1 with the sandbox code; a missing flag or event exits 2', async () => {
    const unknown = await runToEnd([
      'trigger',
      'payment.success',
      '--out-trade-no',
      'NOSUCHORDER',
      '--url',
      sb.url,
      '--json',
    ])
    expect(unknown.code).toBe(1)
    expect(JSON.parse(unknown.err)).toMatchObject({ error: { code: 'ORDER_NOT_EXIST' } })
    const missing = await runToEnd(['trigger', 'refund.closed', '--url', sb.url])
    expect(missing.code).toBe(2)
    expect(missing.err).toContain('--out-refund-no')
    const event = await runToEnd(['trigger', 'payment.lost', '--url', sb.url])
    expect(event.code).toBe(2)
    expect(event.err).toContain('unknown event "payment.lost"')
  }, 60_000)
})

describe('fen-sandbox clock, faults, reset', () => {
  it('clock advance 2h moves sandbox time by two hours', async () => {
    const before = await control<{ now: string }>(sb, 'GET', '/__sandbox/clock')
    const r = await runToEnd(['clock', 'advance', '2h', '--url', sb.url, '--json'])
    expect(r.code).toBe(0)
    const after = JSON.parse(r.out) as { now: string; scale: number }
    expect(after.scale).toBe(1)
    expect(Date.parse(after.now) - Date.parse(before.now)).toBeGreaterThanOrEqual(7_200_000)
    // 2h plus the real time the CLI took, which is far less than an hour.
    expect(Date.parse(after.now) - Date.parse(before.now)).toBeLessThan(10_800_000)
    const bad = await runToEnd(['clock', 'advance', 'soon', '--url', sb.url])
    expect(bad.code).toBe(2)
    expect(bad.err).toContain('not a duration')
  }, 60_000)

  it('faults add arms a fault the next calls meet; faults list shows it; faults clear clears it', async () => {
    const add = await runToEnd([
      'faults',
      'add',
      'error500',
      '/v3/pay/transactions/out-trade-no',
      '--count',
      '2',
      '--url',
      sb.url,
      '--json',
    ])
    expect(add.code).toBe(0)
    expect(JSON.parse(add.out)).toEqual({
      armed: [{ target: '/v3/pay/transactions/out-trade-no', kind: 'error500', remaining: 2 }],
    })
    const drop = await runToEnd(['faults', 'add', 'drop', '--url', sb.url])
    expect(drop.code).toBe(0)
    expect(drop.out).toContain('drop on notifications')
    // The fault answers before authentication: a bare GET meets it.
    const hit = await fetch(`${sb.url}/v3/pay/transactions/out-trade-no/X?mchid=${keys.mchid}`)
    expect(hit.status).toBe(500)
    const list = await runToEnd(['faults', 'list', '--url', sb.url])
    expect(list.out).toContain('error500 on /v3/pay/transactions/out-trade-no  (1 left)')
    const probe = await runToEnd(['faults', 'add', 'probe', '--url', sb.url])
    expect(probe.code).toBe(2)
    const clear = await runToEnd(['faults', 'clear', '--url', sb.url])
    expect(clear.code).toBe(0)
    expect(await control(sb, 'GET', '/__sandbox/faults')).toEqual([])
  }, 90_000)

  it('reset forgets the orders', async () => {
    const no = await nativeOrder()
    expect(sb.sandbox.store.orders.has(no)).toBe(true)
    const r = await runToEnd(['reset', '--url', sb.url, '--json'])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.out)).toEqual({ reset: true })
    expect(sb.sandbox.store.orders.size).toBe(0)
  }, 60_000)
})

describe('fen-sandbox logs', () => {
  it('--no-follow prints the past calls with status, ms and both bodies', async () => {
    const no = await nativeOrder()
    const human = await runToEnd(['logs', '--no-follow', '--url', sb.url])
    expect(human.code).toBe(0)
    expect(human.out).toMatch(
      new RegExp(`POST {2}/v3/pay/transactions/native {2}200 {2}\\d+ ms {2}out_trade_no=${no}`),
    )
    expect(human.out).toContain(`  → {"description":"cli"`)
    expect(human.out).toContain('  ← {"code_url":')
    const json = await runToEnd(['logs', '--no-follow', '--json', '--url', sb.url])
    const [call] = jsonLines(json.out) as unknown as CallRecord[]
    expect(call).toMatchObject({
      seq: expect.any(Number),
      method: 'POST',
      path: '/v3/pay/transactions/native',
      status: 200,
      out_trade_no: no,
      ms: expect.any(Number),
    })
    expect(JSON.parse(call!.request_body!)).toMatchObject({ out_trade_no: no })
    expect(JSON.parse(call!.response_body!)).toHaveProperty('code_url')
  }, 60_000)

  it('follows: a call made while it runs is printed once answered; Ctrl-C ends it with 0', async () => {
    const earlier = await nativeOrder()
    const cli = runCli(['logs', '--url', sb.url, '--json', '--out-trade-no', earlier])
    try {
      await cli.waitFor((s) => s.includes(earlier))
      // Once the past is printed, a new call about the same order appears.
      const client = merchantClient(sb)
      await until(
        async () => {
          await client.transactions.queryByOutTradeNo(earlier)
          return cli.out()
        },
        (s) => s.includes(`/v3/pay/transactions/out-trade-no/${earlier}`),
      )
      const other = await nativeOrder()
      await client.transactions.queryByOutTradeNo(earlier)
      const lines = jsonLines(
        await cli.waitFor((s) => s.split(`out-trade-no/${earlier}`).length > 2),
      ) as unknown as CallRecord[]
      expect(lines[0]).toMatchObject({ path: '/v3/pay/transactions/native', out_trade_no: earlier })
      expect(
        lines.slice(1).every((c) => c.path === `/v3/pay/transactions/out-trade-no/${earlier}`),
      ).toBe(true)
      expect(lines.some((c) => c.out_trade_no === other)).toBe(false)
      expect(new Set(lines.map((c) => c.seq)).size).toBe(lines.length)
    } finally {
      cli.kill('SIGINT')
    }
    expect(await cli.exited).toBe(0)
  }, 90_000)
})
