import type { HomeResponse, Product } from '@fen/shared'
import type { Db } from '../db/client'
import { listBanners, listCategories } from '../repositories/catalogue'
import { listActiveProducts } from '../repositories/products'
import { bannerView, categoryView, productView } from './views'

/**
 * The catalogue as the shop reads it (public, no login): the products on sale and the home page.
 * `purchaseLimit` is every product's 限购 (the units one shopper may hold unpaid; services/orders.ts).
 */
export class CatalogueService {
  constructor(
    private readonly db: Db,
    private readonly purchaseLimit: number,
  ) {}

  async products(): Promise<Product[]> {
    return (await listActiveProducts(this.db)).map((p) => productView(p, this.purchaseLimit))
  }

  /** The home page: banners (only those leading to a product on sale, or nowhere), categories, products. */
  async home(): Promise<HomeResponse> {
    const [banners, categories, products] = await Promise.all([
      listBanners(this.db),
      listCategories(this.db),
      listActiveProducts(this.db),
    ])
    const onSale = new Set(products.map((p) => p.id))
    return {
      banners: banners
        .filter((b) => b.productId === null || onSale.has(b.productId))
        .map(bannerView),
      categories: categories.map(categoryView),
      products: products.map((p) => productView(p, this.purchaseLimit)),
    }
  }
}
