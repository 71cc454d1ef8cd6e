/**
 * `pnpm bench:notify` — how many WeChat Pay APIv3 payment notifications the server applies per
 * second (`POST /api/pay/notify`) on real PostgreSQL, next to the floor: the same conditional
 * `UPDATE orders SET status = 'PAID' … WHERE order_no = $1 AND status = 'PENDING'` sent straight
 * to the same database, in the same run, at the same concurrency.
 *
 * Setup: a fresh database (DATABASE_URL's server, default postgres://postgres@127.0.0.1:5432/test;
 * dropped at the end), the sandbox CLI (it only hands the server its merchant settings) and the
 * server (`apps/server/src/main.ts` under tsx, logging at `info` as in production) in processes
 * of their own, so the load generator (autocannon, in this process) never shares the server's
 * event loop. PENDING JSAPI orders are inserted with the server's own schema before the run.
 *
 * Server case: each request is a TRANSACTION.SUCCESS notification for a different PENDING order,
 * built before the round as WeChat builds it (resource AES-256-GCM-encrypted with the APIv3 key,
 * envelope RSA-signed with the WeChat Pay public key's private half, which the server trusts), so
 * every request is a first delivery: verify, decrypt, and one statement, its own transaction (the
 * notification stored, PENDING → PAID by compare-and-set, the payment recorded, the order.paid
 * outbox event; repositories/notified-payments.ts), answered 204; the server's outbox dispatcher
 * then claims, delivers and marks each event during the run.
 *
 * Reference: the same notifications sent to the reference backend (bench/reference/main.ts: Koa,
 * koa-body, `pg`, node:crypto), in a process of its own like the server's, on the same database:
 * verify, decrypt, and the one conditional UPDATE that checks the amount (what it leaves out is
 * listed in its header). Fen ÷ reference is the ratio to watch: same protocol work, same machine.
 *
 * Floor: the UPDATE alone (what markPaid runs, without RETURNING), one autocommit statement per
 * order, over a pg.Pool of the server's size (10) with the same number of concurrent callers as
 * autocannon has connections.
 *
 * What waiting for the WAL flush (fsync at commit) costs: a second server process whose
 * connections run at synchronous_commit=off (DATABASE_URL `?options=-c synchronous_commit=off`),
 * and the floor likewise. Everything else is the same.
 *
 * ROUNDS (5) interleaved rounds (server and reference, which swap places every other round, then
 * server without flush, floor, floor without flush) of REQUESTS (3000) each, CONCURRENCY (32)
 * connections/callers; medians with min–max; ratios are medians of per-round ratios. CPU time per
 * request is read from the server processes (a preloaded probe), the database's backends (/proc)
 * and this process; the CPU the rest of the machine used meanwhile (/proc/stat) is printed too.
 * A Fen round's CPU is read when its outbox events are delivered as well, and counts both Fen
 * processes (their dispatchers share the database's outbox): the delivery of each notification's
 * event is part of its cost, and none of it spills into the next case's round.
 * Prints figures; asserts nothing.
 */
import os from 'node:os'
import {
  OPENID,
  TOTAL_FEN,
  buildPaymentNotifications,
  nextTransactionId,
  verifyMicros,
} from './notifications'
import {
  cpuTable,
  errorLines,
  rateTable,
  ratio,
  totalCpuMs,
  versusReference,
  type Case,
} from './report'
import {
  SERVER_POOL_SIZE,
  backendPids,
  benchPool,
  cpuMsBetween,
  cpuMsOf,
  machineBusyMs,
  fire,
  insertUser,
  seedOrders,
  serverRound,
  startServer,
  undeliveredEvents,
  withStack,
  type BenchDatabase,
  type Pool,
  type PreparedRequest,
  type RoundStats,
  type Stack,
} from './stack'
import { median, pct, roundOrder, until } from './util'

