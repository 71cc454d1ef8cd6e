CREATE TABLE "push_receipts" (
	"key" text PRIMARY KEY NOT NULL,
	"signed_at" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "push_receipts_signed_at" ON "push_receipts" USING btree ("signed_at");