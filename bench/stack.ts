/**
 * What the server benchmarks (`bench:notify`, `bench:pay`, `bench:soak`) share: a fresh PostgreSQL
 * database dropped afterwards, the sandbox CLI and the server (`apps/server/src/main.ts`) each in a
 * process of its own, orders seeded with the server's own schema and migrations, a probe preloaded
 * into the server process (server-probe.mjs), CPU time of the database's backends, and autocannon
 * firing requests that were all built before the timed run.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import pg from 'pg'
import { freePort, roundOrder, sleep, stopChild, until } from './util'
import { generateSandboxKeys, type SandboxKeys } from '@fen/sandbox'
import { openDatabase, type Database } from '../apps/server/src/db/client'
import { orderItems, orders, users } from '../apps/server/src/db/schema'
import { seedDemoCatalogue } from '../apps/server/src/repositories/catalogue'

const here = path.dirname(fileURLToPath(import.meta.url))
export { pg }
export type Pool = pg.Pool

/** The server's pool size (`new pg.Pool({ max: 10 })` in apps/server/src/db/client.ts). */
export const SERVER_POOL_SIZE = 10
export const ADMIN_TOKEN = 'fen-bench-admin-token-0123456789'
const JWT_SECRET = 'fen-bench-jwt-secret-0123456789-0123456789'
export const DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test'

/** One line about the machine, and what else was running (load average) when the run started. */
export async function machineLines(adminPool: pg.Pool): Promise<string[]> {
  const { rows } = await adminPool.query<{ v: string; f: string; s: string }>(
    "select current_setting('server_version') as v, current_setting('fsync') as f, current_setting('synchronous_commit') as s",
  )
  const r = rows[0]!
  return [
    `machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism()} cores, Node ${process.version}, PostgreSQL ${r.v} (fsync=${r.f}, synchronous_commit=${r.s})`,
    `load average at start: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (1/5/15 min; anything above ~0 is other work on this machine)`,
  ]
}

// ---- database ---------------------------------------------------------------------------------

/**
 * A pg pool whose idle connections may be killed without crashing the run (dropping the database
 * `with (force)` terminates them, and pool.end() can resolve before every socket has closed).
 */
export function benchPool(config: pg.PoolConfig): pg.Pool {
  // Idle connections stay open (pg closes them after 10 s by default): a round's backends are then
  // the ones that were there before it.
  const pool = new pg.Pool({ idleTimeoutMillis: 0, ...config })
  pool.on('error', () => undefined)
  return pool
}

export interface BenchDatabase {
  name: string
  url: string
  /** The server's own database handle (its openDatabase: drizzle over a pool of 10). */
  database: Database
  /** A raw pg pool on the same database, for counts and the direct-SQL comparisons. */
  pool: pg.Pool
  drop(): Promise<void>
}

/**
 * A new database named fen_bench_<hex> on DATABASE_URL's server, migrated with the server's
 * migrations and seeded with its demo products; `drop()` removes it (with force).
 */
export async function createBenchDatabase(): Promise<BenchDatabase> {
  const name = `fen_bench_${randomBytes(5).toString('hex')}`
  const admin = new pg.Client({ connectionString: DATABASE_URL })
  await admin.connect()
  await admin.query(`create database ${name}`)
  await admin.end()
  const own = new URL(DATABASE_URL)
  own.pathname = `/${name}`
  const url = own.toString()
  const database = await openDatabase({ url })
  await database.migrate()
  await seedDemoCatalogue(database.db)
  const pool = benchPool({ connectionString: url, max: SERVER_POOL_SIZE })
  return {
    name,
    url,
    database,
    pool,
    async drop() {
      await pool.end()
      await database.close()
      const c = new pg.Client({ connectionString: DATABASE_URL })
      await c.connect()
      await c.query(`drop database if exists ${name} with (force)`)
      await c.end()
    },
  }
}

/** A shopper row (for orders that need a user_id); returns its id. */
export async function insertUser(db: BenchDatabase, openid: string): Promise<number> {
  const [row] = await db.database.db
    .insert(users)
    .values({ openid, sessionKey: 'fen-bench-session-key' })
    .returning({ id: users.id })
  return row!.id
}

/** Outbox events not delivered yet (the server's dispatcher delivers them after the answers). */
export async function undeliveredEvents(db: BenchDatabase): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(
    'select count(*)::int as n from outbox_events where delivered_at is null',
  )
  return rows[0]!.n
}

