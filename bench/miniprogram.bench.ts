/**
 * `pnpm bench:miniprogram` — what the shop weighs: the weapp main package (WeChat refuses more than
 * 2 MB; we aim under 500 KB) and the H5 build's first load — the HTML, JS and CSS a browser
 * fetches to show the first page — raw and gzip (zlib's default level, 6).
 *
 * Sizes come from apps/miniprogram/scripts/build-size.mjs, the code `check:builds` uses. The
 * production builds (dist/weapp, dist/h5) are rebuilt first when stale: a build is stale when a
 * file under the app's src/, config/ or types/, its package.json, babel, project or TypeScript
 * config, or packages/shared/src is newer than the newest file in its dist folder (or the folder is
 * empty). FORCE_BUILD=1 always builds; SKIP_BUILD=1 never does.
 *
 * The H5 first-load list is found by reading the build (index.html's tags, then the first page's
 * route chunks). When Chromium is installed (/usr/bin/chromium or CHROMIUM), the page is also
 * loaded in headless Chromium from a local static server, and the files it actually requested
 * are compared with that list. Prints figures; asserts nothing.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  h5FirstLoad,
  listFiles,
  weappMainPackage,
} from '../apps/miniprogram/scripts/build-size.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const app = path.join(here, '../apps/miniprogram')
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium'
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`

const newest = (files: string[]) => Math.max(0, ...files.map((f) => statSync(f).mtimeMs))

/** Newest input of a build: the app's sources and configs, and the shared package it compiles in. */
function newestInput(): { file: string; ms: number } {
  const inputs = [
    ...['src', 'config', 'types'].flatMap((d) => listFiles(path.join(app, d))),
    ...['package.json', 'babel.config.js', 'project.config.json', 'tsconfig.json']
      .map((f) => path.join(app, f))
      .filter((f) => existsSync(f)),
    ...listFiles(path.join(here, '../packages/shared/src')),
  ]
  const ms = newest(inputs)
  return { file: inputs.find((f) => statSync(f).mtimeMs === ms) ?? '', ms }
}

/** Builds `target` unless its dist is newer than every input; says what it decided. */
function ensureBuilt(target: 'weapp' | 'h5'): string {
  const dist = path.join(app, 'dist', target)
  const built = newest(listFiles(dist))
  const input = newestInput()
  const stale = built === 0 || input.ms > built
  if (process.env.SKIP_BUILD) return `not built (SKIP_BUILD); dist/${target} as found`
  if (!stale && !process.env.FORCE_BUILD) {
    return `up to date: newest file in dist/${target} ${new Date(built).toISOString()} is newer than the newest input (${path.relative(app, input.file)}, ${new Date(input.ms).toISOString()})`
  }
  const t0 = performance.now()
  const r = spawnSync('pnpm', ['--filter', '@fen/miniprogram', `build:${target}`], {
    stdio: ['ignore', 2, 2],
  })
  if (r.status !== 0) throw new Error(`build:${target} failed (${r.status})`)
  return `built now (${process.env.FORCE_BUILD ? 'FORCE_BUILD' : built === 0 ? 'no build yet' : `${path.relative(app, input.file)} changed after the last build`}) in ${((performance.now() - t0) / 1000).toFixed(0)} s`
}

