import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { PGlite } from '@electric-sql/pglite'
import { sql } from 'drizzle-orm'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator'
import pg from 'pg'
import * as schema from './schema'

/**
 * A database handle or a transaction: repositories take either, so one service call can wrap
 * several writes in one transaction.
 */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>

export interface Database {
  db: Db
  kind: 'postgres' | 'pglite'
  /** Applies the committed migrations in drizzle/. */
  migrate(): Promise<void>
  /** Throws unless the database answers (readiness). */
  ping(): Promise<void>
  close(): Promise<void>
  /**
   * PGlite only: the whole data directory as a tarball, for `openDatabase({ pgliteDump })` (tests
   * migrate one template and start each suite's database from it).
   */
  dump?(): Promise<Blob>
}

const MIGRATIONS = fileURLToPath(new URL('../../drizzle', import.meta.url))

/**
 * PostgreSQL when `url` is given; otherwise embedded PGlite (PostgreSQL in WebAssembly): in `dataDir`
 * when given, else in memory. PGlite commits without fsync — dev, demo and tests only.
 */
export async function openDatabase(options: {
  url?: string
  dataDir?: string
  /** Errors of idle connections (a database restart). Unhandled, they would crash the process. */
  onError?: (e: Error) => void
  /**
   * PGlite only: start from this dumped data directory (see `Database.dump`) instead of running
   * initdb, which takes seconds (tens of seconds on a busy machine).
   */
  pgliteDump?: Blob
}): Promise<Database> {
  if (options.url) {
    const pool = new pg.Pool({ connectionString: options.url, max: 10 })
    survivePostgresRestarts(pool, options.onError ?? (() => undefined))
    const db = drizzlePg(pool, { schema }) as unknown as Db
    return {
      db,
      kind: 'postgres',
      migrate: () => migratePg(db as never, { migrationsFolder: MIGRATIONS }),
      ping: async () => {
        await db.execute(sql`select 1`)
      },
      close: () => pool.end(),
    }
  }
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true })
  // One options object: PGlite ignores a second argument when the first is not a string.
  const client = new PGlite({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.pgliteDump ? { loadDataDir: options.pgliteDump } : {}),
  })
  const db = drizzlePglite(client, { schema }) as unknown as Db
  return {
    db,
    kind: 'pglite',
    migrate: () => migratePglite(db as never, { migrationsFolder: MIGRATIONS }),
    ping: async () => {
      await db.execute(sql`select 1`)
    },
    close: () => client.close(),
    dump: () => client.dumpDataDir('none'),
  }
}

/**
 * Keeps the pool whole when PostgreSQL restarts or crashes under it; `onError` sees each broken
 * connection once.
 *
 * - pg emits a broken connection's error on its client, and the pool listens there only while the
 *   client is idle. Unheard on a client a request holds (PostgreSQL went down mid-transaction), the
 *   'error' event would crash the process. So every client gets a listener of its own; the request's
 *   query fails with the same error and it answers 500. (The pool's own 'error' is that error again,
 *   for idle clients: heard already.)
 * - drizzle's `transaction()` never releases its client when `begin` fails, which is what happens
 *   to a client taken from the pool just as its connection breaks: each such client would stay
 *   checked out for good, until the pool has none left and every request waits forever. So a held
 *   client whose connection breaks is released here, as broken (the pool drops it), and the
 *   holder's own `release()`, if it ever comes, does nothing.
 */
function survivePostgresRestarts(pool: pg.Pool, onError: (e: Error) => void): void {
  const held = new WeakSet<pg.PoolClient>()
  pool.on('acquire', (client) => held.add(client))
  pool.on('release', (_err, client) => held.delete(client))
  pool.on('connect', (client) => {
    let broken = false
    client.on('error', (e) => {
      // pg may emit twice for one break (PostgreSQL's FATAL message, then the closed socket).
      if (broken) return
      broken = true
      onError(e)
      if (!held.has(client)) return
      const release = client.release.bind(client)
      client.release = () => undefined
      release(e)
    })
  })
  pool.on('error', () => undefined)
}
