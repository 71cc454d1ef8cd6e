import { z } from 'zod'
import { fen, ProductId } from './fields'

/**
 * The catalogue as the shop shows it: products with their pictures and specifications, the
 * categories they are grouped in, and the home page's banners (`GET /api/home`). Re-exported by
 * schemas.ts, so these are `schemas.Product` etc. like every other body.
 */

/**
 * A choice the shopper makes for a product, e.g. `{name: '温度', options: ['热', '冰']}`. Specs do
 * not change the price; the first option is the default.
 */
export const ProductSpec = z.object({
  name: z.string(),
  options: z.array(z.string()).min(1),
})
export type ProductSpec = z.infer<typeof ProductSpec>

export { formatSpec } from './spec'

/**
 * A product. `imageUrl` (the card picture) and `images` (the detail page's, first = `imageUrl`)
 * are server-relative paths under `/static/products/`. `category` is a `Category.id`; a product
 * without one is listed but under no category. `virtual` products (a gift card) are delivered
 * electronically: an order of only these ships itself once paid. `purchaseLimit` (限购) is the
 * server's: the shop's quantity steppers stop at it (and at the stock).
 */
export const Product = z.object({
  id: ProductId,
  title: z.string(),
  priceFen: fen,
  stock: z.number().int().nonnegative(),
  /** 限购: the most units of it one shopper may hold in unpaid orders, this one included. */
  purchaseLimit: z.number().int().positive(),
  imageUrl: z.string().optional(),
  images: z.array(z.string()),
  category: z.string().optional(),
  description: z.string(),
  specs: z.array(ProductSpec).optional(),
  virtual: z.literal(true).optional(),
})
export type Product = z.infer<typeof Product>
export const ProductList = z.array(Product)

export const Category = z.object({ id: z.string(), name: z.string() })
export type Category = z.infer<typeof Category>

/** A home-page banner; `productId` is the product it leads to, if any. */
export const Banner = z.object({
  id: z.string(),
  title: z.string(),
  imageUrl: z.string(),
  productId: ProductId.optional(),
})
export type Banner = z.infer<typeof Banner>

/** `GET /api/home`: everything the home page shows, in display order. */
export const HomeResponse = z.object({
  banners: z.array(Banner),
  categories: z.array(Category),
  products: z.array(Product),
})
export type HomeResponse = z.infer<typeof HomeResponse>
