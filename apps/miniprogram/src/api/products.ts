import type { Product } from '@fen/shared'
import { request } from '@/http/request'

/** `GET /api/products`: the catalogue, priced by the server (fen). */
export function listProducts(): Promise<Product[]> {
  return request<Product[]>('/api/products', { auth: false })
}
