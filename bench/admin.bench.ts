/**
 * `pnpm bench:admin` — how fast the operator console's lists answer with 100k orders: each admin
 * list endpoint's p50/p99 latency, first page and a deep cursor page, and each order filter.
 *
 * Setup: a fresh database (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test; dropped
 * at the end) migrated with the server's migrations; the sandbox CLI (the server's merchant
 * settings) and Fen's server (`apps/server/src/main.ts` under tsx, LOG_LEVEL warn) each in a
 * process of its own. ORDERS (100,000) orders of USERS (10,000) shoppers are written by
 * PostgreSQL itself (`insert … select from generate_series`: seconds, not minutes), created over the
 * last DAYS (30) days at millisecond times as the app writes them, in a shop's mix of statuses;
 * one line each, a refund for each refunded order, an `order.paid` event for each paid one. Then
 * ANALYZE, as autovacuum would after a load.
 *
 * Each case: WARMUP (20) requests, then REQUESTS (200) one after another on one keep-alive
 * connection (latency, not throughput: an operator clicks one page at a time). Prints figures;
 * asserts nothing.
 */
import { performance } from 'node:perf_hooks'
import { encodeIdCursor, encodeTimeCursor } from '../apps/server/src/services/cursor'
import {
  ADMIN_TOKEN,
  benchPool,
  createBenchDatabase,
  DATABASE_URL,
  machineLines,
  sandboxKeysFile,
  startSandboxCli,
  startServer,
  type Pool,
} from './stack'
import { fmt, pct, stopChild } from './util'

const ORDERS = Number(process.env.ORDERS ?? 100_000)
const USERS = Number(process.env.USERS ?? 10_000)
const DAYS = Number(process.env.DAYS ?? 30)
const WARMUP = Number(process.env.WARMUP ?? 20)
const REQUESTS = Number(process.env.REQUESTS ?? 200)

/** Beijing day of an instant, YYYY-MM-DD. */
const beijingDay = (at: Date) => new Date(at.getTime() + 8 * 3_600_000).toISOString().slice(0, 10)

async function main(): Promise<void> {
  const admin = benchPool({ connectionString: DATABASE_URL, max: 2 })
  const header = await machineLines(admin)
  const db = await createBenchDatabase()
  const { file } = await sandboxKeysFile()
  const sandbox = await startSandboxCli(file)
  try {
    const seeded = performance.now()
    await seed(db.pool)
    const seedSeconds = (performance.now() - seeded) / 1000
    const server = await startServer({
      databaseUrl: db.url,
      sandboxUrl: sandbox.url,
      env: { LOG_LEVEL: 'warn' },
    })
    try {
      const cases = await buildCases(db.pool)
      const rows: string[][] = []
      for (const c of cases) {
        const t = await measure(server.url, c.path)
        rows.push([c.name, fmt(t.items), fmt(t.p50, 1), fmt(t.p99, 1), fmt(t.max, 1)])
      }
      print(header, seedSeconds, rows)
      if (server.errors.length) console.log(`server errors:\n${server.errors.join('\n')}`)
    } finally {
      await server.stop()
    }
  } finally {
    await stopChild(sandbox.child)
    await db.drop()
    await admin.end()
  }
}

