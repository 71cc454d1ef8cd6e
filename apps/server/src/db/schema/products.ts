import { sql } from 'drizzle-orm'
import { boolean, check, integer, jsonb, pgTable, serial, text } from 'drizzle-orm/pg-core'
import type { ProductSpec } from '@fen/shared'
import { categories } from './catalogue'

/** What the shop sells. Prices in fen; stock is reserved when an order is created. */
export const products = pgTable(
  'products',
  {
    id: serial('id').primaryKey(),
    title: text('title').notNull(),
    priceFen: integer('price_fen').notNull(),
    stock: integer('stock').notNull(),
    imageUrl: text('image_url'),
    /** The detail page's pictures (server-relative, like `image_url`), first = `image_url`. */
    images: jsonb('images').$type<string[]>().notNull().default([]),
    category: text('category').references(() => categories.id),
    description: text('description').notNull().default(''),
    /** What the shopper chooses per line (温度, 杯型); null: nothing to choose. */
    specs: jsonb('specs').$type<ProductSpec[]>(),
    active: boolean('active').notNull().default(true),
    /** Virtual goods (top-ups, e-tickets): an order of only these ships itself once paid. */
    isVirtual: boolean('is_virtual').notNull().default(false),
  },
  (t) => [
    check('products_price_positive', sql`${t.priceFen} > 0`),
    check('products_stock_nonnegative', sql`${t.stock} >= 0`),
  ],
)
