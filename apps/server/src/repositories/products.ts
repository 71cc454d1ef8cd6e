import { asc, eq, sql } from 'drizzle-orm'
import type { Db } from '../db/client'
import { preparedQuery } from '../db/prepared'
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
  // Inside the order's transaction: a prepared statement on its connection (db/prepared.ts).
  const [row] = await preparedQuery<{
    title: string
    price_fen: number
    image_url: string | null
    specs: ProductRow['specs']
    is_virtual: boolean
  }>(
    db,
    'reserve_stock',
    `update products set stock = stock - $2
      where id = $1 and active and stock >= $2
      returning title, price_fen, image_url, specs, is_virtual`,
    [productId, quantity],
  )
  return row
    ? {
        title: row.title,
        priceFen: row.price_fen,
        imageUrl: row.image_url,
        specs: row.specs,
        isVirtual: row.is_virtual,
      }
    : undefined
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