/** 100k orders and what hangs off them, written by PostgreSQL in a handful of statements. */
async function seed(pool: Pool): Promise<void> {
  await pool.query(
    `insert into users (openid, session_key)
     select 'oBench' || substr(md5(i::text), 1, 22), 'fen-bench-session-key'
     from generate_series(1, $1::int) i`,
    [USERS],
  )
  // Statuses by share: 5% PENDING, 10% CLOSED, 30% PAID, 30% SHIPPED, 20% COMPLETED, 3% REFUNDED,
  // 2% PARTIALLY_REFUNDED. Times to the millisecond, spread over DAYS days back from now.
  await pool.query(
    `insert into orders (order_no, user_id, status, total_fen, refunded_fen, api_version, channel,
                         transaction_id, created_at, expires_at, paid_at)
     select 'FEN' || lpad(i::text, 22, '0'),
            1 + (i * 7919) % $2::int,
            s.status,
            5900,
            case s.status when 'REFUNDED' then 5900 when 'PARTIALLY_REFUNDED' then 1000 else 0 end,
            'v3',
            case when s.status in ('PENDING', 'CLOSED') then null else 'jsapi' end,
            case when s.status in ('PENDING', 'CLOSED') then null else 'TX' || lpad(i::text, 26, '0') end,
            t.at,
            t.at + interval '15 minutes',
            case when s.status in ('PENDING', 'CLOSED') then null else t.at + interval '1 minute' end
     from generate_series(1, $1::int) i
     cross join lateral (
       select date_trunc('milliseconds', now() - ($3::int * interval '1 day') * (1 - i::float8 / $1::int)) as at
     ) t
     cross join lateral (
       select case
         when i % 100 < 5 then 'PENDING' when i % 100 < 15 then 'CLOSED'
         when i % 100 < 45 then 'PAID' when i % 100 < 75 then 'SHIPPED'
         when i % 100 < 95 then 'COMPLETED' when i % 100 < 98 then 'REFUNDED'
         else 'PARTIALLY_REFUNDED' end as status
     ) s`,
    [ORDERS, USERS, DAYS],
  )
  await pool.query(
    `insert into order_items (order_no, product_id, title, unit_price_fen, quantity)
     select order_no, 1, 'Fen 压测商品', 5900, 1 from orders`,
  )
  await pool.query(
    `insert into payments (transaction_id, order_no, amount_fen, paid_at, source, created_at)
     select transaction_id, order_no, total_fen, paid_at, 'notify', paid_at
     from orders where transaction_id is not null`,
  )
  await pool.query(
    `insert into refunds (out_refund_no, order_no, amount_fen, reason, status, refund_id, created_at, settled_at)
     select order_no || '-R1', order_no, refunded_fen, '压测退款', 'SUCCESS', 'RF' || order_no,
            paid_at + interval '1 hour', paid_at + interval '2 hours'
     from orders where refunded_fen > 0`,
  )
  await pool.query(
    `insert into outbox_events (type, order_no, dedupe_key, payload, created_at, delivered_at, next_attempt_at)
     select 'order.paid', order_no, order_no, '{}'::jsonb, paid_at, paid_at, paid_at
     from orders where paid_at is not null order by paid_at`,
  )
  await pool.query('analyze')
}

interface Case {
  name: string
  path: string
}

