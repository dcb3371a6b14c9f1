CREATE TABLE `auth_schemes` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`community_id` text NOT NULL,
	`tag` text NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`is_default` integer DEFAULT false NOT NULL,
	`db_module` text,
	`modules` text DEFAULT '[]' NOT NULL,
	`version` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`community_id`) REFERENCES `communities`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `auth_schemes_community_tag` ON `auth_schemes` (`community_id`,`tag`);--> statement-breakpoint
CREATE UNIQUE INDEX `auth_schemes_one_default` ON `auth_schemes` (`community_id`) WHERE is_default = 1;--> statement-breakpoint
CREATE TABLE `idp_configs` (
	`tenant_id` text NOT NULL,
	`community_id` text NOT NULL,
	`identifier` text NOT NULL,
	`entity_id` text NOT NULL,
	`signing_cert` text NOT NULL,
	`signing_key_sealed` text NOT NULL,
	`encryption_cert` text NOT NULL,
	`encryption_key_sealed` text NOT NULL,
	`authn_requests_signed` integer NOT NULL,
	`sso_bindings` text DEFAULT '[]' NOT NULL,
	`slo_bindings` text DEFAULT '[]' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `community_id`),
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`community_id`) REFERENCES `communities`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `idp_configs_identifier_unique` ON `idp_configs` (`identifier`);--> statement-breakpoint
CREATE TABLE `sp_catalog_items` (
	`tenant_id` text NOT NULL,
	`name` text NOT NULL,
	`logo` text NOT NULL,
	`sso_url` text NOT NULL,
	`template` text NOT NULL,
	`type` text,
	`description` text,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `name`),
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `sso_connection_domains` (
	`tenant_id` text NOT NULL,
	`domain` text NOT NULL,
	`connection_id` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sso_connection_domains_tenant_domain` ON `sso_connection_domains` (`tenant_id`,`domain`);--> statement-breakpoint
CREATE INDEX `sso_connection_domains_conn` ON `sso_connection_domains` (`connection_id`);--> statement-breakpoint
CREATE TABLE `sso_connections` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`community_id` text NOT NULL,
	`name` text NOT NULL,
	`type` text NOT NULL,
	`domains` text DEFAULT '[]' NOT NULL,
	`issuer` text NOT NULL,
	`client_id` text NOT NULL,
	`client_secret_sealed` text,
	`discovery_url` text,
	`authorization_endpoint` text,
	`token_endpoint` text,
	`jwks_uri` text,
	`scopes` text DEFAULT 'openid email profile' NOT NULL,
	`redirect_uris` text DEFAULT '[]' NOT NULL,
	`default_roles` text DEFAULT '[]' NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `sso_connections_tenant` ON `sso_connections` (`tenant_id`);--> statement-breakpoint
CREATE TABLE `terms_acceptances` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`tenant_id` text NOT NULL,
	`user_id` text NOT NULL,
	`community_id` text NOT NULL,
	`version` text NOT NULL,
	`accepted_at` integer NOT NULL,
	`ip` text,
	`user_agent` text
);
--> statement-breakpoint
CREATE INDEX `terms_acceptances_user` ON `terms_acceptances` (`tenant_id`,`user_id`,`accepted_at`);