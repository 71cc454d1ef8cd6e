import { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import type { Db } from './client'

/**
 * The hot paths' statements are prepared, two ways for two kinds of statement:
 *
 * - `prepared(db, name, build)`: a drizzle query (with `sql.placeholder`s) built once per database
 *   handle, prepared under `name` (drizzle's `.prepare(name)`) and kept. Building SQL from
 *   drizzle's query objects took ~0.1 ms of the server's CPU per query, more than parsing the
 *   answer; a prepared one only binds its parameters. On PostgreSQL it is also a named prepared
 *   statement (below).
 * - `preparedQuery(db, name, text, values)`: a constant statement drizzle's builder cannot
 *   express (the notification's five-part CTE), in SQL with `$1…` parameters.
 *
 * A named prepared statement is parsed and planned once per pooled connection; after that only its
 * parameters travel, and PostgreSQL reuses the plan (planning the notification's CTE cost as much
 * again as running it). Names are unique per statement text, as PostgreSQL requires per connection.
 */
export function prepared<P>(
  db: Db,
  name: string,
  build: (db: Db) => { prepare(name: string): P },
): P {
  let byName = builtFor.get(db)
  if (!byName) builtFor.set(db, (byName = new Map()))
  let query = byName.get(name) as P | undefined
  if (!query) byName.set(name, (query = build(db).prepare(name)))
  return query
}

/** Prepared queries by database handle (or transaction: its own, for its short life). */
const builtFor = new WeakMap<Db, Map<string, unknown>>()

/**
 * Runs a constant statement (`text` with `$1…` parameters) by `name`: on PostgreSQL a named
 * prepared statement, on PGlite a plain query. `db` must be the database handle, not a
 * transaction: a transaction's statements go through drizzle on its own connection.
 */
export async function preparedQuery<R>(
  db: Db,
  name: string,
  text: string,
  values: unknown[],
): Promise<R[]> {
  const client = (db as { $client?: unknown }).$client
  if (client instanceof pg.Pool) {
    return (await client.query<R & pg.QueryResultRow>({ name, text, values })).rows
  }
  if (client instanceof PGlite) return (await client.query<R>(text, values)).rows
  throw new Error(`preparedQuery(${name}) needs the database handle, not a transaction`)
}
