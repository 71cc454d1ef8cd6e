import { createReadStream, existsSync, statSync } from 'node:fs'
import { createServer, request as httpRequest, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
}

/**
 * Serves a built H5 app (dist/h5-sandbox) and, like Taro's dev server, proxies `/api` and `/static`
 * (the catalogue's images) to the Fen server and `/__sandbox` to the sandbox, so the browser sees one origin.
 */
export async function serveH5(
  root: string,
  targets: { api: string; sandbox: string },
): Promise<{ url: string; close(): Promise<void> }> {
  const base = path.resolve(root)
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    const target = /^\/(api|static)\//.test(url.pathname)
      ? targets.api
      : url.pathname.startsWith('/__sandbox')
        ? targets.sandbox
        : undefined
    if (target) {
      const t = new URL(target)
      const upstream = httpRequest(
        {
          host: t.hostname,
          port: t.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: t.host },
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers)
          up.pipe(res)
        },
      )
      upstream.on('error', () => {
        res.writeHead(502).end()
      })
      req.pipe(upstream)
      return
    }
    let file = path.join(base, decodeURIComponent(url.pathname))
    if (!file.startsWith(base) || !existsSync(file) || statSync(file).isDirectory())
      file = path.join(base, 'index.html')
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' })
    createReadStream(file).pipe(res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
