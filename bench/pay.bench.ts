/**
 * `pnpm bench:pay` — how many JSAPI pays (`POST /api/orders/:orderNo/pay {channel: 'jsapi'}`) the
 * server answers per second against the sandbox, on real PostgreSQL, as a share of what RSA
 * signing alone allows on this machine, measured in the same run.
 *
 * Setup: a fresh database (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test; dropped
 * at the end), the sandbox CLI and the server (`apps/server/src/main.ts` under tsx, logging at
 * `info`) each in a process of its own; autocannon runs in this process. One shopper logs in
 * through the API (a real code2Session against the sandbox); PENDING orders of theirs are
 * inserted with the server's own schema before the run, and every request pays a different one,
 * so each is a first prepay: the server checks the token, reads the order, its lines and the
 * openid, signs and sends the prepay to the sandbox, verifies the signed answer, records the
 * prepay_id and signs the `wx.requestPayment` parameters.
 *
 * RSA signatures per pay, counted from the code: 3 — the server signs the request's
 * Authorization (packages/wechatpay/src/core/client.ts), the sandbox signs its answer
 * (packages/sandbox/src/server.ts), the server signs paySign (wechatpay.ts requestPaymentParams).
 * The 2 verifications (the sandbox checks the server's signature, the server the sandbox's) cost
 * about a tenth of a signature each and are not counted.
 *
 * RSA ceiling: RSA-2048 SHA-256 signatures per second with a parsed KeyObject, on as many
 * worker_threads as the machine has cores (os.availableParallelism()), all signing at once for
 * CEILING_MS (1000), while the server and the sandbox are idle; ÷ 3 gives pays/s if signing were
 * all there was to do. ROUNDS (5) interleaved rounds (ceiling, pays), REQUESTS (2000) pays per
 * round over CONCURRENCY (32) connections; medians with min–max; the ratio is the median of
 * per-round ratios. Prints figures; asserts nothing.
 */
import { generateKeyPairSync } from 'node:crypto'
import os from 'node:os'
import { Worker } from 'node:worker_threads'
import { OPENID, TOTAL_FEN } from './notifications'
import {
  DATABASE_URL,
  backendPids,
  benchPool,
  cpuMsBetween,
  cpuMsOf,
  machineBusyMs,
  createBenchDatabase,
  fire,
  machineLines,
  sandboxKeysFile,
  seedOrders,
  startSandboxCli,
  startServer,
  type PreparedRequest,
  type RunningServer,
} from './stack'
import { median, mmm, stopChild } from './util'

const ROUNDS = Number(process.env.ROUNDS ?? 5)
const REQUESTS = Number(process.env.REQUESTS ?? 2000)
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 32)
const WARMUP = Number(process.env.WARMUP ?? 300)
const CEILING_MS = Number(process.env.CEILING_MS ?? 1000)
const SIGNATURES_PER_PAY = 3

// A worker that signs for the given milliseconds and answers with its signatures/s.
const SIGNER = `
const { parentPort, workerData } = require('node:worker_threads')
const { createPrivateKey, sign } = require('node:crypto')
const key = createPrivateKey(workerData)
const message = Buffer.from('POST\\n/v3/pay/transactions/jsapi\\n1700000000\\n' + 'n'.repeat(32) + '\\n' + 'x'.repeat(300) + '\\n')
parentPort.on('message', (ms) => {
  let n = 0
  const t0 = performance.now()
  let now = t0
  while (now - t0 < ms) {
    for (let i = 0; i < 8; i++) sign('sha256', message, key)
    n += 8
    now = performance.now()
  }
  parentPort.postMessage(n / ((now - t0) / 1000))
})`

async function rsaCeiling(workers: Worker[], ms: number): Promise<number> {
  const rates = await Promise.all(
    workers.map(
      (w) =>
        new Promise<number>((resolve) => {
          w.once('message', resolve)
          w.postMessage(ms)
        }),
    ),
  )
  return rates.reduce((a, b) => a + b, 0)
}

