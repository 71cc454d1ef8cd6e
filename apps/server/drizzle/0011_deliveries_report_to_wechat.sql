ALTER TABLE "deliveries" ADD COLUMN "express_company_name" text;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "report_to_wechat" boolean DEFAULT true NOT NULL;--> statement-breakpoint
-- WeChat's shipping management covers mini-program (JSAPI) payments only: deliveries of other
-- payments (Native QR) were being re-sent forever (10060001). They are not WeChat's to know.
UPDATE "deliveries" d SET "report_to_wechat" = false
  FROM "orders" o
  WHERE o."order_no" = d."order_no" AND o."channel" IS DISTINCT FROM 'jsapi';
