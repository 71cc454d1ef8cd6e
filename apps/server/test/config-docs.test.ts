/**
 * The settings schema (SETTINGS in src/config.ts) against the docs. Every setting is documented
 * once, in a settings table (`| Name | Default | Meaning |` or `| Setting | Default | Meaning |`)
 * of the file its section names, showing its default; every setting a table documents exists.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { SETTINGS } from '../src/config'

const DOCS = ['docs/api.md', 'docs/operations.md'] as const
const ROOT = new URL('../../../', import.meta.url)

interface Row {
  name: string
  default: string
  /** `docs/api.md:693`: where the row is. */
  at: string
}

/** The rows of every settings table in `file`. */
function settingsRows(file: string): Row[] {
  const rows: Row[] = []
  let inTable = false
  for (const [i, line] of readFileSync(new URL(file, ROOT), 'utf8').split('\n').entries()) {
    if (!line.startsWith('|')) {
      inTable = false
      continue
    }
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim())
    if (/^(Name|Setting)$/.test(cells[0]!) && cells[1] === 'Default' && cells[2] === 'Meaning') {
      inTable = true
      continue
    }
    if (!inTable || /^-+$/.test(cells[0]!)) continue
    rows.push({
      name: cells[0]!.replace(/^`(.*)`$/, '$1'),
      default: cells[1]!,
      at: `${file}:${i + 1}`,
    })
  }
  return rows
}

/** Every setting of the schema with its section's docs file and its default (if it has one). */
const declared = Object.entries(SETTINGS).flatMap(([section, { docs, settings }]) =>
  Object.entries(settings).map(([name, schema]) => {
    const meta = schema.meta() as { description?: string; default?: unknown } | undefined
    return { name, section, docs, description: meta?.description, default: meta?.default }
  }),
)
const rows = DOCS.flatMap(settingsRows)

describe('the settings schema', () => {
  it('declares each setting once, with a one-line description', () => {
    const names = declared.map((s) => s.name)
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([])
    for (const s of declared) {
      expect(s.description, s.name).toMatch(/^[^\n]{10,120}$/)
    }
    // Sanity: the tables were found at all.
    expect(rows.length).toBeGreaterThan(40)
  })

  it("documents every setting exactly once, in its section's file", () => {
    const misplaced = declared.flatMap((s) => {
      const at = rows.filter((r) => r.name === s.name).map((r) => r.at)
      return at.length === 1 && at[0]!.startsWith(`${s.docs}:`)
        ? []
        : [`${s.name} (section ${s.section}, ${s.docs}): documented at [${at.join(', ')}]`]
    })
    expect(misplaced).toEqual([])
  })

  it('documents no setting the schema lacks', () => {
    const names = new Set(declared.map((s) => s.name))
    expect(rows.filter((r) => !names.has(r.name)).map((r) => `${r.name} at ${r.at}`)).toEqual([])
  })

  it("shows each setting's default in the Default column", () => {
    const names = new Set(declared.map((s) => s.name))
    const wrong = declared.flatMap((s) => {
      const row = rows.find((r) => r.name === s.name)
      if (!row) return []
      if (s.default === undefined)
        // No default of its own: nothing, required, or one its section works out (sandbox mode,
        // production, another setting: `REFUND_AUTO_APPROVE_MAX_FEN`), which the column spells out.
        return /^`[^`]*`( \(off\))?$/.test(row.default) && !names.has(row.default.split('`')[1]!)
          ? [`${s.name}: the schema has no default, ${row.at} shows ${row.default}`]
          : []
      return row.default.includes(`\`${String(s.default)}\``)
        ? []
        : [`${s.name}: default ${String(s.default)}, ${row.at} shows ${row.default}`]
    })
    expect(wrong).toEqual([])
  })
})