/** The endpoints and filters to time; deep pages start from a cursor 90% of the way down. */
async function buildCases(pool: Pool): Promise<Case[]> {
  const deepOrder = await pool.query<{ created_at: Date; order_no: string }>(
    'select created_at, order_no from orders order by created_at desc, order_no desc offset $1 limit 1',
    [Math.floor(ORDERS * 0.9)],
  )
  const deepPaid = await pool.query<{ created_at: Date; order_no: string }>(
    `select created_at, order_no from orders where status = 'PAID'
     order by created_at desc, order_no desc offset $1 limit 1`,
    [Math.floor(ORDERS * 0.3 * 0.9)],
  )
  const deepEvent = await pool.query<{ id: string }>(
    'select id from outbox_events order by id desc offset $1 limit 1',
    [Math.floor(ORDERS * 0.85 * 0.9)],
  )
  const deepRefund = await pool.query<{ created_at: Date; out_refund_no: string }>(
    'select created_at, out_refund_no from refunds order by created_at desc, out_refund_no desc offset $1 limit 1',
    [Math.floor(ORDERS * 0.05 * 0.9)],
  )
  const sample = await pool.query<{ order_no: string; openid: string }>(
    `select o.order_no, u.openid from orders o join users u on u.id = o.user_id
     order by o.created_at offset $1 limit 1`,
    [Math.floor(ORDERS / 2)],
  )
  const s = sample.rows[0]!
  const day = beijingDay(new Date(Date.now() - 10 * 86_400_000))
  const week = beijingDay(new Date(Date.now() - 16 * 86_400_000))
  const o = deepOrder.rows[0]!
  const p = deepPaid.rows[0]!
  const r = deepRefund.rows[0]!
  return [
    { name: 'orders: first page (50)', path: '/api/admin/orders' },
    { name: 'orders: first page (200)', path: '/api/admin/orders?limit=200' },
    {
      name: 'orders: deep page (cursor at 90%)',
      path: `/api/admin/orders?cursor=${encodeTimeCursor(o.created_at, o.order_no)}`,
    },
    { name: 'orders: status=PAID', path: '/api/admin/orders?status=PAID' },
    {
      name: 'orders: status=PAID, deep page',
      path: `/api/admin/orders?status=PAID&cursor=${encodeTimeCursor(p.created_at, p.order_no)}`,
    },
    { name: 'orders: status=PENDING (5%)', path: '/api/admin/orders?status=PENDING' },
    { name: 'orders: one Beijing day', path: `/api/admin/orders?from=${day}&to=${day}` },
    {
      name: 'orders: a week, status=SHIPPED',
      path: `/api/admin/orders?from=${week}&to=${day}&status=SHIPPED`,
    },
    { name: 'orders: orderNo', path: `/api/admin/orders?orderNo=${s.order_no}` },
    {
      name: 'orders: openidSuffix (6 chars)',
      path: `/api/admin/orders?openidSuffix=${s.openid.slice(-6)}`,
    },
    { name: 'events: first page', path: '/api/admin/events' },
    {
      name: 'events: deep page (cursor at 90%)',
      path: `/api/admin/events?cursor=${encodeIdCursor(Number(deepEvent.rows[0]!.id))}`,
    },
    { name: 'refunds: first page', path: '/api/admin/refunds' },
    {
      name: 'refunds: deep page (cursor at 90%)',
      path: `/api/admin/refunds?cursor=${encodeTimeCursor(r.created_at, r.out_refund_no)}`,
    },
    { name: 'refunds: status=SUCCESS', path: '/api/admin/refunds?status=SUCCESS' },
    { name: 'summary', path: '/api/admin/summary' },
  ]
}

/** Latency of `path`, one request at a time; and how many items its page had. */
async function measure(url: string, path: string) {
  const times: number[] = []
  let items = 0
  for (let i = 0; i < WARMUP + REQUESTS; i++) {
    const started = performance.now()
    const res = await fetch(`${url}${path}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    })
    const body = (await res.json()) as { items?: unknown[] }
    const ms = performance.now() - started
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${JSON.stringify(body)}`)
    if (i >= WARMUP) times.push(ms)
    items = body.items?.length ?? 1
  }
  return { items, p50: pct(times, 0.5), p99: pct(times, 0.99), max: Math.max(...times) }
}

function print(header: string[], seedSeconds: number, rows: string[][]): void {
  const head = ['case', 'items', 'p50 ms', 'p99 ms', 'max ms']
  const all = [head, ...rows]
  const w = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)))
  const line = (r: string[]) =>
    `| ${r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join(' | ')} |`
  console.log(
    [
      ...header,
      `seeded ${fmt(ORDERS)} orders of ${fmt(USERS)} shoppers over ${DAYS} days (with items, payments, refunds, events) in ${fmt(seedSeconds, 1)} s`,
      `${REQUESTS} sequential requests per case after ${WARMUP} warm-up, one keep-alive connection`,
      '',
      line(head),
      `|${w.map((n, i) => (i === 0 ? '-'.repeat(n + 2) : `${'-'.repeat(n + 1)}:`)).join('|')}|`,
      ...rows.map(line),
    ].join('\n'),
  )
}

await main()
