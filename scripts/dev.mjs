// `pnpm dev`: the one command that starts Fen for local work, and prints where everything is.
// Today it starts the Fen sandbox (an offline WeChat Pay). The server (issue #4) and the
// mini-program's H5 build (issue #5) join it here as they land.
import { spawn } from 'node:child_process'

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

console.log('Fen dev: starting the sandbox (an offline WeChat Pay). Ctrl-C stops everything.\n')
start('sandbox', ['--filter', '@fen/sandbox', 'start'])