/**
 * Inserts `count` PENDING orders of one line each (product 1, priced `totalFen`), in batches of
 * 1,000 rows, through the server's drizzle schema. `prepaid` makes them JSAPI orders with a
 * prepay_id, as an order is when its payment notification arrives. Returns the order numbers,
 * `<prefix><8 digits>`. They expire in 2 hours, so the sweeper never touches them during a run.
 */
export async function seedOrders(
  db: BenchDatabase,
  opts: { userId: number; prefix: string; count: number; totalFen: number; prepaid: boolean },
): Promise<string[]> {
  const now = new Date()
  const expiresAt = new Date(now.getTime() + 2 * 3600_000)
  const numbers = Array.from(
    { length: opts.count },
    (_, i) => `${opts.prefix}${String(i).padStart(8, '0')}`,
  )
  for (let i = 0; i < numbers.length; i += 1000) {
    const batch = numbers.slice(i, i + 1000)
    await db.database.db.insert(orders).values(
      batch.map((orderNo) => ({
        orderNo,
        userId: opts.userId,
        status: 'PENDING',
        totalFen: opts.totalFen,
        apiVersion: 'v3',
        createdAt: now,
        expiresAt,
        ...(opts.prepaid
          ? {
              channel: 'jsapi',
              prepayId: `wx${orderNo}`,
              prepayExpiresAt: expiresAt,
            }
          : {}),
      })),
    )
    await db.database.db.insert(orderItems).values(
      batch.map((orderNo) => ({
        orderNo,
        productId: 1,
        title: 'Fen 压测商品',
        unitPriceFen: opts.totalFen,
        quantity: 1,
      })),
    )
  }
  return numbers
}

/**
 * CPU time (ms) used so far by the PostgreSQL backends connected to `dbName`, read from
 * /proc/<pid>/stat (utime + stime). Pass the pids from `backendPids` taken before a round.
 */
export async function backendPids(adminPool: pg.Pool, dbName: string): Promise<number[]> {
  const { rows } = await adminPool.query<{ pid: number }>(
    'select pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
    [dbName],
  )
  return rows.map((r) => r.pid)
}
const TICK_MS = 1000 / 100 // USER_HZ is 100 on Linux
export function cpuMsOf(pids: number[]): Map<number, number> {
  const out = new Map<number, number>()
  for (const pid of pids) {
    try {
      // Fields after the command name (which is in parentheses and may hold spaces).
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      out.set(pid, (Number(fields[11]) + Number(fields[12])) * TICK_MS)
    } catch {
      // The backend is gone (the pool closed an idle connection): its last CPU time is lost.
    }
  }
  return out
}
/**
 * CPU ms the whole machine has spent busy (all cores, every process: user, nice, system, irq,
 * softirq, steal from /proc/stat), to tell how much else ran during a timed round.
 */
export function machineBusyMs(): number {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number)
  const [user, nice, system, , , irq, softirq, steal] = cpu as number[]
  return (user! + nice! + system! + irq! + softirq! + steal!) * TICK_MS
}

/**
 * CPU ms used between two `cpuMsOf` readings. A pid only in the second reading is a backend that
 * connected in between (a pool replacing a connection it had closed when idle): all of its time
 * counts.
 */
export function cpuMsBetween(a: Map<number, number>, b: Map<number, number>): number {
  let ms = 0
  for (const [pid, t] of b) ms += t - (a.get(pid) ?? 0)
  return ms
}

// ---- processes --------------------------------------------------------------------------------

/** A keys file for the sandbox CLI, and the keys (the benchmark signs notifications with them). */
export async function sandboxKeysFile(): Promise<{ keys: SandboxKeys; file: string }> {
  const keys = await generateSandboxKeys()
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'fen-bench-')), 'keys.json')
  writeFileSync(file, JSON.stringify(keys), { mode: 0o600 })
  return { keys, file }
}

/**
 * Children this run started. If the run dies (an uncaught error, the server gone), they are
 * killed on the way out, by their own handle: no sandbox or server is left behind.
 */
const children = new Set<ChildProcess>()
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL')
})
function adopt(child: ChildProcess): ChildProcess {
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}

