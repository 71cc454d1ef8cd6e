/**
 * docs/api.md's table of outbox events says what each payload holds; the schemas in
 * src/events.ts are what the server writes and receivers parse. The two must say the same: every
 * type documented, every field named with its optionality, no field left out.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { z } from 'zod'
import { EVENT_PAYLOADS, OUTBOX_EVENT_TYPES } from '@fen/shared'

const apiDoc = readFileSync(new URL('../../../docs/api.md', import.meta.url), 'utf8')

/** The documented payload fields of each event type: `name` or `name?`, from the table's rows. */
function documentedPayloads(): Map<string, string[]> {
  const section = apiDoc.slice(apiDoc.indexOf('## Outbox events'), apiDoc.indexOf('## Settings'))
  const rows = new Map<string, string[]>()
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim())
    const type = /^`(order\.[a-z_]+)`$/.exec(cells[1] ?? '')?.[1]
    if (!type) continue
    rows.set(
      type,
      [...(cells[4] ?? '').matchAll(/`([A-Za-z]+\??)`/g)].map((m) => m[1]!),
    )
  }
  return rows
}

/** The fields of a payload schema as the table writes them. */
function schemaFields(schema: z.ZodObject): string[] {
  return Object.entries(schema.shape).map(([name, field]) =>
    (field as z.ZodType).safeParse(undefined).success ? `${name}?` : name,
  )
}

describe("docs/api.md's outbox events", () => {
  const documented = documentedPayloads()

  it('list every event type, and no other', () => {
    expect([...documented.keys()].sort()).toEqual([...OUTBOX_EVENT_TYPES].sort())
  })

  it.each([...OUTBOX_EVENT_TYPES])('%s: the payload fields are the schema’s', (type) => {
    expect(documented.get(type)).toEqual(schemaFields(EVENT_PAYLOADS[type]))
  })
})
