CREATE TABLE "bill_files" (
	"bill_date" text NOT NULL,
	"kind" text NOT NULL,
	"sha1" text NOT NULL,
	"content" text NOT NULL,
	"downloaded_at" timestamp with time zone NOT NULL,
	CONSTRAINT "bill_files_bill_date_kind_pk" PRIMARY KEY("bill_date","kind"),
	CONSTRAINT "bill_files_kind" CHECK ("bill_files"."kind" in ('trade_all','fund_flow_basic'))
);
--> statement-breakpoint
CREATE TABLE "reconciliation_discrepancies" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"bill_date" text NOT NULL,
	"kind" text NOT NULL,
	"out_trade_no" text,
	"out_refund_no" text,
	"transaction_id" text,
	"ours_fen" integer,
	"theirs_fen" integer,
	"detail" text NOT NULL,
	CONSTRAINT "reconciliation_discrepancies_kind" CHECK ("reconciliation_discrepancies"."kind" in ('missing_here','missing_at_wechat','amount_differs','status_differs','no_statement'))
);
--> statement-breakpoint
CREATE TABLE "reconciliations" (
	"bill_date" text PRIMARY KEY NOT NULL,
	"status" text NOT NULL,
	"ran_at" timestamp with time zone NOT NULL,
	"ours_count" integer NOT NULL,
	"theirs_count" integer NOT NULL,
	"matched_count" integer NOT NULL,
	CONSTRAINT "reconciliations_status" CHECK ("reconciliations"."status" in ('matched','discrepancies','not_ready','no_bill'))
);
--> statement-breakpoint
ALTER TABLE "bill_files" ADD CONSTRAINT "bill_files_bill_date_reconciliations_bill_date_fk" FOREIGN KEY ("bill_date") REFERENCES "public"."reconciliations"("bill_date") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reconciliation_discrepancies" ADD CONSTRAINT "reconciliation_discrepancies_bill_date_reconciliations_bill_date_fk" FOREIGN KEY ("bill_date") REFERENCES "public"."reconciliations"("bill_date") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "reconciliation_discrepancies_day" ON "reconciliation_discrepancies" USING btree ("bill_date");--> statement-breakpoint
CREATE INDEX "reconciliations_ran_at" ON "reconciliations" USING btree ("ran_at");