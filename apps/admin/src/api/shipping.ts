// Shipping's reference data: WeChat's carriers, which an express delivery must name.
import type { DeliveryCompany, DeliveryCompanyList } from '@fen/shared'
import { requestClient } from './request'

let carriers: Promise<DeliveryCompany[]> | undefined

/**
 * `GET /api/admin/delivery-companies`: WeChat's carriers (`deliveryId` is what a ship request's
 * `expressCompany` takes). Read once per page load (the server keeps WeChat's list a day); a
 * failed read is tried again next time.
 */
export function listDeliveryCompanies(): Promise<DeliveryCompany[]> {
  carriers ??= requestClient
    .get<DeliveryCompanyList>('/api/admin/delivery-companies')
    .then((list) => list.items)
    .catch((e: unknown) => {
      carriers = undefined
      throw e
    })
  return carriers
}
