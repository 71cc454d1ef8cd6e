/**
 * `pnpm bench:login` — how many mini-program logins (`POST /api/auth/login {code}`) the server
 * answers per second, against the reference backend doing the same work, in the same run.
 *
 * Setup: a fresh database (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test; dropped
 * at the end), the sandbox CLI, Fen's server (`apps/server/src/main.ts` under tsx, logging at
 * `info`) and the reference backend (bench/reference/main.ts) each in a process of its own;
 * autocannon runs in this process. Each request carries a `wx.login` code handed out by the
 * sandbox before the round (untimed) for a shopper never seen before, so every login is a real
 * code2Session at the sandbox, a first INSERT of the user (the upsert's insert path) and a signed
 * JWT. Each request also comes from its own client address (`X-Forwarded-For`, the server started
 * with TRUST_PROXY=1 as behind a load balancer): Fen limits logins per address (30 a minute), and a
 * run from one address would measure the limiter's 429s. The reference keeps no limiter (see its
 * header).
 *
 * ROUNDS (5) interleaved rounds (Fen and the reference swap places every other round) of REQUESTS
 * (2000) logins each over CONCURRENCY (32) connections; WARMUP (300) logins each first. Medians
 * with min–max; ratios are medians of per-round ratios. CPU per login by process: the server,
 * the sandbox (code2Session), the database's backends, this process. Prints figures; asserts
 * nothing.
 */
import { cpuTable, errorLines, rateTable, versusReference, type Case } from './report'
import { loginCodes, versusRounds, withStack, type Backend, type PreparedRequest } from './stack'

const ROUNDS = Number(process.env.ROUNDS ?? 5)
const REQUESTS = Number(process.env.REQUESTS ?? 2000)
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 32)
const WARMUP = Number(process.env.WARMUP ?? 300)

const CASES: Case<Backend>[] = [
  { name: 'server', label: "Fen's server: POST /api/auth/login (first logins)" },
  { name: 'reference', label: 'reference backend: the same logins (bench/reference/)' },
]

let address = 0
/** A client address of its own for each request (10.0.0.1, 10.0.0.2, …). */
const nextAddress = () => {
  const n = ++address
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`
}

/** `count` login requests for new shoppers `o<tag>_<i>`, each with its own code and address. */
async function prepareLogins(
  sandboxUrl: string,
  tag: string,
  count: number,
): Promise<PreparedRequest[]> {
  const openids = Array.from({ length: count }, (_, i) => `oFenBench_${tag}_${i}`)
  const codes = await loginCodes(sandboxUrl, openids)
  return codes.map((code) => ({
    method: 'POST',
    path: '/api/auth/login',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': nextAddress() },
    body: JSON.stringify({ code }),
  }))
}

async function main(): Promise<void> {
  await withStack({ serverEnv: { TRUST_PROXY: '1' } }, async (stack) => {
    const { db, sandbox } = stack
    let codeMs = 0
    const rounds = await versusRounds(stack, {
      cases: CASES,
      rounds: ROUNDS,
      requests: REQUESTS,
      connections: CONCURRENCY,
      warmup: WARMUP,
      sandboxCpu: true,
      prepare: async (name, round, count) => {
        const t0 = performance.now()
        const prepared = await prepareLogins(sandbox.url, `${name}_${round}`, count)
        codeMs += performance.now() - t0
        return prepared
      },
    })

    const users = await db.pool.query<{ kind: string; n: string }>(
      `select split_part(openid, '_', 2) as kind, count(*) as n from users
        where openid like 'oFenBench\\_%' group by 1 order by 1`,
    )

    console.log(`# Login benchmark — ${new Date().toISOString()}`)
    for (const l of stack.header) console.log(l)
    console.log(
      `method: ${ROUNDS} interleaved rounds × ${REQUESTS} logins per backend over ${CONCURRENCY} connections (autocannon); warm-up ${WARMUP} each; ${(codeMs / 1000).toFixed(1)} s spent getting login codes from the sandbox (untimed)\n`,
    )
    for (const l of rateTable(CASES, rounds)) console.log(l)
    console.log('\nratios (median of per-round ratios):')
    for (const l of versusReference(rounds, 'server', 'reference')) console.log(l)
    console.log('\nCPU per login, ms (median over rounds):')
    for (const l of cpuTable(CASES, rounds, { sandbox: true })) console.log(l)
    console.log('\nwhat the database shows afterwards:')
    for (const r of users.rows) {
      console.log(
        `- ${r.kind} users: ${r.n} (expected ${WARMUP + ROUNDS * REQUESTS}: one per login sent)`,
      )
    }
    for (const l of errorLines(stack.servers)) console.log(l)
  })
}

main().catch((e) => {
  console.error(e)
  process.exitCode = 1
})
