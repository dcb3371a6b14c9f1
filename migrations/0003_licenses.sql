CREATE TABLE `licenses` (
	`id` text PRIMARY KEY NOT NULL,
	`key_hash` text NOT NULL,
	`tenant_id` text,
	`auth_level` text NOT NULL,
	`communities` text DEFAULT '[]' NOT NULL,
	`name` text DEFAULT '' NOT NULL,
	`expires_at` integer,
	`disabled` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `licenses_key_hash_unique` ON `licenses` (`key_hash`);--> statement-breakpoint
CREATE INDEX `licenses_tenant` ON `licenses` (`tenant_id`);