const ROUNDS = Number(process.env.ROUNDS ?? 5)
const REQUESTS = Number(process.env.REQUESTS ?? 3000)
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 32)
const WARMUP = Number(process.env.WARMUP ?? 2000)

/** The floor: the conditional UPDATE alone, `concurrency` callers over `pool`. */
async function directRound(
  db: BenchDatabase,
  admin: Pool,
  pool: Pool,
  orderNos: string[],
  concurrency: number,
): Promise<RoundStats> {
  const pids = await backendPids(admin, db.name)
  const db0 = cpuMsOf(pids)
  const cpu0 = process.cpuUsage()
  const m0 = machineBusyMs()
  const latencies: number[] = []
  let errors = 0
  let next = 0
  const paidAt = new Date()
  const worker = async () => {
    while (next < orderNos.length) {
      const i = next++
      const t = performance.now()
      try {
        const r = await pool.query(
          "update orders set status = 'PAID', transaction_id = $2, paid_at = $3 where order_no = $1 and status = 'PENDING'",
          [orderNos[i], nextTransactionId(), paidAt],
        )
        if (r.rowCount !== 1) errors++
      } catch {
        errors++
      }
      latencies.push(performance.now() - t)
    }
  }
  const t0 = performance.now()
  await Promise.all(Array.from({ length: concurrency }, worker))
  const seconds = (performance.now() - t0) / 1000
  const busy = machineBusyMs() - m0
  const cpu = process.cpuUsage(cpu0)
  const db1 = cpuMsOf([...new Set([...pids, ...(await backendPids(admin, db.name))])])
  const ours = cpuMsBetween(db0, db1) + (cpu.user + cpu.system) / 1000
  return {
    otherCores: (busy - ours) / (seconds * 1000),
    rps: orderNos.length / seconds,
    p50: pct(latencies, 0.5),
    p99: pct(latencies, 0.99),
    errors,
    non2xx: 0,
    serverCpuMs: 0,
    sandboxCpuMs: 0,
    dbCpuMs: cpuMsBetween(db0, db1) / orderNos.length,
    loadCpuMs: (cpu.user + cpu.system) / 1000 / orderNos.length,
  }
}

type CaseName = 'server' | 'reference' | 'serverNoFlush' | 'floor' | 'floorNoFlush'
const CASES: (Case<CaseName> & { prefix: string })[] = [
  { name: 'server', label: 'server: POST /api/pay/notify (first deliveries)', prefix: 'BNS' },
  {
    name: 'reference',
    label: 'reference backend: the same notifications (bench/reference/)',
    prefix: 'BNR',
  },
  {
    name: 'serverNoFlush',
    label: 'the same server, its connections at synchronous_commit=off',
    prefix: 'BNN',
  },
  { name: 'floor', label: 'floor: conditional UPDATE, autocommit', prefix: 'BNF' },
  { name: 'floorNoFlush', label: 'floor: the same UPDATE, synchronous_commit=off', prefix: 'BNX' },
]
/** The cases served over HTTP (the others are the direct-SQL floors). */
const SERVED = ['server', 'reference', 'serverNoFlush'] as const

async function main(): Promise<void> {
  await withStack({}, async (stack) => {
    // synchronous_commit=off: a commit returns before its WAL record is flushed to disk.
    const noFlushUrl = `${stack.db.url}?options=${encodeURIComponent('-c synchronous_commit=off')}`
    const floorNoFlush = benchPool({ connectionString: noFlushUrl, max: SERVER_POOL_SIZE })
    try {
      await notifications(stack, floorNoFlush, noFlushUrl)
    } finally {
      await floorNoFlush.end()
    }
  })
}

/**
 * The notification rounds against `stack` and a second Fen server at synchronous_commit=off
 * (`noFlushUrl`), the floors on the database's pools, and the report.
 */
