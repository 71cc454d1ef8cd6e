/**
 * The published packages as a user gets them: `pnpm pack` @fen/wechatpay, @fen/sandbox and
 * @fen/shared, `npm install` the tarballs into a fresh project in the OS temp dir (outside the
 * workspace, so nothing resolves to the repo), then use them from there: require() and import,
 * `tsc` with moduleResolution node16 and bundler, and a Native payment through the installed
 * `fen-sandbox` bin with the installed SDK. The project's files are in ./project.
 *
 * Needs the packages built: `pnpm test` and `pnpm test:consumer` build them first (turbo).
 * FEN_KEEP_CONSUMER=1 keeps the temp project for a look.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const repo = fileURLToPath(new URL('../..', import.meta.url))
const fixtures = fileURLToPath(new URL('./project', import.meta.url))
const PACKAGES = ['wechatpay', 'sandbox', 'shared'] as const

/**
 * A user's shell environment: without what pnpm, turbo and vitest set for this workspace
 * (npm_config_*, NODE_OPTIONS, NODE_PATH …) and without the workspace's node_modules/.bin on PATH.
 */
function outsideEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(npm_|pnpm_|NODE_OPTIONS$|NODE_PATH$|VITEST|TURBO_|INIT_CWD$)/i.test(k)) env[k] = v
  }
  env.PATH = (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((p) => !p.startsWith(repo))
    .join(path.delimiter)
  return { ...env, ...extra }
}

