/**
 * The server started (`src/main.ts`, as `pnpm start` runs it) with a database it cannot reach:
 * one clear line naming DATABASE_URL and the cause, exit code 1 — not a stack trace.
 */
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { generateSandboxKeys, startSandbox, type RunningSandbox } from '@fen/sandbox'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let sandbox: RunningSandbox
beforeAll(async () => {
  sandbox = await startSandbox({ keys: await generateSandboxKeys(), port: 0 })
})
afterAll(() => sandbox?.close())

/** A port nothing listens on: bound once, then released. */
async function closedPort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const port = (s.address() as { port: number }).port
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

function start(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const root = fileURLToPath(new URL('..', import.meta.url))
  const child = spawn(
    process.execPath,
    ['--conditions=@fen/source', '--import', 'tsx', 'src/main.ts'],
    {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  )
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr })))
}

describe('an unreachable database at start', () => {
  it('prints one line naming DATABASE_URL and exits 1', async () => {
    const port = await closedPort()
    const { code, stderr } = await start({
      FEN_SANDBOX_URL: sandbox.url,
      PORT: String(await closedPort()),
      LOG_LEVEL: 'silent',
      DATABASE_URL: `postgres://fen:secret-password@127.0.0.1:${port}/fen`,
    })
    expect(code).toBe(1)
    const lines = stderr.trim().split('\n')
    expect(lines, stderr).toHaveLength(1)
    expect(lines[0]).toMatch(/DATABASE_URL/)
    expect(lines[0]).toMatch(/ECONNREFUSED|refused/)
    expect(stderr).not.toContain('secret-password')
  }, 60_000)
})
