import type { DeliveryCompany } from '@fen/shared'
import type { ServiceContext } from './context'
import { miniProgramFailure } from './wechat-errors'

/** WeChat's list changes rarely (new carriers): one read a day per instance is plenty. */
const FRESH_MS = 24 * 3600_000

/**
 * The carriers of WeChat's `get_delivery_list` (about 1,400): what an operator picks from when
 * shipping by express — `upload_shipping_info` refuses any `express_company` that is not one of
 * their `delivery_id`s — and the names the shop shows. Read from WeChat and kept for a day.
 */
export class DeliveryCompanies {
  #list: { at: number; items: DeliveryCompany[]; byId: Map<string, string> } | undefined
  #loading: Promise<DeliveryCompany[]> | undefined

  constructor(private readonly ctx: ServiceContext) {}

  /** The list, from WeChat when the copy kept is older than a day (one call at a time). */
  async list(): Promise<DeliveryCompany[]> {
    const now = this.ctx.clock().getTime()
    if (this.#list && now - this.#list.at < FRESH_MS) return this.#list.items
    this.#loading ??= this.#load(now).finally(() => (this.#loading = undefined))
    return this.#loading
  }

  /** The carrier's name, or undefined when WeChat's list (as last read) does not have the id. */
  async nameOf(deliveryId: string): Promise<string | undefined> {
    await this.list()
    return this.#list?.byId.get(deliveryId)
  }

  async #load(now: number): Promise<DeliveryCompany[]> {
    let answer
    try {
      answer = await this.ctx.miniProgram.shipping.getDeliveryList()
    } catch (e) {
      // A stale list beats none while WeChat is unreachable.
      if (this.#list) return this.#list.items
      throw miniProgramFailure(e)
    }
    const items = answer.delivery_list.map((c) => ({
      deliveryId: c.delivery_id,
      name: c.delivery_name,
    }))
    this.#list = { at: now, items, byId: new Map(items.map((c) => [c.deliveryId, c.name])) }
    return items
  }
}
