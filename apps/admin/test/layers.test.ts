// The console's layering (issue #24): only src/api/ talks to the server. A view or component that
// builds an admin URL or calls fetch itself bypasses the client's token, errors and 401 handling.
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const src = fileURLToPath(new URL('../src', import.meta.url))

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)],
  )
}

describe('the api layer', () => {
  it('is the only code that calls fetch or names a server path', () => {
    const outside = files(src).filter(
      (f) => /\.(ts|vue)$/.test(f) && !f.startsWith(path.join(src, 'api') + path.sep),
    )
    expect(outside.length).toBeGreaterThan(10)
    const offenders = outside.flatMap((f) => {
      const text = readFileSync(f, 'utf8')
      return [/\bfetch\(/, /['"`]\/(api|metrics)\b/]
        .filter((re) => re.test(text))
        .map((re) => `${path.relative(src, f)}: ${re.source}`)
    })
    expect(offenders).toEqual([])
  })
})
