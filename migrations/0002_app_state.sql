CREATE TABLE `app_states` (
	`tenant_id` text NOT NULL,
	`user_uid` text NOT NULL,
	`app` text NOT NULL,
	`state` text DEFAULT '{}' NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `user_uid`, `app`)
);
