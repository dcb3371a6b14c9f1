ALTER TABLE `sso_connections` ADD `token_endpoint_auth_method` text;--> statement-breakpoint
ALTER TABLE `sso_connections` ADD `client_key_sealed` text;--> statement-breakpoint
ALTER TABLE `sso_connections` ADD `client_public_jwk` text;--> statement-breakpoint
ALTER TABLE `sso_connections` ADD `userinfo_endpoint` text;