CREATE TABLE `consents` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`community_id` text NOT NULL,
	`user_urn` text NOT NULL,
	`sp_id` text NOT NULL,
	`scope_names` text NOT NULL,
	`receipt` text NOT NULL,
	`created_at` integer NOT NULL,
	`withdrawn_at` integer,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`community_id`) REFERENCES `communities`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `consents_user_sp` ON `consents` (`tenant_id`,`community_id`,`user_urn`,`sp_id`);--> statement-breakpoint
CREATE TABLE `identity_providers` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`community_id` text NOT NULL,
	`type` text NOT NULL,
	`body` text NOT NULL,
	`version` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`community_id`) REFERENCES `communities`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `identity_providers_tenant_community` ON `identity_providers` (`tenant_id`,`community_id`);--> statement-breakpoint
CREATE TABLE `service_providers` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`community_id` text NOT NULL,
	`type` text NOT NULL,
	`featured` text,
	`name` text NOT NULL,
	`client_id` text,
	`entity_id` text,
	`secret_hash` text,
	`sealed_secrets` text,
	`body` text NOT NULL,
	`version` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`community_id`) REFERENCES `communities`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `service_providers_client_id` ON `service_providers` (`community_id`,`client_id`) WHERE client_id IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `service_providers_entity_id` ON `service_providers` (`community_id`,`entity_id`) WHERE entity_id IS NOT NULL;--> statement-breakpoint
CREATE INDEX `service_providers_tenant_community` ON `service_providers` (`tenant_id`,`community_id`);