import { timestamp } from 'drizzle-orm/pg-core'

/** Every time is a `timestamptz`. */
export const ts = (name: string) => timestamp(name, { withTimezone: true })
