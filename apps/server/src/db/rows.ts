import { getTableColumns, type InferSelectModel, type Table } from 'drizzle-orm'

/**
 * A row that raw SQL returned as JSON (`row_to_json`, `json_agg`: keys are column names, times are
 * strings) as drizzle's select would give it: keys by field name, each value through its column's
 * own mapping (timestamps to Date, jsonb parsed).
 */
export function fromRow<T extends Table>(table: T, json: unknown): InferSelectModel<T> {
  const raw = json as Record<string, unknown>
  const row: Record<string, unknown> = {}
  for (const [field, column] of Object.entries(getTableColumns(table))) {
    const value = raw[column.name]
    row[field] = value === null || value === undefined ? null : column.mapFromDriverValue(value)
  }
  return row as InferSelectModel<T>
}
