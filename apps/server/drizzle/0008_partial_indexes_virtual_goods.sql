DROP INDEX "orders_status_expires";--> statement-breakpoint
DROP INDEX "outbox_pending";--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "virtual_goods" boolean DEFAULT false NOT NULL;--> statement-breakpoint
-- Orders not yet shipped get the flag the shipping job used to compute on every run: every line a
-- virtual product (as the catalogue says now). Later orders get it when they are created.
UPDATE "orders" o SET "virtual_goods" = true
  WHERE o."status" IN ('PENDING', 'PAID')
    AND EXISTS (SELECT 1 FROM "order_items" i WHERE i."order_no" = o."order_no")
    AND NOT EXISTS (SELECT 1 FROM "order_items" i JOIN "products" p ON p."id" = i."product_id"
                    WHERE i."order_no" = o."order_no" AND NOT p."is_virtual");--> statement-breakpoint
CREATE INDEX "orders_pending_expires" ON "orders" USING btree ("expires_at") WHERE "orders"."status" = 'PENDING';--> statement-breakpoint
CREATE INDEX "orders_paid_virtual" ON "orders" USING btree ("paid_at") WHERE "orders"."status" = 'PAID' and "orders"."virtual_goods";--> statement-breakpoint
CREATE INDEX "outbox_undelivered" ON "outbox_events" USING btree ("id") WHERE "outbox_events"."delivered_at" is null;