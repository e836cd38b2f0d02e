-- Mythbot's PostgreSQL schema, version 2: the bot's decisions (for /faq stats), and the order of a
-- server's entries.

-- One question the bot decided on. Mirrors the SQLite table in bot/storage/records.py column for column.
CREATE TABLE decisions (
    id         bigserial        PRIMARY KEY,
    guild_id   bigint,
    channel_id bigint,
    status     text             NOT NULL CHECK (status IN ('answer', 'clarify', 'none')),
    entry_id   text,
    score      double precision NOT NULL,
    created_at double precision NOT NULL
);
CREATE INDEX decisions_guild ON decisions (guild_id, created_at);

-- The order entries were added in: a server's entries list (and export) in the order they were written,
-- the same as in its YAML file, so moving between backends changes nothing.
ALTER TABLE guild_entries ADD COLUMN position bigint GENERATED ALWAYS AS IDENTITY;
CREATE INDEX guild_entries_order ON guild_entries (guild_id, position);