/** The sandbox CLI in its own process (as `pnpm sandbox` runs it), quiet, on a free port. */
export async function startSandboxCli(
  keysFile: string,
): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort()
  const child = spawn(
    process.execPath,
    [
      '--conditions=@fen/source',
      '--import',
      'tsx',
      path.join(here, '../packages/sandbox/src/cli.ts'),
    ],
    {
      env: {
        ...process.env,
        SANDBOX_KEYS: keysFile,
        SANDBOX_PORT: String(port),
        SANDBOX_QUIET: '1',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  adopt(child)
  await new Promise<void>((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes('listening on')) resolve()
    })
    child.once('exit', (code) => reject(new Error(`sandbox exited with ${code}: ${out}`)))
  })
  child.stdout!.resume()
  return { url: `http://127.0.0.1:${port}`, child }
}

export interface ProbeSample {
  rss: number
  heapUsed: number
  /** User + system CPU time of the server process so far, µs. */
  cpuMicros: number
  /** Event-loop delay since the last reset, ns. */
  delay: { p50: number; p99: number; max: number; samples: number }
}

export interface RunningServer {
  url: string
  pid: number
  /** Reads the probe in the server process; `reset` starts a new event-loop-delay window. */
  sample(reset?: boolean): Promise<ProbeSample>
  /** Log lines at level error or fatal (pino levels 50, 60), or naming an Error, seen so far. */
  errors: string[]
  stop(): Promise<void>
}

/**
 * The environment a server process is started with: this one's, without any Fen setting (the
 * server refuses settings it does not know, FEN_SOAK say) or NODE_OPTIONS, plus `own`.
 */
function serverEnv(own: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (
      v !== undefined &&
      !/^(WECHAT|WECHATPAY|FEN|JWT|ADMIN|ORDER|TRUST)_|^(NODE_ENV|PORT)$/.test(k)
    )
      env[k] = v
  }
  delete env.NODE_OPTIONS
  return Object.assign(env, own)
}

/** Where a backend's process reaches the database and the sandbox. */
export interface BackendOptions {
  databaseUrl: string
  sandboxUrl: string
}

/**
 * `apps/server/src/main.ts` in its own process, as `pnpm --filter @fen/server start` runs it (tsx),
 * with the probe preloaded. Configured through the environment like a deployment: the sandbox's
 * merchant through FEN_SANDBOX_URL, the database, the port, and `env` (TRUST_PROXY, say). Logs at
 * LOG_LEVEL (default `info`, as in production) go to a pipe; the benchmark only counts the error
 * lines. SERVER_NODE_ARGS: extra node flags for it only (e.g. --cpu-prof --cpu-prof-dir=…).
 */
export function startServer(
  opts: BackendOptions & { env?: Record<string, string> },
): Promise<RunningServer> {
  return startProbed('server', path.join(here, '../apps/server/src/main.ts'), opts, {
    ADMIN_TOKEN,
    LOG_LEVEL: process.env.LOG_LEVEL || 'info',
    ...opts.env,
  })
}

/**
 * The reference backend (bench/reference/main.ts) in its own process, started like the server
 * (tsx, the probe preloaded, the same database, sandbox and JWT secret). REFERENCE_NODE_ARGS: extra
 * node flags for it only.
 */
export function startReference(opts: BackendOptions): Promise<RunningServer> {
  return startProbed('reference', path.join(here, 'reference/main.ts'), opts, {})
}

/**
 * `entry` under tsx with the probe preloaded, on a free port, with the database, the sandbox, the
 * JWT secret and `own` in its environment (and `<NAME>_NODE_ARGS` as node flags); resolves once
 * its /readyz answers 200.
 */
