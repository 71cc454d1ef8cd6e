import { and, asc, eq, gte, sql } from 'drizzle-orm'
import type { Db } from '../db/client'
import { products } from '../db/schema'

export type ProductRow = typeof products.$inferSelect

/** The demo catalogue seeded at start (fixed ids, so every instance seeds the same rows once). */
const DEMO_PRODUCTS = [
  { id: 1, title: '云南小粒咖啡豆 250g', priceFen: 5900, stock: 100 },
  { id: 2, title: '手冲滤杯 V60', priceFen: 8900, stock: 50 },
  { id: 3, title: '陶瓷马克杯', priceFen: 3900, stock: 200 },
  { id: 4, title: '挂耳咖啡 10 包', priceFen: 2990, stock: 300 },
  { id: 5, title: '一分钱测试商品', priceFen: 1, stock: 10000 },
]

/** Inserts the demo products that are missing; safe to run on every start, on every instance. */
export async function seedDemoProducts(db: Db): Promise<void> {
  await db.insert(products).values(DEMO_PRODUCTS).onConflictDoNothing({ target: products.id })
  // Keep the serial ahead of the fixed ids.
  await db.execute(
    sql`select setval(pg_get_serial_sequence('products', 'id'), (select max(id) from products))`,
  )
}

export function listActiveProducts(db: Db): Promise<ProductRow[]> {
  return db.select().from(products).where(eq(products.active, true)).orderBy(asc(products.id))
}

export async function findProduct(db: Db, id: number): Promise<ProductRow | undefined> {
  const [row] = await db.select().from(products).where(eq(products.id, id))
  return row
}

/**
 * Takes `quantity` from stock when that much is left (a compare-and-set: two orders can never both
 * take the last one). Returns the price and title at this moment, or undefined.
 */
export async function reserveStock(
  db: Db,
  productId: number,
  quantity: number,
): Promise<{ title: string; priceFen: number } | undefined> {
  const [row] = await db
    .update(products)
    .set({ stock: sql`${products.stock} - ${quantity}` })
    .where(
      and(eq(products.id, productId), eq(products.active, true), gte(products.stock, quantity)),
    )
    .returning({ title: products.title, priceFen: products.priceFen })
  return row
}

/** Puts reserved stock back (an order closed). */
export async function releaseStock(
  db: Db,
  lines: { productId: number; quantity: number }[],
): Promise<void> {
  for (const l of lines) {
    await db
      .update(products)
      .set({ stock: sql`${products.stock} + ${l.quantity}` })
      .where(eq(products.id, l.productId))
  }
}
