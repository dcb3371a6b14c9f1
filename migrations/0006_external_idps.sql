CREATE TABLE `external_idps` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`community_id` text NOT NULL,
	`idp_entity_id` text NOT NULL,
	`body` text NOT NULL,
	`sealed_secrets` text,
	`version` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`community_id`) REFERENCES `communities`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `external_idps_entity_id` ON `external_idps` (`community_id`,`idp_entity_id`);--> statement-breakpoint
CREATE INDEX `external_idps_tenant_community` ON `external_idps` (`tenant_id`,`community_id`);