/** Loads the H5 build's first page in headless Chromium; returns the paths it requested. */
async function requestedByChromium(h5Dir: string): Promise<string[] | undefined> {
  if (!existsSync(CHROMIUM)) return undefined
  const requested: string[] = []
  const server = http.createServer((req, res) => {
    const p = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
    const rel = p === '/' ? 'index.html' : p.slice(1)
    const file = path.join(h5Dir, rel)
    requested.push(rel)
    if (!file.startsWith(h5Dir) || !existsSync(file) || !statSync(file).isFile()) {
      res.statusCode = 404 // the API (/api/products) is not here: the page shows its error state
      return res.end()
    }
    const type = { '.js': 'text/javascript', '.css': 'text/css', '.html': 'text/html' }[
      path.extname(file)
    ]
    res.setHeader('content-type', type ?? 'application/octet-stream')
    res.end(readFileSync(file))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as { port: number }
  const profile = mkdtempSync(path.join(os.tmpdir(), 'fen-chromium-'))
  try {
    const child = spawn(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${profile}`,
        // Lets the page's timers and lazy chunks run before the DOM is dumped.
        '--virtual-time-budget=8000',
        '--dump-dom',
        `http://127.0.0.1:${port}/`,
      ],
      { stdio: 'ignore' },
    )
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    await new Promise((r) => child.once('exit', r))
    clearTimeout(timer)
  } finally {
    server.close()
    rmSync(profile, { recursive: true, force: true })
  }
  return requested
}

async function main(): Promise<void> {
  const weappBuild = ensureBuilt('weapp')
  const h5Build = ensureBuilt('h5')
  const weapp = weappMainPackage(path.join(app, 'dist/weapp'))
  const h5Dir = path.join(app, 'dist/h5')
  const first = h5FirstLoad(h5Dir)
  const h5All = listFiles(h5Dir).filter((f) => /\.(js|css|html)$/.test(f))
  const h5AllBytes = h5All.reduce((n, f) => n + statSync(f).size, 0)
  const seen = await requestedByChromium(h5Dir)

  console.log(`# Mini-program size benchmark — ${new Date().toISOString()}`)
  console.log(
    `machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism()} cores, Node ${process.version}`,
  )
  console.log(`- weapp build: ${weappBuild}`)
  console.log(`- h5 build: ${h5Build}\n`)

  console.log(
    `weapp main package: ${weapp.bytes.toLocaleString('en-US')} bytes (${kb(weapp.bytes)}) in ${weapp.files.length} files — ${((weapp.bytes / (2048 * 1024)) * 100).toFixed(1)}% of WeChat's 2 MB limit, ${((weapp.bytes / (500 * 1024)) * 100).toFixed(0)}% of our 500 KB aim`,
  )
  console.log(
    `by type: ${Object.entries(weapp.byType)
      .sort((a, b) => b[1] - a[1])
      .map(([t, b]) => `${t} ${kb(b)}`)
      .join(', ')}`,
  )
  console.log(
    `largest: ${[...weapp.files]
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, 4)
      .map((f) => `${f.path} ${kb(f.bytes)}`)
      .join(', ')}\n`,
  )

  console.log(
    `H5 first load (${first.page}, route chunks ${first.chunks.join(', ')}): ${kb(first.bytes)} raw, ${kb(first.gzipBytes)} gzip, ${first.files.length} files`,
  )
  console.log('| file | raw | gzip |')
  console.log('| --- | ---: | ---: |')
  for (const f of first.files) console.log(`| ${f.path} | ${kb(f.bytes)} | ${kb(f.gzipBytes)} |`)
  console.log(`| **total** | **${kb(first.bytes)}** | **${kb(first.gzipBytes)}** |`)
  console.log(
    `\nwhole H5 build (every .js/.css/.html, for comparison): ${kb(h5AllBytes)} raw in ${h5All.length} files`,
  )
  if (!seen) {
    console.log(
      `Chromium not found at ${CHROMIUM}: the first-load list was not checked in a browser`,
    )
  } else {
    const files = new Set(first.files.map((f) => f.path))
    const fetched = new Set(seen.filter((p) => existsSync(path.join(h5Dir, p))))
    const missing = [...fetched].filter((p) => !files.has(p))
    const extra = [...files].filter((p) => !fetched.has(p))
    console.log(
      `headless Chromium requested: ${seen.join(', ')}\n→ ${missing.length === 0 && extra.length === 0 ? 'the same files as the list above' : `differs: fetched but not listed [${missing.join(', ')}], listed but not fetched [${extra.join(', ')}]`}`,
    )
  }
}

main().catch((e) => {
  console.error(e)
  process.exitCode = 1
})
