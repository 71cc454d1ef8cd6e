import type { HomeResponse, Product } from '@fen/shared'
import { request } from '@/http/request'

/** `GET /api/products`: the catalogue, priced by the server (fen). */
export function listProducts(): Promise<Product[]> {
  return request<Product[]>('/api/products', { auth: false })
}

/** `GET /api/home`: banners, categories and the catalogue, in one call. */
export function getHome(): Promise<HomeResponse> {
  return request<HomeResponse>('/api/home', { auth: false })
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
