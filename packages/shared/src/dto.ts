import type { z } from 'zod'
import type { ReconciliationResult } from './reconciliation'
import type * as s from './schemas'

/** The TypeScript types of the API bodies, inferred from the schemas (never kept by hand). */
export type LoginRequest = z.infer<typeof s.LoginRequest>
export type LoginResponse = z.infer<typeof s.LoginResponse>
export type CreateOrderRequest = z.infer<typeof s.CreateOrderRequest>
export type OrderItem = z.infer<typeof s.OrderItem>
export type Order = z.infer<typeof s.Order>
export type Delivery = z.infer<typeof s.Delivery>
export type DeliveryCompany = z.infer<typeof s.DeliveryCompany>
export type DeliveryCompanyList = z.infer<typeof s.DeliveryCompanyList>
export type ShipOrderRequest = z.infer<typeof s.ShipOrderRequest>
export type PayRequest = z.infer<typeof s.PayRequest>
export type RequestPaymentParams = z.infer<typeof s.RequestPaymentParams>
export type PayResponse = z.infer<typeof s.PayResponse>
export type AdminRefundRequest = z.infer<typeof s.AdminRefundRequest>
export type Payment = z.infer<typeof s.Payment>
export type Refund = z.infer<typeof s.Refund>
export type NotificationRecord = z.infer<typeof s.NotificationRecord>
export type OutboxEvent = z.infer<typeof s.OutboxEvent>
export type AdminOrder = z.infer<typeof s.AdminOrder>
export type AdminOrderDetail = z.infer<typeof s.AdminOrderDetail>
export type AdminOrdersQuery = z.input<typeof s.AdminOrdersQuery>
export type AdminOrderPage = z.infer<typeof s.AdminOrderPage>
export type OutboxEventPage = z.infer<typeof s.OutboxEventPage>
export type AdminRefund = z.infer<typeof s.AdminRefund>
export type AdminRefundPage = z.infer<typeof s.AdminRefundPage>
export type AdminSummary = Omit<z.infer<typeof s.AdminSummary>, 'reconciliation'> & {
  reconciliation: ReconciliationResult | null
}
export type ReceiptConfirmation = z.infer<typeof s.ReceiptConfirmation>
