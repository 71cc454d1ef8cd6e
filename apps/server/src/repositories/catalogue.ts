import { and, asc, inArray, isNull, sql } from 'drizzle-orm'
import {
  DEMO_BANNERS,
  DEMO_CATEGORIES,
  DEMO_PRODUCTS,
  EARLIER_DEMO_TITLES,
} from '../catalogue/demo'
import type { Db } from '../db/client'
import { banners, categories, products } from '../db/schema'

export type CategoryRow = typeof categories.$inferSelect
export type BannerRow = typeof banners.$inferSelect

/**
 * Inserts the demo catalogue's missing rows (catalogue/demo.ts); safe to run on every start, on
 * every instance. A product row from the earlier, picture-less demo seed is brought up to date
 * (title, pictures, category, description, specs); its price and stock are left as they are.
 */
export async function seedDemoCatalogue(db: Db): Promise<void> {
  await db.insert(categories).values(DEMO_CATEGORIES).onConflictDoNothing()
  for (const p of DEMO_PRODUCTS) {
    await db
      .insert(products)
      .values(p)
      .onConflictDoUpdate({
        target: products.id,
        set: {
          title: p.title,
          imageUrl: p.imageUrl,
          images: p.images,
          category: p.category,
          description: p.description,
          specs: p.specs,
        },
        setWhere: and(isNull(products.category), inArray(products.title, EARLIER_DEMO_TITLES)),
      })
  }
  // Keep the serial ahead of the fixed ids.
  await db.execute(
    sql`select setval(pg_get_serial_sequence('products', 'id'), (select max(id) from products))`,
  )
  await db.insert(banners).values(DEMO_BANNERS).onConflictDoNothing()
}

export function listCategories(db: Db): Promise<CategoryRow[]> {
  return db.select().from(categories).orderBy(asc(categories.position), asc(categories.id))
}

export function listBanners(db: Db): Promise<BannerRow[]> {
  return db.select().from(banners).orderBy(asc(banners.position), asc(banners.id))
}
