// What the mini-program's builds weigh, in one place: scripts/check-builds.mjs checks the weapp
// main package against WeChat's limit with it, and bench/miniprogram.bench.ts prints both sizes.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { gzipSync } from 'node:zlib'

/** Every file under `dir`, recursively (none if it does not exist). */
export function listFiles(dir) {
  if (!existsSync(dir)) return []
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f)
    return statSync(p).isDirectory() ? listFiles(p) : [p]
  })
}

/**
 * The weapp main package: every file of the build but license notes and subpackages (the roots
 * app.json lists under `subPackages`/`subpackages`, none today), which is what WeChat's 2 MB
 * main-package limit counts.
 */
export function weappMainPackage(weappDir) {
  const appJson = path.join(weappDir, 'app.json')
  const app = existsSync(appJson) ? JSON.parse(readFileSync(appJson, 'utf8')) : {}
  const subpackageRoots = (app.subPackages ?? app.subpackages ?? []).map((s) =>
    path.join(weappDir, s.root),
  )
  const files = listFiles(weappDir)
    .filter((f) => !f.endsWith('.LICENSE.txt'))
    .filter((f) => !subpackageRoots.some((root) => f.startsWith(root + path.sep)))
    .map((f) => ({ path: path.relative(weappDir, f), bytes: statSync(f).size }))
  const byType = {}
  for (const f of files) {
    const ext = path.extname(f.path).slice(1) || 'other'
    byType[ext] = (byType[ext] ?? 0) + f.bytes
  }
  return { bytes: files.reduce((n, f) => n + f.bytes, 0), files, byType }
}

/** gzip at zlib's default level (6), as a web server compresses on the fly. */
export const gzipSize = (buffer) => gzipSync(buffer).length

/**
 * What a browser loads to show the H5 build's first page: index.html, the scripts and
 * stylesheets it references, and the chunks (JS and their CSS) the router loads for the first
 * page of the app config (Taro's routes are `{"path": "<page>", "load": function () { return
 * [n.e(<chunk>)…] }}` in the app bundle). Raw and gzip bytes per file. Throws when the build is
 * not shaped that way, rather than report a partial size.
 */
export function h5FirstLoad(h5Dir) {
  const html = readFileSync(path.join(h5Dir, 'index.html'), 'utf8')
  const referenced = [
    ...[...html.matchAll(/<script\b[^>]*\bsrc="([^"]+)"/g)].map((m) => m[1]),
    ...[...html.matchAll(/<link\b[^>]*>/g)]
      .filter((m) => /\brel="stylesheet"/.test(m[0]))
      .map((m) => /\bhref="([^"]+)"/.exec(m[0])?.[1])
      .filter(Boolean),
  ].map((url) => url.replace(/^\//, ''))
  const scripts = referenced.filter((f) => f.endsWith('.js'))
  const bundle = scripts.map((f) => readFileSync(path.join(h5Dir, f), 'utf8')).join('\n')

  const page = /"pages":\["([^"]+)"/.exec(bundle)?.[1]
  if (!page) throw new Error(`${h5Dir}: no "pages" list in the scripts index.html loads`)
  const route = new RegExp(
    `"path":"${page.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}","load":function\\([^)]*\\)\\{return\\[(.*?)\\]\\}`,
  ).exec(bundle)
  if (!route) throw new Error(`${h5Dir}: no route loader for the first page ${page}`)
  const chunks = [...route[1].matchAll(/\.e\((\d+)\)/g)].map((m) => m[1])
  const all = listFiles(h5Dir).map((f) => path.relative(h5Dir, f))
  const chunkFiles = chunks.flatMap((id) =>
    all.filter((f) => /^(js|css)\//.test(f) && path.basename(f).startsWith(`${id}.`)),
  )
  const wanted = ['index.html', ...referenced, ...chunkFiles.filter((f) => !f.endsWith('.txt'))]
  const files = wanted.map((f) => {
    const buffer = readFileSync(path.join(h5Dir, f))
    return { path: f, bytes: buffer.length, gzipBytes: gzipSize(buffer) }
  })
  return {
    page,
    chunks,
    files,
    bytes: files.reduce((n, f) => n + f.bytes, 0),
    gzipBytes: files.reduce((n, f) => n + f.gzipBytes, 0),
  }
}