async function startProbed(
  name: 'server' | 'reference',
  entry: string,
  opts: BackendOptions,
  own: Record<string, string>,
): Promise<RunningServer> {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const env = serverEnv({
    PORT: String(port),
    DATABASE_URL: opts.databaseUrl,
    FEN_SANDBOX_URL: opts.sandboxUrl,
    PUBLIC_BASE_URL: url,
    JWT_SECRET,
    ...own,
  })
  const nodeArgs = process.env[`${name.toUpperCase()}_NODE_ARGS`]?.split(' ').filter(Boolean) ?? []
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      '--conditions=@fen/source',
      '--import',
      'tsx',
      '--import',
      path.join(here, 'server-probe.mjs'),
      entry,
    ],
    { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
  )
  adopt(child)
  const errors: string[] = []
  const scan = (d: Buffer) => {
    const text = d.toString()
    if (!text.includes('"level":50') && !text.includes('"level":60') && !text.includes('Error'))
      return
    for (const line of text.split('\n')) {
      if (/"level":(50|60)|Error/.test(line)) errors.push(line.slice(0, 400))
    }
  }
  child.stdout!.on('data', scan)
  child.stderr!.on('data', scan)
  // SERVER_LOG=1 shows the processes' logs on this process's stderr (for debugging a run).
  if (process.env.SERVER_LOG) {
    child.stdout!.pipe(process.stderr)
    child.stderr!.pipe(process.stderr)
  }
  let exited: number | null = null
  let stopping = false
  child.once('exit', (code, signal) => {
    exited = code ?? -1
    if (stopping) return
    // Nothing measured after this would mean anything (and autocannon would retry forever).
    console.error(
      `${name} exited unexpectedly (${code ?? signal}); stopping the run. Its error lines:\n${errors.join('\n')}`,
    )
    process.exit(1)
  })
  child.on('error', () => undefined) // a send on a closed channel: the exit handler speaks

  const deadline = Date.now() + 30_000
  for (;;) {
    if (exited !== null) throw new Error(`${name} exited with ${exited}: ${errors.join('\n')}`)
    const ok = await fetch(`${url}/readyz`)
      .then((r) => r.ok)
      .catch(() => false)
    if (ok) break
    if (Date.now() > deadline) throw new Error(`${name} not ready in 30 s: ${errors.join('\n')}`)
    await sleep(100)
  }

  let nextId = 0
  const waiting = new Map<number, (s: ProbeSample) => void>()
  child.on('message', (m: { type?: string; id?: number } & ProbeSample) => {
    if (m.type === 'fen-bench-sample' && m.id !== undefined) {
      waiting.get(m.id)?.(m)
      waiting.delete(m.id)
    }
  })
  return {
    url,
    pid: child.pid!,
    errors,
    sample: (reset = false) =>
      new Promise((resolve) => {
        const id = nextId++
        waiting.set(id, resolve)
        child.send({ type: 'fen-bench-sample', id, reset })
      }),
    stop: () => {
      stopping = true
      return stopChild(child)
    },
  }
}

/**
 * Logs `openid` in through `serverUrl`'s `POST /api/auth/login`, as the mini-program does (a login
 * code from the sandbox, code2Session at the server); returns the token and the user's id.
 */
export async function loginShopper(
  sandboxUrl: string,
  serverUrl: string,
  openid: string,
): Promise<{ token: string; userId: number }> {
  const login = await fetch(`${serverUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code: await loginCode(sandboxUrl, openid) }),
  })
  if (!login.ok) throw new Error(`login failed: ${login.status} ${await login.text()}`)
  const { token, user } = (await login.json()) as { token: string; user: { id: number } }
  return { token, userId: user.id }
}

/**
 * Fresh `wx.login` codes, one per openid, in order, from the sandbox's control API (16 requests
 * at a time).
 */
export async function loginCodes(sandboxUrl: string, openids: string[]): Promise<string[]> {
  const codes: string[] = new Array(openids.length)
  let next = 0
  const worker = async () => {
    while (next < openids.length) {
      const i = next++
      codes[i] = await loginCode(sandboxUrl, openids[i]!)
    }
  }
  await Promise.all(Array.from({ length: 16 }, worker))
  return codes
}

/** A fresh `wx.login` code for `openid`, from the sandbox's control API. */
export async function loginCode(sandboxUrl: string, openid: string): Promise<string> {
  const res = await fetch(`${sandboxUrl}/__sandbox/login-codes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ openid }),
  })
  if (!res.ok) throw new Error(`login code: ${res.status} ${await res.text()}`)
  return ((await res.json()) as { code: string }).code
}

// ---- the whole stack ---------------------------------------------------------------------------

/** What a server benchmark runs against: everything {@link withStack} started. */
export interface Stack {
  /** A pool on DATABASE_URL's own database (for pg_stat_activity). */
  admin: pg.Pool
  /** {@link machineLines}, read before anything was started. */
  header: string[]
  db: BenchDatabase
  keys: SandboxKeys
  sandbox: { url: string; child: ChildProcess }
  /** Fen's server. */
  server: RunningServer
  /** The reference backend (bench/reference/). */
  reference: RunningServer
  /** Every backend running; a benchmark that starts another adds it, and it is stopped with them. */
  servers: RunningServer[]
}

