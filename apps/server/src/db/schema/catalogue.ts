import { integer, pgTable, text } from 'drizzle-orm/pg-core'

/** The groups the shop shows its products in (咖啡, 茶饮, …), in `position` order. */
export const categories = pgTable('categories', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  position: integer('position').notNull(),
})

/**
 * The home page's banners, in `position` order. One may lead to a product (not a foreign key:
 * products refer to categories here; the home page leaves out a banner whose product is off sale).
 */
export const banners = pgTable('banners', {
  id: text('id').primaryKey(),
  title: text('title').notNull(),
  imageUrl: text('image_url').notNull(),
  productId: integer('product_id'),
  position: integer('position').notNull(),
})