/** Runs a command to its end; rejects with its output when it fails. */
function run(cmd: string, args: string[], cwd: string, env = outsideEnv()): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, env, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${cmd} ${args.join(' ')} failed:\n${stdout}\n${stderr}`))
      else resolve(stdout + stderr)
    })
  })
}

/** Prints what a step ran and what it printed, indented, so the output reads as a transcript. */
function show(step: string, output: string): void {
  const lines = output.trim().split('\n')
  console.log([`  $ ${step}`, ...lines.map((l) => `    ${l}`)].join('\n'))
}

let project: string
let tarballs: string[] = []
/** Both `tsc` runs, started together once the project is installed: each takes a while. */
let typeChecks: Record<'node16' | 'bundler', Promise<{ output: string } | { error: Error }>>
let sandbox: ChildProcess | undefined
let sandboxUrl: string | undefined

beforeAll(() => {
  project = mkdtempSync(path.join(os.tmpdir(), 'fen-consumer-'))
})

afterAll(() => {
  sandbox?.kill('SIGTERM')
  if (project && !process.env.FEN_KEEP_CONSUMER) rmSync(project, { recursive: true, force: true })
})

describe.sequential('the packages from their tarballs, in a project outside the repo', () => {
  it('packs @fen/wechatpay, @fen/sandbox and @fen/shared with pnpm pack', async () => {
    for (const name of PACKAGES) {
      if (!existsSync(path.join(repo, 'packages', name, 'dist/index.js'))) {
        throw new Error(`packages/${name}/dist is missing: build first (pnpm test:consumer does)`)
      }
    }
    const out = path.join(project, 'tarballs')
    mkdirSync(out)
    const filters = PACKAGES.flatMap((name) => ['--filter', `@fen/${name}`])
    await run('pnpm', [...filters, 'pack', '--pack-destination', out], repo, process.env)
    tarballs = readdirSync(out).map((f) => path.join(out, f))
    show('pnpm pack', tarballs.map((t) => path.basename(t)).join('\n'))
    const names = tarballs.map((t) => path.basename(t).replace(/-\d+\.\d+\.\d+.*\.tgz$/, ''))
    expect(names.sort()).toEqual(['fen-sandbox', 'fen-shared', 'fen-wechatpay'])
    // pnpm replaces the workspace protocol with the version in the packed manifest.
    const sandboxTarball = tarballs.find((t) => path.basename(t).startsWith('fen-sandbox'))!
    const manifest = await run('tar', ['-xzOf', sandboxTarball, 'package/package.json'], project)
    expect(JSON.parse(manifest).dependencies['@fen/wechatpay']).toMatch(/^\d+\.\d+\.\d+$/)
  })

  it('installs them, typescript ~5.9 and @types/node ^20 with npm into a fresh project', async () => {
    const manifest = { name: 'fen-consumer', version: '1.0.0', private: true }
    writeFileSync(path.join(project, 'package.json'), JSON.stringify(manifest, null, 2))
    for (const f of readdirSync(fixtures))
      copyFileSync(path.join(fixtures, f), path.join(project, f))
    // One TypeScript consumer, checked as CommonJS (.ts in a package without "type") and as ESM.
    copyFileSync(path.join(fixtures, 'consumer.ts'), path.join(project, 'typed.ts'))
    copyFileSync(path.join(fixtures, 'consumer.ts'), path.join(project, 'typed.mts'))
    const deps = [...tarballs, 'typescript@~5.9', '@types/node@^20']
    const out = await run(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', ...deps],
      project,
    )
    show('npm install <the 3 tarballs> typescript@~5.9 @types/node@^20', out)
    for (const name of PACKAGES) {
      expect(existsSync(path.join(project, 'node_modules/@fen', name, 'dist/index.cjs'))).toBe(true)
    }
    expect(existsSync(path.join(project, 'node_modules/.bin/fen-sandbox'))).toBe(true)
    const tsc = (config: string) =>
      run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', config], project).then(
        (output) => ({ output }),
        (error: Error) => ({ error }),
      )
    typeChecks = { node16: tsc('tsconfig.node16.json'), bundler: tsc('tsconfig.bundler.json') }
  })

  it('loads every entry with require() from CommonJS', async () => {
    const out = await run(process.execPath, ['require.cjs'], project)
    show('node require.cjs', out)
    expect(out).toContain('require ok')
  })

  it('loads every entry with import from ESM', async () => {
    const out = await run(process.execPath, ['import.mjs'], project)
    show('node import.mjs', out)
    expect(out).toContain('import ok')
  })

  it.each([
    ['node16', 'typed.ts as CommonJS (.d.cts), typed.mts as ESM (.d.ts)'],
    ['bundler', 'typed.ts and typed.mts'],
  ] as const)('type-checks a TypeScript consumer, moduleResolution %s', async (mode, what) => {
    const result = await typeChecks[mode]
    if ('error' in result) throw result.error
    show(`tsc --noEmit -p tsconfig.${mode}.json   # ${what}`, result.output || '(no errors)')
    expect(result.output).toBe('')
  })

  it('starts the installed fen-sandbox bin on a free port, its keys made in ./.sandbox/', async () => {
    const child = spawn(path.join(project, 'node_modules/.bin/fen-sandbox'), [], {
      cwd: project,
      env: outsideEnv({ SANDBOX_PORT: '0', SANDBOX_QUIET: '1' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    sandbox = child
    let output = ''
    sandboxUrl = await new Promise<string>((resolve, reject) => {
      const onData = (d: Buffer) => {
        output += d.toString()
        const url = /listening on (http:\/\/\S+)/.exec(output)?.[1]
        if (url) resolve(url)
      }
      child.stdout.on('data', onData)
      child.stderr.on('data', onData)
      child.on('exit', (code) => reject(new Error(`fen-sandbox exited with ${code}:\n${output}`)))
    })
    show('SANDBOX_PORT=0 node_modules/.bin/fen-sandbox', output)
    expect(sandboxUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(existsSync(path.join(project, '.sandbox/keys.json'))).toBe(true)
    expect(output).toContain(path.join(project, '.sandbox/keys.json'))
  })

  it('pays a Native order: prepay → the sandbox pays → a notification reaches a listener → parseNotification verifies and decrypts it', async () => {
    expect(sandboxUrl).toBeDefined()
    const out = await run(process.execPath, ['pay.mjs', sandboxUrl!], project)
    show(`node pay.mjs ${sandboxUrl}`, out.replace(/^RESULT .*$/m, ''))
    const result = JSON.parse(/^RESULT (.*)$/m.exec(out)![1]!)
    expect(result).toMatchObject({
      eventType: 'TRANSACTION.SUCCESS',
      notified: { out_trade_no: result.outTradeNo, trade_state: 'SUCCESS', total: 2990 },
      queried: 'SUCCESS',
    })
    expect(result.notified.transaction_id).toBe(result.paidTransactionId)
  })

  // Each package README opens with a snippet for users outside this repo: the same text as
  // project/readme-<package>.mjs, which runs here against the installed packages.
  it.each([
    ['wechatpay', /^weixin:\/\/wxpay\/bizpayurl\?pr=\w+$/m],
    ['sandbox', /^WeChat Pay at http:\/\/127\.0\.0\.1:\d+ for merchant \d+$/m],
    ['shared', /^¥29\.90\n已支付\ntrue$/m],
  ] as const)("runs packages/%s/README.md's first example as written", async (name, expected) => {
    const snippet = readFileSync(path.join(fixtures, `readme-${name}.mjs`), 'utf8')
    const readme = readFileSync(path.join(repo, 'packages', name, 'README.md'), 'utf8')
    const firstJs = /```js\n([\s\S]*?)```/.exec(readme)?.[1]
    expect(firstJs, `packages/${name}/README.md's first js block`).toBe(snippet)
    const env = outsideEnv({ SANDBOX_URL: sandboxUrl! })
    const out = await run(process.execPath, [`readme-${name}.mjs`], project, env)
    show(`node readme-${name}.mjs`, out)
    expect(out).toMatch(expected)
  })
})
