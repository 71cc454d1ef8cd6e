/** The whole schema: drizzle-kit generates migrations from it; repositories import tables from it. */
export * from './users'
export * from './products'
export * from './orders'
export * from './refunds'
export * from './events'
export * from './shipping'
export * from './outbox-deliveries'
export * from './catalogue'