/**
 * Runs `run` against a fresh database, the sandbox CLI, Fen's server (with `serverEnv`) and the
 * reference backend, and takes it all down afterwards, whatever happened.
 */
export async function withStack<T>(
  opts: { serverEnv?: Record<string, string> },
  run: (stack: Stack) => Promise<T>,
): Promise<T> {
  const admin = benchPool({ connectionString: DATABASE_URL, max: 2 })
  const header = await machineLines(admin)
  const db = await createBenchDatabase()
  const { keys, file } = await sandboxKeysFile()
  const sandbox = await startSandboxCli(file)
  const servers: RunningServer[] = []
  try {
    const at = { databaseUrl: db.url, sandboxUrl: sandbox.url }
    const server = await startServer({ ...at, env: opts.serverEnv })
    servers.push(server)
    const reference = await startReference(at)
    servers.push(reference)
    return await run({ admin, header, db, keys, sandbox, server, reference, servers })
  } finally {
    for (const s of servers) await s.stop()
    await stopChild(sandbox.child)
    await db.drop()
    await admin.end()
  }
}

// ---- load -------------------------------------------------------------------------------------

export interface PreparedRequest {
  method: 'POST' | 'GET'
  path: string
  headers: Record<string, string>
  body?: string
}

export interface FireResult {
  /** Completed requests per second, from the first request sent to the last response. */
  rps: number
  completed: number
  seconds: number
  /** The whole call, autocannon's start-up and its wait for the next 1-second tick included. */
  callSeconds: number
  p50: number
  p99: number
  errors: number
  timeouts: number
  non2xx: number
  /** CPU ms this process (the load generator) used during the run. */
  loadCpuMs: number
}

/**
 * Sends `amount` requests over `connections` keep-alive connections with autocannon, each request
 * taken in turn from `prepared` (shared by all connections, so no request is sent twice). Every
 * connection builds its next request before it needs it, so `prepared` must hold `amount +
 * connections` requests; the last few are built and never sent.
 */
export async function fire(
  url: string,
  prepared: PreparedRequest[],
  amount: number,
  connections: number,
): Promise<FireResult> {
  if (prepared.length < amount + connections)
    throw new Error(`fire: ${amount} requests over ${connections} connections need more prepared`)
  let next = 0
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  let lastResponse = t0
  // Without a callback autocannon returns its instance (an EventEmitter) made thenable; the types
  // know only the promise.
  const instance = autocannon({
    url,
    connections,
    amount,
    timeout: 30,
    requests: [
      {
        setupRequest: (req) => {
          const r = prepared[next++]
          if (!r) throw new Error('fire: out of prepared requests')
          return { ...req, method: r.method, path: r.path, headers: r.headers, body: r.body }
        },
      },
    ],
  }) as unknown as autocannon.Instance & Promise<autocannon.Result>
  // autocannon reports on its 1-second tick, so its own duration is rounded up to whole seconds:
  // the rate is taken from the first request to the last response instead.
  instance.on('response', () => {
    lastResponse = performance.now()
  })
  const result = await instance
  const cpu = process.cpuUsage(cpu0)
  return {
    rps: result.requests.total / ((lastResponse - t0) / 1000),
    completed: result.requests.total,
    seconds: (lastResponse - t0) / 1000,
    callSeconds: (performance.now() - t0) / 1000,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    loadCpuMs: (cpu.user + cpu.system) / 1000,
  }
}

// ---- rounds -----------------------------------------------------------------------------------

/** One timed round of one case, with CPU time per request by process. */
export interface RoundStats {
  rps: number
  p50: number
  p99: number
  errors: number
  non2xx: number
  /** CPU ms per request of the server process measured (Fen's or the reference's). */
  serverCpuMs: number
  /** CPU ms per request of the sandbox process (0 where it does no work per request). */
  sandboxCpuMs: number
  /** CPU ms per request of the database's PostgreSQL backends. */
  dbCpuMs: number
  /** CPU ms per request of this process (the load generator). */
  loadCpuMs: number
  /** Cores' worth of CPU that other processes used during the round (other tests, PostgreSQL's own). */
  otherCores: number
}

/**
 * Fires `amount` of `prepared` at `server` over `connections` and reads, around it, the CPU time of
 * the server process (its probe), of the database's backends (/proc), of the sandbox when
 * `sandboxPid` is given, of this process, and of the whole machine.
 */
