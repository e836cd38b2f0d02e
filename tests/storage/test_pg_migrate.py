"""Versioned migrations against a real PostgreSQL server (the pg_database fixture)."""

import asyncio
import time

import psycopg
import pytest

from bot.storage.postgres.migrate import (
    MIGRATION_LOCK,
    MIGRATIONS_DIR,
    MigrationError,
    current_version,
    load_migrations,
    upgrade,
)

SHIPPED = [path.name for path in sorted(MIGRATIONS_DIR.glob("*.sql"))]


async def fetch_all(dsn: str, query: str, params: tuple = ()) -> list[tuple]:
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        return await (await conn.execute(query, params)).fetchall()


async def test_upgrade_applies_every_migration_to_an_empty_database_and_records_it(pg_database):
    assert await current_version(pg_database) == 0

    assert await upgrade(pg_database) == SHIPPED

    assert await current_version(pg_database) == len(SHIPPED)
    recorded = await fetch_all(pg_database, "SELECT version, name FROM schema_migrations ORDER BY version")
    assert recorded == [(n, name) for n, name in enumerate(SHIPPED, start=1)]


async def test_second_upgrade_applies_nothing(pg_database):
    await upgrade(pg_database)

    assert await upgrade(pg_database) == []
    assert await current_version(pg_database) == len(SHIPPED)


async def waiting_for_lock(conn: psycopg.AsyncConnection, waiters: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        cursor = await conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        if (await cursor.fetchone())[0] == waiters:
            return
        await asyncio.sleep(0.01)
    pytest.fail(f"{waiters} upgrades never queued for the migration lock")


@pytest.mark.parametrize("isolation", ["read committed", "repeatable read"])
async def test_concurrent_upgrades_apply_each_migration_exactly_once(pg_database, isolation):
    async with await psycopg.AsyncConnection.connect(pg_database, autocommit=True) as gate:
        await gate.execute(f"ALTER DATABASE {pg_database.rsplit('/', 1)[1]} "
                           f"SET default_transaction_isolation = '{isolation}'")
        # Hold the lock so both upgrades are certainly in flight together before either can migrate.
        await gate.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        upgrades = [asyncio.create_task(upgrade(pg_database)) for _ in range(2)]
        await waiting_for_lock(gate, 2)
        await gate.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
        applied = await asyncio.gather(*upgrades)

    # Each migration ran in exactly one of them (which one may differ from file to file).
    assert sorted(name for names in applied for name in names) == SHIPPED
    assert await fetch_all(pg_database, "SELECT count(*) FROM schema_migrations") == [(len(SHIPPED),)]


@pytest.fixture
def migrations(tmp_path):
    directory = tmp_path / "migrations"
    directory.mkdir()
    (directory / "0001_notes.sql").write_text("CREATE TABLE notes (body text NOT NULL);\n")
    return directory


async def test_broken_migration_rolls_back_and_names_its_file_and_line(pg_database, migrations):
    broken = migrations / "0002_tags.sql"
    broken.write_text("CREATE TABLE tags (name text);\n\nSELEC 1;\n")

    with pytest.raises(MigrationError, match=rf"^{broken}:3: syntax error at or near \"SELEC\""):
        await upgrade(pg_database, migrations)

    assert await current_version(pg_database) == 1
    assert await fetch_all(pg_database, "SELECT to_regclass('tags') IS NULL") == [(True,)]
    broken.write_text("CREATE TABLE tags (name text);\n")
    assert await upgrade(pg_database, migrations) == ["0002_tags.sql"]


async def test_failure_without_a_position_still_names_the_file(pg_database, migrations):
    clash = migrations / "0002_notes_again.sql"
    clash.write_text("CREATE TABLE notes (body text);\n")

    with pytest.raises(MigrationError, match=rf'^{clash}: relation "notes" already exists'):
        await upgrade(pg_database, migrations)
    assert await current_version(pg_database) == 1


def test_misnamed_migration_file_is_refused(migrations):
    (migrations / "2_more.sql").write_text("SELECT 1;\n")
    with pytest.raises(MigrationError, match=r"2_more\.sql: migration files are named like 0001_"):
        load_migrations(migrations)


def test_two_files_with_one_version_are_refused(migrations):
    (migrations / "0001_other.sql").write_text("SELECT 1;\n")
    with pytest.raises(MigrationError, match=r"0001_other\.sql: version 1 is also 0001_notes\.sql"):
        load_migrations(migrations)
