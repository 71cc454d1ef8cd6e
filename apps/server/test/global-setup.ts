/**
 * Vitest `globalSetup` for every suite that starts a harness (this package's and test/'s): the
 * slow, shareable parts of a harness are made once per run instead of once per test file, and
 * handed to the suites through vitest's `provide`/`inject`:
 *
 * - one sandbox key set (RSA key generation: ~2 s per file on a quiet 2-core machine, ~4 s busy);
 * - on PGlite (no DATABASE_URL), one migrated template database, dumped to a file: each suite's
 *   fresh database starts from it instead of running PGlite's initdb, which took 4–9 s per file
 *   quiet and 27 s at load average 6 (orders.test.ts's 30 s beforeAll then timed out).
 *
 * The harness falls back to doing both itself when run without this setup (slowly).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { generateSandboxKeys, type SandboxKeys } from '@fen/sandbox'
import type { TestProject } from 'vitest/node'
import { openDatabase } from '../src/db/client'

/** What this setup provides to the suites (`inject(name)`). */
export interface HarnessProvided {
  fenSandboxKeys: SandboxKeys
  /** A migrated PGlite data directory (tarball) to start each fresh database from; PGlite only. */
  fenPgliteTemplate: string | undefined
}

declare module 'vitest' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  export interface ProvidedContext extends HarnessProvided {}
}

/** Generates the shared keys and, on PGlite, the template database; returns the teardown. */
export default async function setup(project: TestProject): Promise<() => void> {
  const [keys, template] = await Promise.all([
    generateSandboxKeys(),
    process.env.DATABASE_URL ? undefined : pgliteTemplate(),
  ])
  project.provide('fenSandboxKeys', keys)
  project.provide('fenPgliteTemplate', template?.file)
  return () => template?.remove()
}

async function pgliteTemplate(): Promise<{ file: string; remove(): void }> {
  const database = await openDatabase({})
  try {
    await database.migrate()
    const dump = await database.dump!()
    const dir = mkdtempSync(path.join(tmpdir(), 'fen-pglite-template-'))
    const file = path.join(dir, 'template.tar')
    writeFileSync(file, Buffer.from(await dump.arrayBuffer()))
    return { file, remove: () => rmSync(dir, { recursive: true, force: true }) }
  } finally {
    await database.close()
  }
}
