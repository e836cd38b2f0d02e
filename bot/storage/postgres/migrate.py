"""Versioned schema migrations: numbered SQL files (`0001_initial.sql`, ...) applied in order, once.

Each pending file runs in its own transaction together with its row in `schema_migrations`, so a
file either applies completely and is recorded, or leaves no trace. Every transaction first takes
one advisory lock, so processes that start together queue up and each migration runs exactly once.
Statements that cannot run in a transaction (CREATE INDEX CONCURRENTLY) do not belong here.
"""

import re
from dataclasses import dataclass
from pathlib import Path

import psycopg

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Any fixed bigint works; this one is "mythbot" in ASCII, so it is recognisable in pg_locks.
MIGRATION_LOCK = 0x6D797468626F74
FILE_NAME = re.compile(r"(?P<version>\d{4})_(?P<slug>[a-z0-9_]+)\.sql")

CREATE_VERSIONS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


class MigrationError(Exception):
    """A migration file that is misnamed or fails; the message starts with the file (and line)."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str  # the file name, e.g. "0001_initial.sql"
    path: Path


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The directory's migrations in version order; a misnamed .sql file or a repeated number is an error."""
    migrations: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = FILE_NAME.fullmatch(path.name)
        if not match:
            raise MigrationError(f"{path}: migration files are named like 0001_what_it_does.sql")
        version = int(match["version"])
        if version in migrations:
            raise MigrationError(f"{path}: version {version} is also {migrations[version].path.name}")
        migrations[version] = Migration(version, path.name, path)
    return [migrations[version] for version in sorted(migrations)]


async def upgrade(dsn: str, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply the pending migrations in order; return the names of those this call applied."""
    applied = []
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        # Each statement must see what the previous lock holder committed, whatever the database's default.
        await conn.set_isolation_level(psycopg.IsolationLevel.READ_COMMITTED)
        for migration in load_migrations(directory):
            if await _apply(conn, migration):
                applied.append(migration.name)
    return applied


async def current_version(dsn: str) -> int:
    """The newest applied migration's version; 0 for a database never migrated."""
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        cursor = await conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL")
        if not (await cursor.fetchone())[0]:
            return 0
        cursor = await conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations")
        return (await cursor.fetchone())[0]


async def _apply(conn: psycopg.AsyncConnection, migration: Migration) -> bool:
    """Run one migration unless it is recorded already; False if it was. Rolls back entirely on error."""
    script = migration.path.read_text(encoding="utf-8")
    async with conn.transaction():
        # Held until this transaction ends; whoever waited then sees the version recorded and skips it.
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        await conn.execute(CREATE_VERSIONS_TABLE)
        cursor = await conn.execute("SELECT 1 FROM schema_migrations WHERE version = %s", (migration.version,))
        if await cursor.fetchone():
            return False
        try:
            await conn.execute(script)  # no parameters: sent as one simple query, so several statements work
        except psycopg.Error as error:
            raise MigrationError(_describe(migration, script, error)) from error
        await conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                           (migration.version, migration.name))
    return True


def _describe(migration: Migration, script: str, error: psycopg.Error) -> str:
    """`file:line: message` when PostgreSQL says where in the script it failed, else `file: message`."""
    message = error.diag.message_primary or str(error)
    if error.diag.context:
        message += f" ({error.diag.context.strip()})"
    position = error.diag.statement_position  # 1-based character offset into the script
    if position and position.isdigit():
        line = script[: int(position) - 1].count("\n") + 1
        return f"{migration.path}:{line}: {message}"
    return f"{migration.path}: {message}"
