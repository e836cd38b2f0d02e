-- Mythbot's PostgreSQL schema, version 1. Applied by bot/storage/postgres/migrate.py in one transaction.
-- A migration, once released, is never edited: change the schema in a new numbered file.

-- A server's own entries. `data` is the Entry model as JSON (id, kind and retired included);
-- `kind` and `retired` repeat it for queries. Entries are never deleted, only retired.
-- `revision` counts saved versions, so a writer can update only the revision it read.
CREATE TABLE guild_entries (
    guild_id   bigint      NOT NULL,
    entry_id   text        NOT NULL,
    kind       text        NOT NULL CHECK (kind IN ('myth', 'exercise')),
    data       jsonb       NOT NULL,
    retired    boolean     NOT NULL DEFAULT false,
    revision   integer     NOT NULL DEFAULT 1 CHECK (revision > 0),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (guild_id, entry_id),
    CHECK (jsonb_typeof(data) = 'object'),
    CHECK (data ->> 'id' = entry_id),
    -- A model dumped without defaults may leave these out; when present they must agree.
    CHECK (NOT data ? 'kind' OR data ->> 'kind' = kind),
    CHECK (NOT data ? 'retired' OR (data -> 'retired')::boolean = retired)
);

-- Curated entries a server has hidden.
CREATE TABLE guild_hidden (
    guild_id bigint NOT NULL,
    entry_id text   NOT NULL,
    PRIMARY KEY (guild_id, entry_id)
);

-- Extra phrasings moderators taught for any entry, curated or the server's own.
CREATE TABLE guild_trained (
    guild_id bigint      NOT NULL,
    entry_id text        NOT NULL,
    phrasing text        NOT NULL CHECK (phrasing <> ''),
    added_by text        NOT NULL,
    added_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (guild_id, entry_id, phrasing)
);

-- Every saved version of a server's entry; revision 1 is the first.
CREATE TABLE entry_history (
    id         bigserial   PRIMARY KEY,
    guild_id   bigint      NOT NULL,
    entry_id   text        NOT NULL,
    revision   integer     NOT NULL CHECK (revision > 0),
    data       jsonb       NOT NULL CHECK (jsonb_typeof(data) = 'object'),
    changed_by text        NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (guild_id, entry_id, revision),
    FOREIGN KEY (guild_id, entry_id) REFERENCES guild_entries (guild_id, entry_id)
);

-- The next three mirror the SQLite tables in bot/storage/records.py column for column
-- (REAL -> double precision, INTEGER ids -> bigint), so import and export are a copy.
-- Copying rows with their ids leaves the id sequence behind: follow an import with setval().
CREATE TABLE audit (
    id         bigserial        PRIMARY KEY,
    guild_id   bigint           NOT NULL,
    actor_id   bigint           NOT NULL,
    actor_name text             NOT NULL,
    action     text             NOT NULL,
    entry_id   text,
    detail     text,
    created_at double precision NOT NULL
);
CREATE INDEX audit_guild ON audit (guild_id, created_at);

CREATE TABLE unanswered (
    id         bigserial        PRIMARY KEY,
    guild_id   bigint,
    channel_id bigint,
    question   text             NOT NULL,
    best_entry text,
    score      double precision NOT NULL,
    created_at double precision NOT NULL
);
CREATE INDEX unanswered_guild ON unanswered (guild_id, created_at);

CREATE TABLE feedback (
    id         bigserial        PRIMARY KEY,
    guild_id   bigint,
    message_id bigint           NOT NULL,
    user_id    bigint           NOT NULL,
    entry_id   text             NOT NULL,
    question   text,
    helpful    integer          NOT NULL CHECK (helpful IN (0, 1)),  -- SQLite's boolean, kept for the copy
    created_at double precision NOT NULL,
    UNIQUE (message_id, user_id)
);

-- A member's question paired with the entry they meant (issue 17): picked after "Not what I asked"
-- ('pick'), or matched when they asked again ('reask'). Nothing changes answers until a moderator
-- approves it (status).
CREATE TABLE suggestions (
    id         bigserial        PRIMARY KEY,
    guild_id   bigint           NOT NULL,
    question   text             NOT NULL,
    entry_id   text             NOT NULL,
    source     text             NOT NULL CHECK (source IN ('pick', 'reask')),
    created_at double precision NOT NULL,
    status     text             NOT NULL DEFAULT 'pending'
);
CREATE INDEX suggestions_guild ON suggestions (guild_id, status, created_at);

-- A counter per server, bumped by every change to its entries, hidden ids or trained phrasings,
-- so each process can tell its cached copy of a server is stale.
CREATE TABLE guild_versions (
    guild_id bigint PRIMARY KEY,
    version  bigint NOT NULL CHECK (version > 0)
);

-- The bump is a trigger so no write path can forget it. Row-level: a statement touching many rows
-- of one server bumps it once per row, which is harmless (only the change matters).
CREATE FUNCTION bump_guild_version() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed_guild bigint := CASE WHEN TG_OP = 'DELETE' THEN OLD.guild_id ELSE NEW.guild_id END;
BEGIN
    INSERT INTO guild_versions AS v (guild_id, version) VALUES (changed_guild, 1)
        ON CONFLICT (guild_id) DO UPDATE SET version = v.version + 1;
    IF TG_OP = 'UPDATE' AND OLD.guild_id <> NEW.guild_id THEN
        INSERT INTO guild_versions AS v (guild_id, version) VALUES (OLD.guild_id, 1)
            ON CONFLICT (guild_id) DO UPDATE SET version = v.version + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER guild_entries_bump AFTER INSERT OR UPDATE OR DELETE ON guild_entries
    FOR EACH ROW EXECUTE FUNCTION bump_guild_version();
CREATE TRIGGER guild_hidden_bump AFTER INSERT OR UPDATE OR DELETE ON guild_hidden
    FOR EACH ROW EXECUTE FUNCTION bump_guild_version();
CREATE TRIGGER guild_trained_bump AFTER INSERT OR UPDATE OR DELETE ON guild_trained
    FOR EACH ROW EXECUTE FUNCTION bump_guild_version();
