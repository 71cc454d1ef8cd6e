/**
 * `pnpm bench:sandbox` — how fast the Fen sandbox starts and how many JSAPI prepays it answers.
 *
 * Startup: the CLI (`node --conditions=@fen/source --import tsx packages/sandbox/src/cli.ts`) from spawn to "listening",
 * with a keys file, and `startSandbox()` in-process; medians of RUNS.
 *
 * Throughput: the sandbox runs in its own process (its own core). Requests are signed *before*
 * the timed run (each with its own out_trade_no, nonce and Authorization), so the figure is the
 * sandbox's — verify the merchant's RSA signature, validate, create the order, sign the answer —
 * not the load generator's. CONCURRENCY keep-alive connections; ROUNDS rounds of REQUESTS each.
 * Prints figures; asserts nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRsaSigner, randomNonce, signRequest } from '@fen/wechatpay'
import { generateSandboxKeys, startSandbox, type SandboxKeys } from '@fen/sandbox'
import { freePort, median, pct, stopChild } from './util'

const RUNS = Number(process.env.RUNS ?? 5)
const ROUNDS = Number(process.env.ROUNDS ?? 5)
const REQUESTS = Number(process.env.REQUESTS ?? 3000)
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 32)
const here = path.dirname(fileURLToPath(import.meta.url))
const cli = path.join(here, '../packages/sandbox/src/cli.ts')

/** Spawns the CLI and resolves when it prints its URL. */
function startCli(keysFile: string, port: number): Promise<{ child: ChildProcess; ms: number }> {
  const t0 = performance.now()
  const child = spawn(process.execPath, ['--conditions=@fen/source', '--import', 'tsx', cli], {
    env: { ...process.env, SANDBOX_KEYS: keysFile, SANDBOX_PORT: String(port), SANDBOX_QUIET: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes('listening on')) resolve({ child, ms: performance.now() - t0 })
    })
    child.on('exit', (code) => reject(new Error(`sandbox exited with ${code}: ${out}`)))
  })
}

interface Signed {
  path: string
  body: string
  headers: Record<string, string>
}

function presign(keys: SandboxKeys, n: number, round: number): Signed[] {
  const signer = createRsaSigner(keys.merchantPrivateKey)
  const now = Math.floor(Date.now() / 1000)
  const out: Signed[] = []
  for (let i = 0; i < n; i++) {
    const body = JSON.stringify({
      appid: keys.appid,
      mchid: keys.mchid,
      description: 'Fen 压测商品',
      out_trade_no: `BENCH${round}x${String(i).padStart(8, '0')}`,
      notify_url: 'http://127.0.0.1:9/notify',
      amount: { total: 100 + (i % 5000) },
      payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
    })
    const url = '/v3/pay/transactions/jsapi'
    out.push({
      path: url,
      body,
      headers: {
        Accept: 'application/json',
        'Content-Type': 'application/json',
        'User-Agent': 'fen-bench',
        Authorization: signRequest({
          signer,
          mchid: keys.mchid,
          serialNo: keys.merchantSerialNo,
          method: 'POST',
          url,
          body,
          timestamp: now,
          nonce: randomNonce(),
        }),
      },
    })
  }
  return out
}

async function fire(
  port: number,
  requests: Signed[],
): Promise<{ seconds: number; latencies: number[]; errors: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY })
  const latencies: number[] = []
  let errors = 0
  let next = 0
  const worker = async () => {
    while (next < requests.length) {
      const r = requests[next++]!
      const t = performance.now()
      const status = await new Promise<number>((resolve) => {
        const req = http.request(
          { host: '127.0.0.1', port, method: 'POST', path: r.path, headers: r.headers, agent },
          (res) => {
            res.resume()
            res.on('end', () => resolve(res.statusCode ?? 0))
          },
        )
        req.on('error', () => resolve(0))
        req.end(r.body)
      })
      latencies.push(performance.now() - t)
      if (status !== 200) errors++
    }
  }
  const t0 = performance.now()
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  const seconds = (performance.now() - t0) / 1000
  agent.destroy()
  return { seconds, latencies, errors }
}

async function main(): Promise<void> {
  const keys = await generateSandboxKeys()
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fen-bench-'))
  const keysFile = path.join(dir, 'keys.json')
  writeFileSync(keysFile, JSON.stringify(keys))

  // Startup.
  const cliMs: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const { child, ms } = await startCli(keysFile, await freePort())
    cliMs.push(ms)
    await stopChild(child)
  }
  const inProcessMs: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now()
    const sb = await startSandbox({ keys, port: 0 })
    inProcessMs.push(performance.now() - t0)
    await sb.close()
  }

  // Throughput against the CLI in its own process.
  const port = await freePort()
  const { child } = await startCli(keysFile, port)
  const warm = presign(keys, 500, 0)
  await fire(port, warm)
  const rates: number[] = []
  const p50s: number[] = []
  const p99s: number[] = []
  let errors = 0
  for (let round = 1; round <= ROUNDS; round++) {
    const batch = presign(keys, REQUESTS, round)
    const r = await fire(port, batch)
    rates.push(REQUESTS / r.seconds)
    p50s.push(pct(r.latencies, 0.5))
    p99s.push(pct(r.latencies, 0.99))
    errors += r.errors
  }
  await stopChild(child)

  console.log(`# Sandbox benchmark — ${new Date().toISOString()}`)
  console.log(
    `machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, Node ${process.version}`,
  )
  console.log(`\nstartup (median of ${RUNS}, min–max):`)
  console.log(
    `- CLI, spawn → listening (tsx, keys file): ${median(cliMs).toFixed(0)} ms (${Math.min(...cliMs).toFixed(0)}–${Math.max(...cliMs).toFixed(0)})`,
  )
  console.log(
    `- startSandbox() in-process, keys given:   ${median(inProcessMs).toFixed(1)} ms (${Math.min(...inProcessMs).toFixed(1)}–${Math.max(...inProcessMs).toFixed(1)})`,
  )
  console.log(
    `\nJSAPI prepay throughput: ${ROUNDS} rounds × ${REQUESTS} pre-signed requests, ${CONCURRENCY} keep-alive connections`,
  )
  console.log(
    `- requests/s: median ${median(rates).toFixed(0)} (min ${Math.min(...rates).toFixed(0)}, max ${Math.max(...rates).toFixed(0)})  target ≥ 1000`,
  )
  console.log(
    `- latency: p50 ${median(p50s).toFixed(1)} ms, p99 ${median(p99s).toFixed(1)} ms (medians over rounds)`,
  )
  console.log(`- non-200 answers: ${errors}`)
}

main().catch((e) => {
  console.error(e)
  process.exitCode = 1
})
