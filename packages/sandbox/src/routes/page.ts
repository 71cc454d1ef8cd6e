import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Sandbox } from '../sandbox'
import type { Route, SandboxReply } from '../http'

/**
 * The sandbox's pages are one Vue app, the console (`packages/sandbox/console`, built by Vite into
 * `console/dist` with `pnpm --filter @fen/sandbox build:console`):
 * - `/__sandbox/`: the developer console — orders, refunds, notifications and their attempts, the
 *   call log, faults, the clock, reset;
 * - `/__sandbox/scan?code_url=…`: what scanning a Native QR code leads to;
 * - `/__sandbox/h5pay?prepay_id=…`: where an H5 payment's `h5_url` leads.
 * The same index.html answers all three (the app picks its view from the path): nothing from the
 * request is written into a page. Files are read on each request, so a rebuild shows on reload.
 * Unbuilt, each page says how to build it; the control API works either way.
 */

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
}

let packageDir: string | undefined
/**
 * This package's folder: the nearest one above this module with a package.json (the module is
 * `src/routes/page.ts` in the repository and somewhere in `dist/` once built, so no fixed `../..`).
 */
function sandboxPackageDir(): string {
  if (packageDir) return packageDir
  // A CommonJS build has __dirname and may have no import.meta; an ES module has only the latter.
  let dir = typeof __dirname === 'string' ? __dirname : path.dirname(fileURLToPath(import.meta.url))
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) {
    dir = path.dirname(dir)
  }
  return (packageDir = dir)
}

/** Where the built console is: the sandbox's `consoleDir` option, or this package's console/dist. */
export function consoleDir(sandbox: Sandbox): string {
  return sandbox.consoleDir ?? path.join(sandboxPackageDir(), 'console', 'dist')
}

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Fen sandbox · console not built</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font: 15px/1.6 system-ui, 'PingFang SC', 'Microsoft YaHei', sans-serif; max-width: 42em; margin: 3em auto; padding: 0 1em; color: #1f2328">
<h1 style="font-size: 20px">Fen sandbox</h1>
<p>The sandbox is running, but its console page is not built. Build it once, then reload:</p>
<pre style="background: #f6f8fa; padding: 10px 14px; border-radius: 6px">pnpm --filter @fen/sandbox build:console</pre>
<p><code>pnpm dev</code>, <code>pnpm sandbox</code> and <code>pnpm test</code> build it when needed.
The control API under <code>/__sandbox/</code> works without it.</p>
<p lang="zh-CN">沙箱已在运行，但控制台页面尚未构建。运行上面的命令构建一次，然后刷新本页。</p>
</body></html>
`

async function file(sandbox: Sandbox, name: string, cache: string): Promise<SandboxReply> {
  let raw: Buffer
  try {
    raw = await readFile(path.join(consoleDir(sandbox), name))
  } catch {
    if (name !== 'index.html') return { status: 404, body: { code: 'NOT_FOUND', message: name } }
    return { status: 503, raw: NOT_BUILT, contentType: TYPES['.html'] }
  }
  return {
    status: 200,
    raw,
    contentType: TYPES[path.extname(name)] ?? 'application/octet-stream',
    headers: { 'Cache-Control': cache },
  }
}

/** The console's index.html: read afresh on each load, so it names the newest build's assets. */
const index: Route['handler'] = ({ sandbox }) => file(sandbox, 'index.html', 'no-cache')

/** Vite's hashed file names: a name, no folders (nothing outside assets/ can be reached). */
const ASSET_NAME = /^[\w-]+(?:\.[\w-]+)*$/

export const pageRoutes: Route[] = [
  { method: 'GET', path: '/__sandbox{/}', kind: 'page', handler: index },
  { method: 'GET', path: '/__sandbox/scan', kind: 'page', handler: index },
  { method: 'GET', path: '/__sandbox/h5pay', kind: 'page', handler: index },
  {
    method: 'GET',
    path: '/__sandbox/assets/:file',
    kind: 'page',
    handler: ({ sandbox, params }) =>
      ASSET_NAME.test(params.file!)
        ? file(sandbox, `assets/${params.file!}`, 'public, max-age=31536000, immutable')
        : { status: 404, body: { code: 'NOT_FOUND', message: '请求的资源不存在' } },
  },
]
