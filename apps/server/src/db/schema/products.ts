import { sql } from 'drizzle-orm'
import { boolean, check, integer, pgTable, serial, text } from 'drizzle-orm/pg-core'

/** What the shop sells. Prices in fen; stock is reserved when an order is created. */
export const products = pgTable(
  'products',
  {
    id: serial('id').primaryKey(),
    title: text('title').notNull(),
    priceFen: integer('price_fen').notNull(),
    stock: integer('stock').notNull(),
    imageUrl: text('image_url'),
    active: boolean('active').notNull().default(true),
    /** Virtual goods (top-ups, e-tickets): an order of only these ships itself once paid. */
    isVirtual: boolean('is_virtual').notNull().default(false),
  },
  (t) => [
    check('products_price_positive', sql`${t.priceFen} > 0`),
    check('products_stock_nonnegative', sql`${t.stock} >= 0`),
  ],
)
