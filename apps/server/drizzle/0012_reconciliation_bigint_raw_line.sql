ALTER TABLE "reconciliation_discrepancies" DROP CONSTRAINT "reconciliation_discrepancies_kind";--> statement-breakpoint
ALTER TABLE "reconciliation_discrepancies" ALTER COLUMN "ours_fen" SET DATA TYPE bigint;--> statement-breakpoint
ALTER TABLE "reconciliation_discrepancies" ALTER COLUMN "theirs_fen" SET DATA TYPE bigint;--> statement-breakpoint
ALTER TABLE "reconciliation_discrepancies" ADD COLUMN "raw_line" text;--> statement-breakpoint
ALTER TABLE "reconciliation_discrepancies" ADD CONSTRAINT "reconciliation_discrepancies_kind" CHECK ("reconciliation_discrepancies"."kind" in ('missing_here','missing_at_wechat','amount_differs','status_differs','no_statement','unparseable_row'));