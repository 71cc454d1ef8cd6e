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
 * Reference: the same pays sent to the reference backend (bench/reference/main.ts: Koa, koa-body,
 * `pg`, node:crypto) in a process of its own, against the same sandbox and database, with the same
 * token (both check it against the user row): one read of the order, the signed prepay, the
 * verified answer, the compare-and-set that records the prepay, paySign. Its orders are seeded the
 * same way. Fen ÷ reference is the ratio to watch.
 *
 * RSA signatures per pay, counted from the code: 3 — the server signs the request's
 * Authorization (packages/wechatpay/src/core/client.ts), the sandbox signs its answer
 * (packages/sandbox/src/server.ts), the server signs paySign (wechatpay.ts requestPaymentParams).
 * The 2 verifications (the sandbox checks the server's signature, the server the sandbox's) cost
 * about a tenth of a signature each and are not counted.
 *
 * RSA ceiling: RSA-2048 SHA-256 signatures per second with a parsed KeyObject, on as many
 * worker_threads as the machine has cores (os.availableParallelism()), all signing at once for
 * CEILING_MS (1000), while the servers and the sandbox are idle; ÷ 3 gives pays/s if signing were
 * all there was to do (the reference signs the same 3 times). ROUNDS (5) interleaved rounds
 * (ceiling, Fen's pays, the reference's — those two swap places every other round), REQUESTS (2000)
 * pays per round and per backend over CONCURRENCY (32) connections; medians with min–max; ratios
 * are medians of per-round ratios. Prints figures; asserts nothing.
 */
import { generateKeyPairSync } from 'node:crypto'
import os from 'node:os'
import { Worker } from 'node:worker_threads'
import { OPENID, TOTAL_FEN } from './notifications'
import { cpuTable, errorLines, rateTable, totalCpuMs, versusReference, type Case } from './report'
import {
  loginShopper,
  seedOrders,
  versusRounds,
  withStack,
  type Backend,
  type PreparedRequest,
  type Stack,
} from './stack'
import { median, mmm } from './util'

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

const CASES: (Case<Backend> & { prefix: string })[] = [
  { name: 'server', label: "Fen's server: JSAPI pay", prefix: 'BPY' },
  {
    name: 'reference',
    label: 'reference backend: the same pays (bench/reference/)',
    prefix: 'BPR',
  },
]

async function main(): Promise<void> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' })
  const cores = os.availableParallelism()
  const workers = Array.from(
    { length: cores },
    () => new Worker(SIGNER, { eval: true, workerData: pem }),
  )
  try {
    await withStack({}, (stack) => pays(stack, workers))
  } finally {
    await Promise.all(workers.map((w) => w.terminate()))
  }
}

/** The pay rounds against `stack` (the RSA ceiling measured on `workers` between them), and the report. */
async function pays(stack: Stack, workers: Worker[]): Promise<void> {
  const { db, sandbox } = stack
  const cores = workers.length
  // One shopper, logged in through Fen's API as the mini-program does; the reference checks the
  // same token (the same secret and claims).
  const { token, userId } = await loginShopper(sandbox.url, stack.server.url, OPENID)

  const perRound = REQUESTS + CONCURRENCY
  const orderNos = {} as Record<Backend, string[]>
  for (const c of CASES) {
    orderNos[c.name] = await seedOrders(db, {
      userId,
      prefix: c.prefix,
      count: WARMUP + CONCURRENCY + ROUNDS * perRound,
      totalFen: TOTAL_FEN,
      prepaid: false,
    })
  }
  await db.pool.query('analyze orders')
  const prepare = (nos: string[]): PreparedRequest[] =>
    nos.map((no) => ({
      method: 'POST',
      path: `/api/orders/${no}/pay`,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{"channel":"jsapi"}',
    }))

  await rsaCeiling(workers, 200)
  // One core alone, for reference.
  const oneCore: number[] = []
  const ceilings: number[] = []
  const rounds = await versusRounds(stack, {
    cases: CASES,
    rounds: ROUNDS,
    requests: REQUESTS,
    connections: CONCURRENCY,
    warmup: WARMUP,
    sandboxCpu: true,
    beforeRound: async () => {
      ceilings.push(await rsaCeiling(workers, CEILING_MS))
      oneCore.push(await rsaCeiling(workers.slice(0, 1), CEILING_MS / 2))
    },
    prepare: (name, round, count) => {
      const from = round === 'warm' ? 0 : WARMUP + CONCURRENCY + round * perRound
      return prepare(orderNos[name].slice(from, from + count))
    },
  })

  const prepaid = await db.pool.query<{ kind: string; n: string }>(
    `select left(order_no, 3) as kind, count(*) as n from orders
        where prepay_id is not null and channel = 'jsapi' group by 1 order by 1`,
  )
  const payCeiling = (i: number) => ceilings[i]! / SIGNATURES_PER_PAY
  const toCeiling = (k: Backend) => median(rounds.map((r, i) => r[k].rps / payCeiling(i)))

  console.log(`# Pay benchmark — ${new Date().toISOString()}`)
  for (const l of stack.header) console.log(l)
  console.log(
    `method: ${ROUNDS} interleaved rounds (RSA ceiling ${CEILING_MS} ms on ${cores} worker threads, then ${REQUESTS} pays over ${CONCURRENCY} connections to each backend); warm-up ${WARMUP} pays each\n`,
  )
  for (const l of rateTable(CASES, rounds)) console.log(l)
  console.log('\n| RSA ceiling | median (min–max) |')
  console.log('| --- | ---: |')
  console.log(
    `| RSA-2048 signatures/s, ${cores} threads at once (this machine's ceiling) | ${mmm(ceilings)} |`,
  )
  console.log(`| RSA-2048 signatures/s, one thread | ${mmm(oneCore)} |`)
  console.log(
    `| RSA ceiling for pays: signatures/s ÷ ${SIGNATURES_PER_PAY} | ${mmm(ceilings.map((c) => c / SIGNATURES_PER_PAY))} |`,
  )
  console.log('\nratios (median of per-round ratios):')
  for (const l of versusReference(rounds, 'server', 'reference')) console.log(l)
  console.log(`- Fen's pays/s ÷ RSA ceiling: ${toCeiling('server').toFixed(3)}`)
  console.log(`- reference's pays/s ÷ RSA ceiling: ${toCeiling('reference').toFixed(3)}`)
  console.log('\nCPU per pay, ms (median over rounds):')
  for (const l of cpuTable(CASES, rounds, { sandbox: true })) console.log(l)
  const rsaMs = (SIGNATURES_PER_PAY * 1000) / median(oneCore)
  for (const c of CASES) {
    const total = median(rounds.map((r) => totalCpuMs(r[c.name])))
    console.log(
      `- ${c.name}: total ${total.toFixed(3)} ms → ${Math.round((cores * 1000) / total)} pays/s if all ${cores} cores were spread perfectly; RSA signing is ${((rsaMs / total) * 100).toFixed(0)}% of it (${SIGNATURES_PER_PAY} × ${(1000 / median(oneCore)).toFixed(3)} ms)`,
    )
  }
  console.log('\nwhat the database shows afterwards:')
  for (const r of prepaid.rows) {
    const c = CASES.find((x) => x.prefix === r.kind)
    console.log(
      `- ${c?.name ?? r.kind} orders prepaid: ${r.n} (expected ${WARMUP + ROUNDS * REQUESTS})`,
    )
  }
  for (const l of errorLines(stack.servers)) console.log(l)
}

main().catch((e) => {
  console.error(e)
  process.exitCode = 1
})
