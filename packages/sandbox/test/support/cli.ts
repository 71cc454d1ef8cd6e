import { spawn } from 'node:child_process'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { WechatPay } from '@fen/wechatpay'
import type { RunningSandbox } from '../../src/server'
import { until } from './until'

/** Helpers of the `fen-sandbox` tests: spawn the CLI through tsx, a merchant endpoint, the SDK. */

export { until }

const packageDir = fileURLToPath(new URL('../..', import.meta.url))

/** A running `fen-sandbox …`: its output so far, and its exit. */
export interface Cli {
  out(): string
  err(): string
  /** The exit code (null when killed by a signal it did not handle). */
  exited: Promise<number | null>
  /** Sends `signal` (SIGINT is Ctrl-C). */
  kill(signal?: NodeJS.Signals): void
  /** Waits until stdout satisfies `ok` (or the process exits first: then it throws). */
  waitFor(ok: (out: string) => boolean): Promise<string>
}

/** Spawns `fen-sandbox <args>` the way `pnpm sandbox` runs it (tsx, from the package folder). */
export function runCli(args: string[], env: Record<string, string> = {}): Cli {
  const child = spawn(
    process.execPath,
    ['--conditions=@fen/source', '--import', 'tsx', 'src/cli.ts', ...args],
    {
      cwd: packageDir,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  let done = false
  void exited.then(() => (done = true))
  return {
    out: () => stdout,
    err: () => stderr,
    exited,
    kill: (signal = 'SIGTERM') => {
      if (!done) child.kill(signal)
    },
    waitFor: async (ok) => {
      await until(
        () => stdout,
        (s) => ok(s) || done,
      )
      if (!ok(stdout)) throw new Error(`exited before the output expected:\n${stdout}\n${stderr}`)
      return stdout
    },
  }
}

/** Runs `fen-sandbox <args>` to its end. */
export async function runToEnd(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string; err: string }> {
  const cli = runCli(args, env)
  const code = await cli.exited
  return { code, out: cli.out(), err: cli.err() }
}

/** The JSON lines of an output. */
export function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
}

/** A port nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** A merchant endpoint: answers `status()` to each POST and records what it got. */
export async function listener(status: () => number = () => 204) {
  const received: { headers: IncomingHttpHeaders; body: string }[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
      const code = status()
      if (code === 204) res.writeHead(204).end()
      else res.writeHead(code, { 'Content-Type': 'application/json' }).end('{"code":"FAIL"}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/pay/notify`,
    received,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** The SDK, configured as the merchant of `sb`. */
export function merchantClient(sb: RunningSandbox): WechatPay {
  const m = sb.merchant
  return new WechatPay({
    baseUrl: sb.url,
    mchid: m.mchid,
    appid: m.appid,
    serialNo: m.merchantSerialNo,
    privateKey: m.merchantPrivateKey,
    apiV3Key: m.apiV3Key,
    platform: { publicKey: { id: m.platformPublicKeyId, key: m.platformPublicKey } },
  })
}

/** A JSON call to the control API. */
export async function control<T = unknown>(
  sb: RunningSandbox,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await fetch(sb.url + path, {
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } }),
  })
  const text = await res.text()
  return (text ? JSON.parse(text) : undefined) as T
}
