/**
 * `pnpm bench:soak` — does the server stay flat over a long run of payment notifications? Its
 * resident memory (RSS) and event-loop delay across SOAK_NOTIFICATIONS (default 100,000; scale it
 * down for a quick check) first deliveries to `POST /api/pay/notify`, on real PostgreSQL.
 *
 * Setup as in `bench:notify` (notify.bench.ts): a fresh database dropped at the end, the sandbox
 * CLI and the server (`apps/server/src/main.ts`, logging at `info`) in processes of their own,
 * PENDING JSAPI orders seeded with the server's schema, one notification per order, signed as
 * WeChat signs them. The run is cut into SLICES (10) slices; each slice's notifications are
 * built just before it (so no signature is older than WeChat's 5-minute window allows) and sent
 * with autocannon over CONCURRENCY (32) connections.
 *
 * Sampling: a probe preloaded into the server process (server-probe.mjs) reports
 * process.memoryUsage() and a monitorEventLoopDelay histogram (10 ms resolution) that is reset
 * as each slice starts, so each row's delay percentiles cover that slice's load only. Rows:
 * start (server up, before the first notification), after each slice, and end (IDLE_MS, 10 s,
 * after the last notification). The outbox column counts order.paid events not yet delivered
 * (the dispatcher in the server works through them at its own pace). Prints figures; asserts
 * nothing.
 */
import { buildPaymentNotifications, OPENID, TOTAL_FEN } from './notifications'
import {
  DATABASE_URL,
  benchPool,
  createBenchDatabase,
  fire,
  insertUser,
  machineLines,
  sandboxKeysFile,
  seedOrders,
  startSandboxCli,
  startServer,
  undeliveredEvents,
  type ProbeSample,
  type RunningServer,
} from './stack'
import { fmt, sleep, stopChild } from './util'

const TOTAL = Number(process.env.SOAK_NOTIFICATIONS ?? 100_000)
const SLICES = Number(process.env.SLICES ?? 10)
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 32)
const IDLE_MS = Number(process.env.IDLE_MS ?? 10_000)

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1)
const ms = (ns: number) => (ns / 1e6).toFixed(1)

interface Row {
  point: string
  sent: number
  sample: ProbeSample
  rps?: number
  p99?: number
  failed?: number
  outbox: number
}

async function main(): Promise<void> {
  const admin = benchPool({ connectionString: DATABASE_URL, max: 1 })
  const header = await machineLines(admin)
  const db = await createBenchDatabase()
  const { keys, file } = await sandboxKeysFile()
  const sandbox = await startSandboxCli(file)
  let server: RunningServer | undefined
  try {
    server = await startServer({ databaseUrl: db.url, sandboxUrl: sandbox.url })
    const userId = await insertUser(db, OPENID)
    const perSlice = Math.ceil(TOTAL / SLICES)
    const orderNos = await seedOrders(db, {
      userId,
      prefix: 'BSK',
      count: SLICES * (perSlice + CONCURRENCY),
      totalFen: TOTAL_FEN,
      prepaid: true,
    })
    await db.pool.query('analyze orders')

    const rows: Row[] = [{ point: 'start', sent: 0, sample: await server.sample(), outbox: 0 }]
    let sent = 0
    const t0 = performance.now()
    for (let slice = 0; slice < SLICES; slice++) {
      const amount = Math.min(perSlice, TOTAL - sent)
      const from = slice * (perSlice + CONCURRENCY)
      const prepared = buildPaymentNotifications(
        keys,
        orderNos.slice(from, from + amount + CONCURRENCY),
      )
      await server.sample(true) // the slice's delay window starts now
      const r = await fire(server.url, prepared, amount, CONCURRENCY)
      sent += amount
      rows.push({
        point: `${Math.round((sent / TOTAL) * 100)}%`,
        sent,
        sample: await server.sample(),
        rps: r.rps,
        p99: r.p99,
        failed: r.errors + r.timeouts + r.non2xx,
        outbox: await undeliveredEvents(db),
      })
    }
    const loadSeconds = (performance.now() - t0) / 1000
    await server.sample(true)
    await sleep(IDLE_MS)
    rows.push({
      point: 'end',
      sent,
      sample: await server.sample(),
      outbox: await undeliveredEvents(db),
    })

    const paid = await db.pool.query<{ n: string }>(
      "select count(*) as n from orders where status = 'PAID'",
    )

    console.log(`# Soak benchmark — ${new Date().toISOString()}`)
    for (const l of header) console.log(l)
    console.log(
      `method: ${fmt(TOTAL)} notifications in ${SLICES} slices, ${CONCURRENCY} connections; ${loadSeconds.toFixed(0)} s from the first slice to the last (signing included); end row ${IDLE_MS / 1000} s after the last\n`,
    )
    console.log(
      '| point | notifications | RSS MB | RSS Δ MB | heap used MB | loop delay p50 / p99 / max ms | req/s | p99 latency ms | failed | outbox undelivered |',
    )
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
    rows.forEach((r, i) => {
      const prev = rows[i - 1]
      const d = r.sample.delay
      console.log(
        `| ${r.point} | ${fmt(r.sent)} | ${mb(r.sample.rss)} | ${prev ? mb(r.sample.rss - prev.sample.rss) : '—'} | ${mb(r.sample.heapUsed)} | ${i === 0 ? '—' : `${ms(d.p50)} / ${ms(d.p99)} / ${ms(d.max)}`} | ${r.rps === undefined ? '—' : fmt(r.rps)} | ${r.p99 ?? '—'} | ${r.failed ?? '—'} | ${fmt(r.outbox)} |`,
      )
    })
    const first = rows[1]!
    const last = rows[rows.length - 2]!
    console.log(
      `\nRSS: ${mb(rows[0]!.sample.rss)} MB at start, ${mb(first.sample.rss)} MB after the first slice, ${mb(last.sample.rss)} MB after the last, ${mb(rows[rows.length - 1]!.sample.rss)} MB at the end`,
    )
    console.log(
      `growth from the first slice to the last: ${mb(last.sample.rss - first.sample.rss)} MB over ${fmt(last.sent - first.sent)} notifications`,
    )
    console.log(
      `orders PAID: ${paid.rows[0]!.n} of ${fmt(TOTAL)} sent; server log lines at error level: ${server.errors.length}`,
    )
    for (const e of server.errors.slice(0, 5)) console.log(`  ${e}`)
  } finally {
    await server?.stop()
    await stopChild(sandbox.child)
    await db.drop()
    await admin.end()
  }
}

main().catch((e) => {
  console.error(e)
  process.exitCode = 1
})
