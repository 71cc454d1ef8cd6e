// `pnpm dev`: the one command that starts Fen for local work — the Fen sandbox (an offline WeChat
// Pay), then the server on embedded PGlite pointed at it — and prints where everything is.
// The mini-program's H5 build joins here with issue #5.
import { spawn } from 'node:child_process'

const SANDBOX = process.env.SANDBOX_URL ?? 'http://127.0.0.1:3100'
const PORT = process.env.PORT ?? '3000'
const children = []

function start(name, args, env = {}) {
  const child = spawn('pnpm', args, { stdio: 'inherit', env: { ...process.env, ...env } })
  child.on('exit', (code, signal) => {
    if (signal === null && code !== 0) {
      console.error(`[dev] ${name} exited with ${code}`)
      stopAll(code ?? 1)
    }
  })
  children.push(child)
}

function stopAll(code = 0) {
  for (const c of children) c.kill('SIGTERM')
  process.exit(code)
}
process.on('SIGINT', () => stopAll(0))
process.on('SIGTERM', () => stopAll(0))

async function waitFor(url, name) {
  for (let i = 0; i < 150; i++) {
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
start('sandbox', ['--filter', '@fen/sandbox', 'start'], { SANDBOX_QUIET: '1' })
await waitFor(`${SANDBOX}/__sandbox/merchant`, 'the sandbox')
start('server', ['--filter', '@fen/server', 'start'], {
  FEN_SANDBOX_URL: SANDBOX,
  PORT,
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
})
await waitFor(`http://127.0.0.1:${PORT}/readyz`, 'the server')
console.log(`
Fen is running:
  server           http://127.0.0.1:${PORT}        (GET /api/products, /healthz, /metrics)
  sandbox          ${SANDBOX}/__sandbox/   (play WeChat's side: pay, fail, refund, resend)
  admin token      fen-dev-admin-token           (Authorization: Bearer …, /api/admin/…)
  database         PGlite in apps/server/.data   (set DATABASE_URL for PostgreSQL)
`)
