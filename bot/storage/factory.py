"""Pick the storage backend from one setting: no database URL means files (the default), a
`postgresql://` URL means PostgreSQL (shared by every process that points at it)."""

from collections.abc import Callable
from pathlib import Path

from bot.engine.knowledge import KnowledgeBase
from bot.storage.base import FaqStore, RecordStore, StorageError
from bot.storage.file_backend import FileFaqStore, FileRecordStore
from bot.storage.guild_store import GuildStore
from bot.storage.records import RECORDS_FILE

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


async def open_storage(data_dir: Path | str, database_url: str | None,
                       base: Callable[[], KnowledgeBase]) -> tuple[FaqStore, RecordStore]:
    """Open both stores; `base` returns the curated knowledge each change is checked against.

    PostgreSQL: pending migrations are applied first. Nothing is loaded yet: call `load_all()`.
    Raises `StorageError` for a URL of another kind or a database that cannot be reached."""
    if not database_url:
        return FileFaqStore(GuildStore(data_dir, base)), await FileRecordStore.open(Path(data_dir) / RECORDS_FILE)
    if database_url.startswith(POSTGRES_SCHEMES):
        from bot.storage.postgres.store import open_postgres  # psycopg is imported only by those who use it

        return await open_postgres(database_url, base)
    scheme = database_url.split("://", 1)[0] if "://" in database_url else "no scheme"
    raise StorageError(f"the database URL must start with postgresql:// (got {scheme}); leave it unset to keep "
                       "entries in the data dir")
