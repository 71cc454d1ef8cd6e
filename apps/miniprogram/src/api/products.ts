import type { Product } from '@fen/shared'
import { request } from '@/http/request'

/** A choice the shopper makes on the detail page, e.g. 温度: 热 / 冰. */
export interface ProductSpec {
  name: string
  options: string[]
}

/**
 * A product as the shop shows it. The catalogue fields beyond `Product` come with the server's
 * catalogue (`imageUrl` server-relative, `/static/products/…`: see `imageSrc`); they are optional
 * here so that a product without them still shows.
 */
export type ProductView = Product & {
  images?: string[]
  category?: string
  description?: string
  specs?: ProductSpec[]
}

export interface HomeView {
  banners: { id: string | number; title: string; imageUrl: string; productId?: number }[]
  categories: { id: string; name: string }[]
  products: ProductView[]
}

/** `GET /api/products`: the catalogue, priced by the server (fen). */
export function listProducts(): Promise<ProductView[]> {
  return request<ProductView[]>('/api/products', { auth: false })
}

/** `GET /api/home`: banners, categories and the catalogue, in one call. */
export function getHome(): Promise<HomeView> {
  return request<HomeView>('/api/home', { auth: false })
}

/**
 * Where an image of the server loads from. The server gives paths (`/static/products/x.svg`):
 * weapp needs the full URL, H5 the same origin (FEN_API_BASE is '' there and its server proxies
 * /static). Full URLs pass through.
 */
export function imageSrc(url: string | undefined): string {
  if (!url) return ''
  return /^(https?:|data:)/.test(url) ? url : FEN_API_BASE + url
}
