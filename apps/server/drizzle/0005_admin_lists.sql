CREATE INDEX "users_openid_reversed" ON "users" USING btree (reverse("openid") text_pattern_ops);--> statement-breakpoint
CREATE INDEX "orders_created" ON "orders" USING btree ("created_at","order_no");--> statement-breakpoint
CREATE INDEX "orders_status_created" ON "orders" USING btree ("status","created_at","order_no");--> statement-breakpoint
CREATE INDEX "payments_paid_at" ON "payments" USING btree ("paid_at");--> statement-breakpoint
CREATE INDEX "refunds_created" ON "refunds" USING btree ("created_at","out_refund_no");--> statement-breakpoint
CREATE INDEX "refunds_status_created" ON "refunds" USING btree ("status","created_at","out_refund_no");--> statement-breakpoint
CREATE INDEX "refunds_settled" ON "refunds" USING btree ("settled_at");