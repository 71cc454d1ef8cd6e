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
 * - `preparedQuery(db, name, text, values)`: a constant statement in SQL with `$1…` parameters,
 *   for what drizzle's builder cannot express (the notification's five-part CTE) and for the
 *   statements of the order's transaction, which `prepared` cannot serve (drizzle's prepared
 *   queries belong to the handle they were built from, and a transaction is a new handle).
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
 * Runs a constant statement (`text` with `$1…` parameters) by `name`, on `db`'s own connection:
 * the pool for the database handle, the transaction's connection for a transaction. On PostgreSQL
 * it is a named prepared statement (node-postgres remembers which connections have parsed it); on
 * PGlite, a plain query. Rows come back as the driver parses them (jsonb parsed, timestamptz as
 * Date, int8 as a string), keyed by column name.
 */
export async function preparedQuery<R>(
  db: Db,
  name: string,
  text: string,
  values: unknown[],
): Promise<R[]> {
  const client = sessionClient(db)
  if (client instanceof pg.Pool || client instanceof pg.Client) {
    return (await client.query<R & pg.QueryResultRow>({ name, text, values })).rows
  }
  return (await client.query<R>(text, values)).rows
}

/**
 * The driver's client under a drizzle handle: drizzle keeps it as `session.client` (a pg Pool or,
 * in a transaction, its PoolClient; PGlite or its Transaction, which answer `query(text, values)`).
 * Not drizzle's public API, so it is checked here, and every suite that creates an order or
 * applies a payment goes through it.
 */
function sessionClient(db: Db): pg.Pool | pg.Client | PGliteQuery {
  const client = (db as unknown as { session?: { client?: unknown } }).session?.client
  if (client instanceof pg.Pool || client instanceof pg.Client) return client
  if (typeof (client as PGliteQuery | undefined)?.query === 'function') return client as PGliteQuery
  throw new Error('preparedQuery: no driver client under this drizzle handle')
}

/** What PGlite and its transactions answer queries with. */
interface PGliteQuery {
  query<R>(text: string, values: unknown[]): Promise<{ rows: R[] }>
}