export async function serverRound(opts: {
  db: BenchDatabase
  admin: pg.Pool
  server: RunningServer
  prepared: PreparedRequest[]
  amount: number
  connections: number
  sandboxPid?: number
  /**
   * Work the requests leave behind (Fen's outbox events, delivered by its dispatcher after the
   * answers): the round's CPU is read once `done()` says it is finished, and counts every process
   * in `processes` — Fen's servers on one database, whose dispatchers deliver each other's events
   * too — instead of `server` alone. Rates and latencies stay those of the requests.
   */
  aftermath?: { processes: RunningServer[]; done: () => Promise<boolean> }
}): Promise<RoundStats> {
  const { db, admin, server } = opts
  const counted = opts.aftermath?.processes ?? [server]
  const pids = await backendPids(admin, db.name)
  const db0 = cpuMsOf(pids)
  const sb0 = cpuMsOf(opts.sandboxPid ? [opts.sandboxPid] : [])
  const s0 = await Promise.all(counted.map((s) => s.sample(s === server)))
  const m0 = machineBusyMs()
  const w0 = performance.now()
  const r = await fire(server.url, opts.prepared, opts.amount, opts.connections)
  if (opts.aftermath) await until(opts.aftermath.done, 120_000)
  const wallMs = performance.now() - w0
  const busy = machineBusyMs() - m0
  const s1 = await Promise.all(counted.map((s) => s.sample()))
  const sb1 = cpuMsOf(opts.sandboxPid ? [opts.sandboxPid] : [])
  const db1 = cpuMsOf([...new Set([...pids, ...(await backendPids(admin, db.name))])])
  let serverMs = 0
  for (let i = 0; i < counted.length; i++) serverMs += (s1[i]!.cpuMicros - s0[i]!.cpuMicros) / 1000
  const dbMs = cpuMsBetween(db0, db1)
  const sandboxMs = cpuMsBetween(sb0, sb1)
  const ours = serverMs + dbMs + sandboxMs + r.loadCpuMs
  return {
    otherCores: (busy - ours) / wallMs,
    rps: r.rps,
    p50: r.p50,
    p99: r.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    serverCpuMs: serverMs / r.completed,
    sandboxCpuMs: sandboxMs / r.completed,
    dbCpuMs: dbMs / r.completed,
    loadCpuMs: r.loadCpuMs / r.completed,
  }
}

/** The two backends every server benchmark compares. */
export type Backend = 'server' | 'reference'

/**
 * Warms Fen's server and the reference backend up (`warmup` requests each), then runs `rounds`
 * interleaved rounds of `requests` each over `connections` (the two swap places every other
 * round: see {@link roundOrder}). `prepare` builds a case's requests for the warm-up (`round`
 * 'warm') or a round, `count` of them (fire needs `connections` more than it sends);
 * `beforeRound` runs first in each round, untimed.
 */
export async function versusRounds(
  stack: Stack,
  opts: {
    cases: { name: Backend }[]
    rounds: number
    requests: number
    connections: number
    warmup: number
    prepare: (
      name: Backend,
      round: number | 'warm',
      count: number,
    ) => PreparedRequest[] | Promise<PreparedRequest[]>
    beforeRound?: (round: number) => Promise<void>
    /** Also measure the sandbox's CPU (where it works per request). */
    sandboxCpu?: boolean
  },
): Promise<Record<Backend, RoundStats>[]> {
  const { connections } = opts
  const backends: Record<Backend, RunningServer> = {
    server: stack.server,
    reference: stack.reference,
  }
  for (const { name } of opts.cases) {
    const warm = await opts.prepare(name, 'warm', opts.warmup + connections)
    await fire(backends[name].url, warm, opts.warmup, connections)
  }
  const rounds: Record<Backend, RoundStats>[] = []
  for (let round = 0; round < opts.rounds; round++) {
    await opts.beforeRound?.(round)
    const r = {} as Record<Backend, RoundStats>
    for (const { name } of roundOrder(opts.cases, round)) {
      r[name] = await serverRound({
        db: stack.db,
        admin: stack.admin,
        server: backends[name],
        prepared: await opts.prepare(name, round, opts.requests + connections),
        amount: opts.requests,
        connections,
        ...(opts.sandboxCpu ? { sandboxPid: stack.sandbox.child.pid! } : {}),
      })
    }
    rounds.push(r)
  }
  return rounds
}