async function main(): Promise<void> {
  const admin = benchPool({ connectionString: DATABASE_URL, max: 2 })
  const header = await machineLines(admin)
  const db = await createBenchDatabase()
  const { file } = await sandboxKeysFile()
  const sandbox = await startSandboxCli(file)
  let server: RunningServer | undefined
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' })
  const cores = os.availableParallelism()
  const workers = Array.from(
    { length: cores },
    () => new Worker(SIGNER, { eval: true, workerData: pem }),
  )
  try {
    server = await startServer({ databaseUrl: db.url, sandboxUrl: sandbox.url })

    // One shopper, logged in through the API as the mini-program does.
    const code = (await (
      await fetch(`${sandbox.url}/__sandbox/login-codes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ openid: OPENID }),
      })
    ).json()) as { code: string }
    const login = await fetch(`${server.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: code.code }),
    })
    if (!login.ok) throw new Error(`login failed: ${login.status} ${await login.text()}`)
    const { token } = (await login.json()) as { token: string }
    const { rows } = await db.pool.query<{ id: number }>('select id from users where openid = $1', [
      OPENID,
    ])
    const userId = rows[0]!.id

    const perRound = REQUESTS + CONCURRENCY
    const orderNos = await seedOrders(db, {
      userId,
      prefix: 'BPY',
      count: WARMUP + CONCURRENCY + ROUNDS * perRound,
      totalFen: TOTAL_FEN,
      prepaid: false,
    })
    await db.pool.query('analyze orders')
    const prepare = (nos: string[]): PreparedRequest[] =>
      nos.map((no) => ({
        method: 'POST',
        path: `/api/orders/${no}/pay`,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: '{"channel":"jsapi"}',
      }))

    await fire(server.url, prepare(orderNos.slice(0, WARMUP + CONCURRENCY)), WARMUP, CONCURRENCY)
    await rsaCeiling(workers, 200)
    // One core alone, for reference.
    const oneCore: number[] = []

    const sandboxPid = sandbox.child.pid!
    const rounds: {
      otherCores: number
      ceiling: number
      rps: number
      p50: number
      p99: number
      errors: number
      non2xx: number
      cpu: { server: number; sandbox: number; db: number; load: number }
    }[] = []
    for (let round = 0; round < ROUNDS; round++) {
      const ceiling = await rsaCeiling(workers, CEILING_MS)
      oneCore.push(await rsaCeiling(workers.slice(0, 1), CEILING_MS / 2))
      const from = WARMUP + CONCURRENCY + round * perRound
      const prepared = prepare(orderNos.slice(from, from + perRound))
      const pids = await backendPids(admin, db.name)
      const db0 = cpuMsOf(pids)
      const sb0 = cpuMsOf([sandboxPid])
      const s0 = await server.sample(true)
      const m0 = machineBusyMs()
      const r = await fire(server.url, prepared, REQUESTS, CONCURRENCY)
      const busy = machineBusyMs() - m0
      const s1 = await server.sample()
      const sb1 = cpuMsOf([sandboxPid])
      const db1 = cpuMsOf([...new Set([...pids, ...(await backendPids(admin, db.name))])])
      const ours =
        (s1.cpuMicros - s0.cpuMicros) / 1000 +
        cpuMsBetween(sb0, sb1) +
        cpuMsBetween(db0, db1) +
        r.loadCpuMs
      rounds.push({
        otherCores: (busy - ours) / (r.callSeconds * 1000),
        ceiling,
        rps: r.rps,
        p50: r.p50,
        p99: r.p99,
        errors: r.errors + r.timeouts,
        non2xx: r.non2xx,
        cpu: {
          server: (s1.cpuMicros - s0.cpuMicros) / 1000 / r.completed,
          sandbox: cpuMsBetween(sb0, sb1) / r.completed,
          db: cpuMsBetween(db0, db1) / r.completed,
          load: r.loadCpuMs / r.completed,
        },
      })
    }

    const prepaid = await db.pool.query<{ n: string }>(
      "select count(*) as n from orders where prepay_id is not null and channel = 'jsapi'",
    )
    const col = <K extends 'ceiling' | 'rps' | 'p50' | 'p99'>(k: K) => rounds.map((r) => r[k])
    const cpu = (k: 'server' | 'sandbox' | 'db' | 'load') =>
      median(rounds.map((r) => r.cpu[k])).toFixed(3)

    console.log(`# Pay benchmark — ${new Date().toISOString()}`)
    for (const l of header) console.log(l)
    console.log(
      `method: ${ROUNDS} interleaved rounds (RSA ceiling ${CEILING_MS} ms on ${cores} worker threads, then ${REQUESTS} pays over ${CONCURRENCY} connections); warm-up ${WARMUP} pays\n`,
    )
    console.log('| measure | median (min–max) |')
    console.log('| --- | ---: |')
    console.log(`| JSAPI pay, requests/s | ${mmm(col('rps'))} |`)
    console.log(`| latency p50, ms | ${mmm(col('p50'), 1)} |`)
    console.log(`| latency p99, ms | ${mmm(col('p99'), 1)} |`)
    console.log(
      `| RSA-2048 signatures/s, ${cores} threads at once (this machine's ceiling) | ${mmm(col('ceiling'))} |`,
    )
    console.log(`| RSA-2048 signatures/s, one thread | ${mmm(oneCore)} |`)
    console.log(
      `| RSA ceiling for pays: signatures/s ÷ ${SIGNATURES_PER_PAY} | ${mmm(col('ceiling').map((c) => c / SIGNATURES_PER_PAY))} |`,
    )
    console.log(
      `\nratio: pays/s ÷ RSA ceiling (median of per-round ratios): ${median(rounds.map((r) => r.rps / (r.ceiling / SIGNATURES_PER_PAY))).toFixed(3)}`,
    )
    console.log(
      `errors: ${rounds.reduce((a, r) => a + r.errors, 0)}, non-2xx: ${rounds.reduce((a, r) => a + r.non2xx, 0)}`,
    )
    console.log('\nCPU per pay, ms (median over rounds):')
    console.log(
      `- server process ${cpu('server')}, sandbox process ${cpu('sandbox')}, PostgreSQL backends ${cpu('db')}, load generator ${cpu('load')}`,
    )
    const total = median(rounds.map((r) => r.cpu.server + r.cpu.sandbox + r.cpu.db + r.cpu.load))
    console.log(
      `- total ${total.toFixed(3)} ms → ${Math.round((cores * 1000) / total)} pays/s if all ${cores} cores were spread perfectly; RSA signing is ${(((SIGNATURES_PER_PAY * 1000) / median(oneCore) / total) * 100).toFixed(0)}% of it (${SIGNATURES_PER_PAY} × ${(1000 / median(oneCore)).toFixed(3)} ms)`,
    )
    console.log(
      `- other processes during the pay rounds (other tests on this machine, PostgreSQL's own), cores: ${mmm(
        rounds.map((r) => r.otherCores),
        2,
      )}`,
    )
    console.log(
      `- server process busy: ${(median(rounds.map((r) => (r.cpu.server * r.rps) / 1000)) * 100).toFixed(0)}% of one core during the pay rounds`,
    )
    console.log(
      `\nwhat the database shows afterwards: ${prepaid.rows[0]!.n} orders prepaid (expected ${WARMUP + ROUNDS * REQUESTS}); server log lines at error level: ${server.errors.length}`,
    )
    for (const e of server.errors.slice(0, 5)) console.log(`  ${e}`)
  } finally {
    await Promise.all(workers.map((w) => w.terminate()))
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
