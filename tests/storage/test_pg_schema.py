"""The tables migration 0001 creates, checked on a real PostgreSQL server."""

import sqlite3

import psycopg
import pytest
from psycopg.types.json import Jsonb

from bot.storage.postgres.migrate import upgrade
from bot.storage.records import ADDED_INDEXES
from bot.storage.records import SCHEMA as SQLITE_SCHEMA

GUILD, OTHER_GUILD = 111, 222
PG_INDEXES = """
SELECT i.indisunique, array_agg(a.attname::text ORDER BY k.ord)
FROM pg_index i
JOIN pg_class t ON t.oid = i.indrelid
CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
WHERE t.relname = %s AND NOT i.indisprimary
GROUP BY i.indexrelid, i.indisunique
"""


@pytest.fixture
async def db(pg_database):
    await upgrade(pg_database)
    async with await psycopg.AsyncConnection.connect(pg_database, autocommit=True) as conn:
        yield conn


def sqlite_shape(table: str) -> tuple[list[tuple[str, bool]], set[tuple[bool, tuple[str, ...]]]]:
    conn = sqlite3.connect(":memory:")
    conn.executescript(SQLITE_SCHEMA + ADDED_INDEXES)
    table_info = conn.execute(f"PRAGMA table_info({table})")
    columns = [(name, bool(notnull or pk)) for _, name, _, notnull, _, pk in table_info]
    indexes = {(bool(unique), tuple(column for *_, column in conn.execute(f"PRAGMA index_info({name})")))
               for _, name, unique, origin, _ in conn.execute(f"PRAGMA index_list({table})") if origin != "pk"}
    return columns, indexes


async def pg_shape(conn, table: str) -> tuple[list[tuple[str, bool]], set[tuple[bool, tuple[str, ...]]]]:
    cursor = await conn.execute("SELECT column_name, is_nullable = 'NO' FROM information_schema.columns "
                                "WHERE table_name = %s ORDER BY ordinal_position", (table,))
    columns = await cursor.fetchall()
    indexes = {(unique, tuple(names)) for unique, names in await (await conn.execute(PG_INDEXES, (table,))).fetchall()}
    return columns, indexes


@pytest.mark.parametrize("table", ["audit", "unanswered", "feedback", "suggestions", "decisions"])
async def test_records_tables_mirror_sqlite_columns_and_indexes(db, table):
    assert await pg_shape(db, table) == sqlite_shape(table)


async def guild_version(conn, guild_id: int) -> int | None:
    row = await (await conn.execute("SELECT version FROM guild_versions WHERE guild_id = %s", (guild_id,))).fetchone()
    return row[0] if row else None


async def add_entry(conn, guild_id: int, entry_id: str, data_id: str | None = None) -> None:
    data = {"id": data_id or entry_id, "kind": "myth", "title": "Creatine bloat?"}
    await conn.execute("INSERT INTO guild_entries (guild_id, entry_id, kind, data) VALUES (%s, %s, 'myth', %s)",
                       (guild_id, entry_id, Jsonb(data)))


async def test_every_change_to_a_guild_bumps_its_version_and_no_other(db):
    await add_entry(db, GUILD, "creatine-bloat")
    assert await guild_version(db, GUILD) == 1

    await db.execute("UPDATE guild_entries SET retired = true, data = data || '{\"retired\": true}', "
                     "revision = revision + 1 WHERE guild_id = %s", (GUILD,))
    await db.execute("INSERT INTO guild_hidden VALUES (%s, 'squats-hip-dips')", (GUILD,))
    await db.execute("INSERT INTO guild_trained (guild_id, entry_id, phrasing, added_by) "
                     "VALUES (%s, 'spot-reduction', 'can i lose belly fat only', 'Ana (5)')", (GUILD,))
    await db.execute("DELETE FROM guild_hidden WHERE guild_id = %s", (GUILD,))

    assert await guild_version(db, GUILD) == 5
    assert await guild_version(db, OTHER_GUILD) is None


async def test_entry_data_must_carry_the_rows_id(db):
    with pytest.raises(psycopg.errors.CheckViolation):
        await add_entry(db, GUILD, "creatine-bloat", data_id="something-else")


async def test_entry_data_cannot_contradict_the_retired_column(db):
    await add_entry(db, GUILD, "creatine-bloat")
    with pytest.raises(psycopg.errors.CheckViolation):
        await db.execute("UPDATE guild_entries SET data = data || '{\"retired\": true}'")


async def test_history_is_kept_only_for_existing_entries_one_row_per_revision(db):
    await add_entry(db, GUILD, "creatine-bloat")
    history = ("INSERT INTO entry_history (guild_id, entry_id, revision, data, changed_by) "
               "VALUES (%s, %s, 1, '{\"id\": \"x\"}', 'Ana (5)')")
    await db.execute(history, (GUILD, "creatine-bloat"))
    with pytest.raises(psycopg.errors.UniqueViolation):
        await db.execute(history, (GUILD, "creatine-bloat"))
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        await db.execute(history, (OTHER_GUILD, "creatine-bloat"))
