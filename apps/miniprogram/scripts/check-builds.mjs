// Checks the production builds, because Taro can exit 0 without building anything:
// - dist/weapp/app.json lists every page in src/pages (but the sandbox cashier);
// - dist/h5/index.html exists;
// - neither build contains sandbox code (the sandbox's control paths);
// - prints the weapp main package size (WeChat's hard limit is 2 MB; we aim under 500 KB).
// Prints a vitest-like summary line so CI tallies it with the other test runs.
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { listFiles, weappMainPackage } from './build-size.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const dist = (p) => path.join(root, 'dist', p)
let passed = 0
let failed = 0
const check = (name, ok, detail = '') => {
  console.log(`${ok ? '✓' : '✗'} ${name}${detail ? ` — ${detail}` : ''}`)
  if (ok) passed++
  else failed++
}

const pages = readdirSync(path.join(root, 'src/pages'))
  .filter((p) => p !== 'sandbox-cashier')
  .map((p) => `pages/${p}/index`)
const appJson = dist('weapp/app.json')
const listed = existsSync(appJson) ? JSON.parse(readFileSync(appJson, 'utf8')).pages : []
check('dist/weapp/app.json exists', existsSync(appJson))
check(
  'app.json lists every page',
  pages.every((p) => listed.includes(p)),
  `listed: ${listed.join(', ')}`,
)
check('app.json lists no sandbox page', !listed.some((p) => p.includes('sandbox')))
check('dist/h5/index.html exists', existsSync(dist('h5/index.html')))

const SANDBOX_CODE = /__sandbox|login-codes|request-payment/
for (const build of ['weapp', 'h5']) {
  const hits = listFiles(dist(build)).filter(
    (f) => /\.(js|json|wxml|html)$/.test(f) && SANDBOX_CODE.test(readFileSync(f, 'utf8')),
  )
  check(
    `production ${build} build contains no sandbox code`,
    hits.length === 0,
    hits.map((f) => path.relative(root, f)).join(', '),
  )
}

const weapp = weappMainPackage(dist('weapp'))
const bytes = weapp.bytes
const kb = (bytes / 1024).toFixed(1)
console.log(
  `weapp main package: ${bytes} bytes (${kb} KB) in ${weapp.files.length} files; WeChat's limit is 2048 KB, our aim 500 KB`,
)
check('weapp main package under 2 MB (WeChat limit)', bytes < 2 * 1024 * 1024, `${kb} KB`)
check('weapp main package under 500 KB (our aim)', bytes < 500 * 1024, `${kb} KB`)

console.log(
  `\n      Tests  ${failed ? `${failed} failed | ` : ''}${passed} passed (${passed + failed})`,
)
process.exitCode = failed ? 1 : 0
