import { extname } from 'node:path'

/** The Content-Type of each kind of file the server serves itself (static.ts, admin-static.ts). */
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
}

/** The Content-Type for a file name, by its extension; undefined for one we do not serve. */
export function contentTypeOf(name: string): string | undefined {
  return CONTENT_TYPES[extname(name)]
}
