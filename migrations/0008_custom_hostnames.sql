CREATE TABLE `custom_hostnames` (
	`hostname` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`community_id` text NOT NULL,
	`cf_id` text NOT NULL,
	`ssl_method` text NOT NULL,
	`status` text NOT NULL,
	`ssl_status` text,
	`records` text NOT NULL,
	`errors` text NOT NULL,
	`created_at` integer NOT NULL,
	`checked_at` integer NOT NULL,
	`active_at` integer,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`community_id`) REFERENCES `communities`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `custom_hostnames_pending` ON `custom_hostnames` (`active_at`,`checked_at`);