CREATE TABLE "access_tokens" (
	"appid" text PRIMARY KEY NOT NULL,
	"access_token" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "deliveries" (
	"order_no" text PRIMARY KEY NOT NULL,
	"logistics_type" text NOT NULL,
	"express_company" text,
	"tracking_no" text,
	"item_desc" text NOT NULL,
	"contact_masked" text,
	"shipped_at" timestamp with time zone NOT NULL,
	"uploaded_at" timestamp with time zone,
	"upload_attempts" integer DEFAULT 0 NOT NULL,
	"last_upload_error" text,
	"next_upload_at" timestamp with time zone NOT NULL,
	"upload_lease_until" timestamp with time zone,
	"upload_gave_up_at" timestamp with time zone,
	CONSTRAINT "deliveries_logistics_type" CHECK ("deliveries"."logistics_type" in ('express','same_city','virtual','pickup'))
);
--> statement-breakpoint
ALTER TABLE "orders" DROP CONSTRAINT "orders_status";--> statement-breakpoint
ALTER TABLE "outbox_events" DROP CONSTRAINT "outbox_type";--> statement-breakpoint
ALTER TABLE "products" ADD COLUMN "is_virtual" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "completed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries_order_no_orders_order_no_fk" FOREIGN KEY ("order_no") REFERENCES "public"."orders"("order_no") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "deliveries_pending_upload" ON "deliveries" USING btree ("uploaded_at","next_upload_at");--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_status" CHECK ("orders"."status" in ('PENDING','PAID','CLOSED','REFUNDING','PARTIALLY_REFUNDED','REFUNDED','SHIPPED','COMPLETED'));--> statement-breakpoint
ALTER TABLE "outbox_events" ADD CONSTRAINT "outbox_type" CHECK ("outbox_events"."type" in ('order.paid','order.closed','order.refunded','order.shipped','order.completed'));