/**
 * The carriers `get_delivery_list` answers: a dozen of the largest, where WeChat's list has about
 * 1379 (wechat-ops-api.md §1.1). `express_company` of an express upload must be one of these
 * `delivery_id`s. The ids are the sandbox's choice for the common carriers; WeChat's own spelling
 * of some of them is not in the shared docs.
 */
export const DELIVERY_COMPANIES: readonly { delivery_id: string; delivery_name: string }[] = [
  { delivery_id: 'SF', delivery_name: '顺丰速运' },
  { delivery_id: 'ZTO', delivery_name: '中通快递' },
  { delivery_id: 'YTO', delivery_name: '圆通速递' },
  { delivery_id: 'STO', delivery_name: '申通快递' },
  { delivery_id: 'YUNDA', delivery_name: '韵达快递' },
  { delivery_id: 'EMS', delivery_name: 'EMS' },
  { delivery_id: 'YZPY', delivery_name: '邮政快递包裹' },
  { delivery_id: 'JD', delivery_name: '京东物流' },
  { delivery_id: 'JTSD', delivery_name: '极兔速递' },
  { delivery_id: 'DBL', delivery_name: '德邦快递' },
  { delivery_id: 'BEST', delivery_name: '百世快递' },
  { delivery_id: 'CAINIAO', delivery_name: '菜鸟速递' },
]

const IDS = new Set(DELIVERY_COMPANIES.map((c) => c.delivery_id))

export function isDeliveryId(id: string): boolean {
  return IDS.has(id)
}
