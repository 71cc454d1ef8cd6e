import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

/**
 * The SDK's layers, lowest first. A module may import its own layer or a lower one, never a higher
 * one, and no import circle may form (type-only imports count: a type both sides need belongs in a
 * lower module of its own, as `core/api.ts` holds the request and response shapes).
 */
const LAYERS: Array<{ name: string; files: RegExp }> = [
  { name: 'foundation', files: /^core\/(errors|clock|transport|http|api|test-keys)\.ts$/ },
  { name: 'crypto and auth', files: /^(crypto|auth)\// },
  { name: 'the client', files: /^core\/client\.ts$/ },
  { name: 'resources and protocols', files: /^(resources|notify|payments|miniprogram|v2)\// },
  { name: 'entry points', files: /^(wechatpay\.ts|index\.ts|testing\/)/ },
]

const src = fileURLToPath(new URL('../src/', import.meta.url))

function sourceFiles(dir = ''): string[] {
  return readdirSync(path.join(src, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sourceFiles(path.join(dir, e.name))
      : e.name.endsWith('.ts')
        ? [path.join(dir, e.name)]
        : [],
  )
}

/** The src/ files a module imports (static, type-only, re-exports and dynamic imports). */
function importsOf(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(
    readFileSync(path.join(src, file), 'utf8'),
    true,
    true,
  )
  return (
    importedFiles
      .map((i) => i.fileName)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => path.join(path.dirname(file), spec))
      // Files outside src/ are no module of the SDK (core/client.ts reads ../../package.json).
      .filter((target) => !target.startsWith('..'))
      .map((target) => {
        const candidates = [`${target}.ts`, path.join(target, 'index.ts')]
        const found = candidates.find((c) => existsSync(path.join(src, c)))
        if (!found) throw new Error(`${file}: cannot resolve ${target}`)
        return found
      })
  )
}

const files = sourceFiles()
const graph = new Map(files.map((f) => [f, importsOf(f)]))
const layerOf = (file: string) => LAYERS.findIndex((l) => l.files.test(file))

describe("the SDK's module layers", () => {
  it('places every source file in a layer', () => {
    expect(files.filter((f) => layerOf(f) === -1)).toEqual([])
    expect(files.length).toBeGreaterThan(30)
  })

  it('never lets a lower layer import a higher one', () => {
    const upward = [...graph].flatMap(([from, targets]) =>
      targets
        .filter((to) => layerOf(to) > layerOf(from))
        .map(
          (to) => `${from} (${LAYERS[layerOf(from)]!.name}) → ${to} (${LAYERS[layerOf(to)]!.name})`,
        ),
    )
    expect(upward).toEqual([])
  })

  it('has no import circle', () => {
    const circles: string[] = []
    const state = new Map<string, 'open' | 'done'>()
    const visit = (file: string, trail: string[]) => {
      state.set(file, 'open')
      for (const next of graph.get(file) ?? []) {
        if (state.get(next) === 'open')
          circles.push([...trail.slice(trail.indexOf(next)), next].join(' → '))
        else if (!state.has(next)) visit(next, [...trail, next])
      }
      state.set(file, 'done')
    }
    for (const f of files) if (!state.has(f)) visit(f, [f])
    expect(circles).toEqual([])
  })
})