async function notifications(stack: Stack, floorNoFlush: Pool, noFlushUrl: string): Promise<void> {
  const { admin, db, keys, sandbox } = stack
  const serverNoFlush = await startServer({ databaseUrl: noFlushUrl, sandboxUrl: sandbox.url })
  stack.servers.push(serverNoFlush)
  const started = { server: stack.server, reference: stack.reference, serverNoFlush }
  const userId = await insertUser(db, OPENID)
  const perRound = REQUESTS + CONCURRENCY
  const t0 = performance.now()
  const orderNos = {} as Record<CaseName, string[]>
  for (const c of CASES) {
    const served = (SERVED as readonly string[]).includes(c.name)
    orderNos[c.name] = await seedOrders(db, {
      userId,
      prefix: c.prefix,
      count: served ? WARMUP + CONCURRENCY + ROUNDS * perRound : ROUNDS * REQUESTS,
      totalFen: TOTAL_FEN,
      prepaid: true,
    })
  }
  // Vacuumed as well as analyzed: otherwise autovacuum takes the tens of thousands of fresh rows
  // during the first rounds (PostgreSQL vacuums a table after enough inserts), one more process
  // on 2 cores.
  await db.pool.query('vacuum (analyze) orders, order_items')
  const seedSeconds = (performance.now() - t0) / 1000

  // A Fen round is over when its outbox events are delivered too (both Fen servers' dispatchers
  // share this database's outbox): its CPU per notification includes that delivery.
  const fen = {
    processes: [started.server, started.serverNoFlush],
    done: async () => (await undeliveredEvents(db)) === 0,
  }
  // Warm-up: JIT and the pools of the servers; the floor pools' connections.
  let sample: PreparedRequest | undefined
  for (const name of SERVED) {
    const warm = buildPaymentNotifications(keys, orderNos[name].slice(0, WARMUP + CONCURRENCY))
    await fire(started[name].url, warm, WARMUP, CONCURRENCY)
    sample = warm[0]!
  }
  // The warm-ups' events delivered before the first round, not during it.
  await until(fen.done, 120_000)
  // Verify+decrypt of one notification, in this process (a figure of the SDK, not of a server).
  const verifyUs = await verifyMicros(keys, sample!)
  await Promise.all(
    Array.from({ length: SERVER_POOL_SIZE }, () =>
      Promise.all([db.pool.query('select 1'), floorNoFlush.query('select 1')]),
    ),
  )

  const rounds: Record<CaseName, RoundStats>[] = []
  let buildMs = 0
  for (let round = 0; round < ROUNDS; round++) {
    const from = WARMUP + CONCURRENCY + round * perRound
    const b0 = performance.now()
    const prepared = {} as Record<(typeof SERVED)[number], PreparedRequest[]>
    for (const name of SERVED) {
      prepared[name] = buildPaymentNotifications(keys, orderNos[name].slice(from, from + perRound))
    }
    buildMs += performance.now() - b0
    const slice = (xs: string[]) => xs.slice(round * REQUESTS, (round + 1) * REQUESTS)
    const r = {} as Record<CaseName, RoundStats>
    for (const name of roundOrder(['server', 'reference'] as const, round)) {
      r[name] = await serverRound({
        db,
        admin,
        server: started[name],
        prepared: prepared[name],
        amount: REQUESTS,
        connections: CONCURRENCY,
        ...(name === 'server' ? { aftermath: fen } : {}),
      })
    }
    r.serverNoFlush = await serverRound({
      db,
      admin,
      server: started.serverNoFlush,
      prepared: prepared.serverNoFlush,
      amount: REQUESTS,
      connections: CONCURRENCY,
      aftermath: fen,
    })
    r.floor = await directRound(db, admin, db.pool, slice(orderNos.floor), CONCURRENCY)
    r.floorNoFlush = await directRound(
      db,
      admin,
      floorNoFlush,
      slice(orderNos.floorNoFlush),
      CONCURRENCY,
    )
    rounds.push(r)
  }

  // What the runs did, from the database: every request should have turned one order PAID.
  const { rows } = await db.pool.query<{ kind: string; paid: string; pending: string }>(
    `select left(order_no, 3) as kind, count(*) filter (where status = 'PAID') as paid,
              count(*) filter (where status = 'PENDING') as pending
         from orders group by 1 order by 1`,
  )
  const applied = await db.pool.query<{ n: string }>(
    "select count(*) as n from notifications where outcome = 'applied'",
  )
  const events = await db.pool.query<{ n: string }>(
    "select count(*) as n from outbox_events where type = 'order.paid'",
  )
  const total = (k: CaseName) => median(rounds.map((r) => totalCpuMs(r[k])))

  console.log(`# Notify benchmark — ${new Date().toISOString()}`)
  for (const l of stack.header) console.log(l)
  console.log(
    `method: ${ROUNDS} interleaved rounds × ${REQUESTS} requests per case, ${CONCURRENCY} connections (autocannon) / callers; server pools ${SERVER_POOL_SIZE}, floor pools ${SERVER_POOL_SIZE}; warm-up ${WARMUP} per server`,
  )
  console.log(
    `setup: seeded ${Object.values(orderNos).reduce((n, xs) => n + xs.length, 0)} PENDING orders in ${seedSeconds.toFixed(1)} s; built ${SERVED.length * ROUNDS * perRound} signed notifications in ${(buildMs / 1000).toFixed(1)} s (untimed)\n`,
  )
  for (const l of rateTable(CASES, rounds)) console.log(l)
  const byRound = (k: CaseName) => rounds.map((r) => r[k].p99.toFixed(0)).join(', ')
  console.log(`\np99 ms by round: Fen ${byRound('server')}; reference ${byRound('reference')}`)
  console.log('\nratios (median of per-round ratios):')
  for (const l of versusReference(rounds, 'server', 'reference')) console.log(l)
  console.log(`- server ÷ UPDATE floor: ${ratio(rounds, 'server', 'floor').toFixed(3)}`)
  console.log(`- reference ÷ UPDATE floor: ${ratio(rounds, 'reference', 'floor').toFixed(3)}`)
  console.log(
    `- server ÷ the same server without waiting for the WAL flush: ${ratio(rounds, 'server', 'serverNoFlush').toFixed(3)}`,
  )
  console.log(
    `- UPDATE floor ÷ the same without waiting for the WAL flush: ${ratio(rounds, 'floor', 'floorNoFlush').toFixed(3)}`,
  )
  console.log('\nCPU per request, ms (median over rounds):')
  for (const l of cpuTable(CASES, rounds)) console.log(l)
  const serverCpu = median(rounds.map((r) => r.server.serverCpuMs))
  console.log(
    `- SDK verify+decrypt of one notification, measured in this process: ${verifyUs.toFixed(1)} µs = ${((verifyUs / 1000 / serverCpu) * 100).toFixed(0)}% of the server's CPU per notification`,
  )
  console.log(
    `- ${os.availableParallelism()} cores ÷ total CPU per notification = ${Math.round((os.availableParallelism() * 1000) / total('server'))} notifications/s for Fen, ${Math.round((os.availableParallelism() * 1000) / total('reference'))} for the reference, if nothing else ran and the work spread perfectly`,
  )
  console.log('\nwhat the database shows afterwards:')
  for (const r of rows) {
    const c = CASES.find((x) => x.prefix === r.kind)
    console.log(`- ${c?.name ?? r.kind} orders: ${r.paid} PAID, ${r.pending} PENDING`)
  }
  console.log(
    `- notifications applied: ${applied.rows[0]!.n}; order.paid outbox events: ${events.rows[0]!.n} (expected ${2 * (WARMUP + ROUNDS * REQUESTS)}: warm-up + timed, both Fen servers; the reference keeps neither)`,
  )
  for (const l of errorLines(stack.servers)) console.log(l)
}

main().catch((e) => {
  console.error(e)
  process.exitCode = 1
})
