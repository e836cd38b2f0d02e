-- Mythbot's PostgreSQL schema, version 3: who made each suggestion, so /faq suggestions counts members
-- (not rows) and a member's repeated suggestion counts once, across restarts. Mirrors SQLite's column.
ALTER TABLE suggestions ADD COLUMN member_id bigint;
CREATE INDEX suggestions_member ON suggestions (member_id, created_at);
