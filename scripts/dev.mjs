// `pnpm dev`: the one command that starts Fen for local work — the Fen sandbox (an offline WeChat
// Pay), the server on embedded PGlite pointed at it, the shop's H5 build in sandbox mode,
// rebuilt on change (Taro's dev server proxies /api and /__sandbox), and the operator's console
// (Vite, proxying /api) — and prints where everything is.
import { spawn, spawnSync } from 'node:child_process'
import { createInterface } from 'node:readline'

const SANDBOX = process.env.SANDBOX_URL ?? 'http://127.0.0.1:3100'
const PORT = process.env.PORT ?? '3000'
const H5_PORT = process.env.FEN_H5_PORT ?? '10086'
const ADMIN_PORT = process.env.FEN_ADMIN_PORT ?? '5174'
const children = []

const LEVELS = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' }

/** One of the server's pino JSON lines as a person reads it: `[server] warn  message key=value`. */
function readable(line) {
  let entry
  try {
    entry = JSON.parse(line)
  } catch {
    return `[server] ${line}`
  }
  const { level, time: _time, service: _service, pid: _pid, hostname: _host, msg, ...rest } = entry
  const fields = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ')
  return `[server] ${(LEVELS[level] ?? level).padEnd(5)} ${msg ?? ''}${fields ? `  ${fields}` : ''}`
}

/** A line without its terminal escape codes (colours, cursor moves). */
function plainText(line) {
  // eslint-disable-next-line no-control-regex
  return line.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
}

/**
 * Starts `pnpm <args>` (quietly: no "> script" lines). With `format`, the child's stdout is read
 * line by line and printed through it; otherwise the child writes to our terminal (or file)
 * itself, so its own terminal detection holds.
 */
function start(name, args, env = {}, format) {
  // Each child leads its own process group, so stopping it stops what pnpm started under it (tsx,
  // webpack); a plain kill of pnpm would leave the sandbox and the server holding their ports.
  const child = spawn('pnpm', ['--silent', ...args], {
    stdio: format ? ['ignore', 'pipe', 'inherit'] : 'inherit',
    detached: true,
    env: { ...process.env, ...env },
  })
  if (format) createInterface({ input: child.stdout }).on('line', (l) => console.log(format(l)))
  child.on('exit', (code, signal) => {
    if (signal === null && code !== 0) {
      console.error(`[dev] ${name} exited with ${code}`)
      stopAll(code ?? 1)
    }
  })
  children.push(child)
}

function stopAll(code = 0) {
  for (const c of children) {
    try {
      process.kill(-c.pid, 'SIGTERM')
    } catch {
      // already gone
    }
  }
  process.exit(code)
}
process.on('SIGINT', () => stopAll(0))
process.on('SIGTERM', () => stopAll(0))

async function waitFor(url, name, seconds = 30) {
  for (let i = 0; i < seconds * 5; i++) {
    try {
      if ((await fetch(url)).ok) return
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  console.error(`[dev] ${name} did not come up at ${url}`)
  stopAll(1)
}

console.log('Fen dev: starting the sandbox and the server. Ctrl-C stops everything.\n')
// The sandbox's console page is a Vite build; turbo rebuilds it only when its sources changed (a
// second or so otherwise). Without it the sandbox still runs, and its page says how to build it.
const consoleBuild = spawnSync(
  'pnpm',
  ['exec', 'turbo', 'run', 'build:console', '--filter=@fen/sandbox', '--output-logs=errors-only'],
  { stdio: ['ignore', 'ignore', 'inherit'] },
)
if (consoleBuild.status !== 0) console.error('[dev] the sandbox console did not build (see above)')
// The shop's H5 pages call the sandbox's control API (login codes, the cashier) through the dev
// server's /__sandbox proxy, which forwards their Origin: the sandbox must allow it.
const shopOrigins = [`http://127.0.0.1:${H5_PORT}`, `http://localhost:${H5_PORT}`]
start('sandbox', ['--filter', '@fen/sandbox', 'start'], {
  SANDBOX_QUIET: '1',
  SANDBOX_ALLOWED_ORIGINS: [process.env.SANDBOX_ALLOWED_ORIGINS, ...shopOrigins]
    .filter(Boolean)
    .join(','),
})
await waitFor(`${SANDBOX}/__sandbox/merchant`, 'the sandbox')
start(
  'server',
  ['--filter', '@fen/server', 'start'],
  { FEN_SANDBOX_URL: SANDBOX, PORT, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
  readable,
)
// The first start creates the PGlite database (initdb): a minute and more on a busy machine.
await waitFor(`http://127.0.0.1:${PORT}/readyz`, 'the server', 180)
start(
  'h5',
  ['--filter', '@fen/miniprogram', 'dev:h5'],
  {
    FEN_H5_PORT: H5_PORT,
    FEN_SERVER_URL: `http://127.0.0.1:${PORT}`,
    FEN_SANDBOX_PROXY: SANDBOX,
  },
  // Webpack colours its stats even into a file: a log (not a terminal) gets plain text. (In a
  // terminal the build writes there itself and keeps its progress bar; see config/index.ts.)
  process.stdout.isTTY ? undefined : plainText,
)
// The operator's console: Vite's dev server, proxying /api and /metrics to the server.
start(
  'admin',
  [
    '--filter',
    '@fen/admin',
    'dev',
    '--host',
    '127.0.0.1',
    '--clearScreen',
    'false',
    '--logLevel',
    'warn',
  ],
  { FEN_ADMIN_PORT: ADMIN_PORT, FEN_SERVER_URL: `http://127.0.0.1:${PORT}` },
)
// The first H5 compile takes a while on two cores.
await waitFor(`http://127.0.0.1:${H5_PORT}/`, 'the H5 shop', 180)
await waitFor(`http://127.0.0.1:${ADMIN_PORT}/admin/`, 'the admin console', 60)
// The server's own default when ADMIN_TOKEN is unset (apps/server/src/config.ts, sandbox mode).
const adminToken = process.env.ADMIN_TOKEN || 'fen-dev-admin-token'
const rows = [
  [
    'shop (H5)',
    `http://127.0.0.1:${H5_PORT}`,
    'sandbox mode: pay through the simulated cashier or by QR',
  ],
  ['admin console', `http://127.0.0.1:${ADMIN_PORT}/admin/`, 'sign in with the admin token below'],
  ['server', `http://127.0.0.1:${PORT}`, 'GET /api/products, /healthz'],
  ['sandbox', `${SANDBOX}/__sandbox/`, 'console: orders, notifications, call log, faults, clock'],
  ['admin token', adminToken, 'Authorization: Bearer …, /api/admin/…, /metrics'],
  [
    'database',
    process.env.DATABASE_URL ? 'PostgreSQL (DATABASE_URL)' : 'PGlite in apps/server/.data',
    process.env.DATABASE_URL ? '' : 'set DATABASE_URL for PostgreSQL',
  ],
  [
    'WeChat DevTools',
    'pnpm --filter @fen/miniprogram dev:weapp',
    'then open dist/weapp-sandbox; see docs/devtools.md',
  ],
]
const width = (i) => Math.max(...rows.map((r) => r[i].length))
console.log(
  `\nFen is running:\n${rows
    .map(([a, b, c]) => `  ${a.padEnd(width(0))}  ${c ? `${b.padEnd(width(1))}  (${c})` : b}`)
    .join('\n')}\n`,
)
