ALTER TABLE "refunds" ADD COLUMN "payment_transaction_id" text;--> statement-breakpoint
CREATE UNIQUE INDEX "refunds_payment_transaction" ON "refunds" USING btree ("payment_transaction_id");