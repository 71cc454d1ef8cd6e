import { and, asc, eq, gte, sql } from 'drizzle-orm'
import type { Db } from '../db/client'
import { products } from '../db/schema'

export type ProductRow = typeof products.$inferSelect

export function listActiveProducts(db: Db): Promise<ProductRow[]> {
  return db.select().from(products).where(eq(products.active, true)).orderBy(asc(products.id))
}

export async function findProduct(db: Db, id: number): Promise<ProductRow | undefined> {
  const [row] = await db.select().from(products).where(eq(products.id, id))
  return row
}

/**
 * Takes `quantity` from stock when that much is left (a compare-and-set: two orders can never both
 * take the last one). Returns the price, title, picture, specs and whether it is virtual at this
 * moment, or undefined.
 */
export async function reserveStock(
  db: Db,
  productId: number,
  quantity: number,
): Promise<
  Pick<ProductRow, 'title' | 'priceFen' | 'imageUrl' | 'specs' | 'isVirtual'> | undefined
> {
  const [row] = await db
    .update(products)
    .set({ stock: sql`${products.stock} - ${quantity}` })
    .where(
      and(eq(products.id, productId), eq(products.active, true), gte(products.stock, quantity)),
    )
    .returning({
      title: products.title,
      priceFen: products.priceFen,
      imageUrl: products.imageUrl,
      specs: products.specs,
      isVirtual: products.isVirtual,
    })
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
