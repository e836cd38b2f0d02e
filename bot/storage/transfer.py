"""Copy a data dir (guild YAML files, their history, the SQLite records) into PostgreSQL and back.

Both directions are idempotent: what is already there is left alone, so a second run changes nothing
and says so. Entries are never deleted on either side; a server's hidden ids and taught phrasings are
made to match the source. Records are copied with their ids, skipping ids already there.

Import does not re-check entries against the curated knowledge: it moves what a bot already accepted
(a server with a problem the bot tolerates at start must not be left behind).
"""

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql
from pydantic import TypeAdapter, ValidationError

from bot.engine.schema import Entry
from bot.engine.yamlsafe import Problem
from bot.storage import file_history
from bot.storage.atomic import file_lock, write_atomic
from bot.storage.base import StorageError
from bot.storage.guild_file import GUILD_HEADER, GuildFile, to_yaml
from bot.storage.guild_store import GUILDS_DIR, read_guild
from bot.storage.postgres import store as pg
from bot.storage.postgres.migrate import current_version, load_migrations, upgrade
from bot.storage.records import RECORDS_FILE, TABLES, Records

log = logging.getLogger(__name__)

IMPORTED_BY = "import"
GUILD_TABLES = ("guild_entries", "entry_history", "guild_hidden", "guild_trained")
_ENTRY: TypeAdapter[Entry] = TypeAdapter(Entry)


@dataclass
class Tally:
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0

    def __str__(self) -> str:
        return f"{self.added} added, {self.changed} changed, {self.removed} removed, {self.unchanged} unchanged"

    def count(self, before: Mapping, after: Mapping, *, removals: bool = True) -> None:
        """Compare two keyed versions of one thing (entries by id, set members by themselves)."""
        for key, value in after.items():
            if key not in before:
                self.added += 1
            elif before[key] == value:
                self.unchanged += 1
            else:
                self.changed += 1
        self.removed += sum(key not in after for key in before) if removals else 0


@dataclass
class Report:
    """Counts per table (every table listed, in a fixed order), and what could not be copied."""

    tallies: dict[str, Tally] = field(default_factory=lambda: {t: Tally() for t in (*GUILD_TABLES, *TABLES)})
    problems: list[Problem] = field(default_factory=list)

    def __getitem__(self, table: str) -> Tally:
        return self.tallies[table]

    def lines(self) -> list[str]:
        return [f"{table}: {tally}" for table, tally in self.tallies.items()]


def _tally_guild(report: Report, before: GuildFile, after: GuildFile) -> None:
    def entries(content: GuildFile) -> dict:
        return {entry.id: entry for entry in content.entries}

    def taught(content: GuildFile) -> dict:
        return {(entry_id, text): 1 for entry_id, texts in content.trained.items() for text in texts}

    report["guild_entries"].count(entries(before), entries(after), removals=False)
    report["guild_hidden"].count(dict.fromkeys(before.hidden, 1), dict.fromkeys(after.hidden, 1))
    report["guild_trained"].count(taught(before), taught(after))


def _numbered(lines: list[str]) -> dict[tuple[str, int], int]:
    """Lines keyed by text and occurrence, so a version saved twice (A, B, A) counts twice."""
    seen: Counter[str] = Counter()
    keyed = {}
    for line in lines:
        seen[line] += 1
        keyed[(line, seen[line])] = 1
    return keyed


# --- data dir -> PostgreSQL ------------------------------------------------------------------------------------


def guild_files(data_dir: Path) -> list[tuple[int, Path]]:
    directory = data_dir / GUILDS_DIR
    paths = sorted(directory.glob("*.yaml")) if directory.is_dir() else []
    return [(int(path.stem), path) for path in paths if path.stem.isdigit()]


def _versions(history: list[Entry], entries: list[Entry]) -> list[Entry]:
    """The history of `entries` in the order it was saved, each ending with the entry as it is now
    (data from before history was kept, or a hand edit, has its current version only)."""
    wanted = {entry.id: entry for entry in entries}
    versions = [version for version in history if wanted.get(version.id, version).kind == version.kind
                and version.id in wanted]
    last = {version.id: version for version in versions}
    return versions + [entry for entry in entries if last.get(entry.id) != entry]


async def _import_new_entries(conn: psycopg.AsyncConnection, guild_id: int, entries: list[Entry],
                              history: list[Entry]) -> int:
    """Entries new to the database: listed in file order, their versions kept in the order they were saved."""
    versions = _versions(history, entries)
    count = Counter(version.id for version in versions)
    for entry in entries:
        await pg.insert_entry(conn, guild_id, entry, count[entry.id])
    saved: Counter[str] = Counter()
    for version in versions:
        saved[version.id] += 1
        await pg.insert_history(conn, guild_id, version, saved[version.id])
    return len(versions)


async def _import_guild(conn: psycopg.AsyncConnection, guild_id: int, content: GuildFile, history: list[Entry],
                        report: Report) -> None:
    async with conn.transaction():
        await pg.lock_guild(conn, guild_id)
        stored, _ = await pg.read_guild(conn, guild_id)
        _tally_guild(report, stored, content)
        known = {entry.id: entry for entry in stored.entries}
        new = [entry for entry in content.entries if entry.id not in known]
        report["entry_history"].added += await _import_new_entries(conn, guild_id, new, history)
        report["entry_history"].added += sum(e.id in known and known[e.id] != e for e in content.entries)
        stored, _ = await pg.read_guild(conn, guild_id)
        await pg.save_guild(conn, guild_id, stored, content, IMPORTED_BY)  # changed entries, hidden, taught


async def _import_guilds(conn: psycopg.AsyncConnection, data_dir: Path, report: Report) -> None:
    for guild_id, path in guild_files(data_dir):
        parsed, problems = read_guild(path)
        report.problems.extend(problems)
        if parsed is None:
            continue
        if parsed.name != str(path):
            log.warning("%s is broken; importing its newest valid backup %s", path, parsed.name)
        history = file_history.read_all(path.with_name(f"{guild_id}{file_history.SUFFIX}"))
        await _import_guild(conn, guild_id, parsed.content, history, report)


async def _pg_count(conn: psycopg.AsyncConnection, table: str) -> int:
    cursor = await conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
    return (await cursor.fetchone())[0]


async def _import_table(conn: psycopg.AsyncConnection, table: str, columns: list[str], rows: list[tuple],
                        report: Report) -> None:
    if not rows:
        return
    insert = sql.SQL("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT DO NOTHING").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(sql.Placeholder() * len(columns)))
    # Rows copied with their ids leave the id sequence behind: move it past them.
    catch_up = sql.SQL("SELECT setval(pg_get_serial_sequence({}, 'id'), max(id)) FROM {} HAVING max(id) IS NOT NULL"
                       ).format(sql.Literal(table), sql.Identifier(table))
    async with conn.transaction():
        before = await _pg_count(conn, table)
        async with conn.cursor() as cur:
            await cur.executemany(insert, rows)
        await conn.execute(catch_up)
        added = await _pg_count(conn, table) - before
    report[table].added += added
    report[table].unchanged += len(rows) - added


def _sqlite_tables(data_dir: Path) -> dict[str, tuple[list[str], list[tuple]]]:
    path = data_dir / RECORDS_FILE
    if not path.is_file():
        return {}
    records = Records(path)
    try:
        return {table: records.rows(table) for table in TABLES}
    finally:
        records.close()


async def import_data_dir(data_dir: Path, dsn: str) -> Report:
    """Copy a data dir into PostgreSQL (migrating it first); running it again changes nothing."""
    await upgrade(dsn)
    report = Report()
    tables = _sqlite_tables(data_dir)
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        await _import_guilds(conn, data_dir, report)
        for table, (columns, rows) in tables.items():
            await _import_table(conn, table, columns, rows, report)
    return report


# --- PostgreSQL -> data dir ------------------------------------------------------------------------------------


def _export_history(path: Path, history: list[Entry], report: Report) -> None:
    lines = [file_history.line_of(entry) for entry in history]
    try:
        had = path.read_text(encoding="utf-8").splitlines(keepends=True)
    except FileNotFoundError:
        had = []
    report["entry_history"].count(_numbered(had), _numbered(lines))
    if had != lines:
        write_atomic(path, "".join(lines).encode(), backups=0)


def _export_guild(directory: Path, guild_id: int, content: GuildFile, history: list[Entry], report: Report) -> None:
    path = directory / f"{guild_id}.yaml"
    with file_lock(path.with_name(f"{path.name}.lock")):  # a bot may be running on this data dir
        parsed, _ = read_guild(path, backups=0)
        existing = parsed.content if parsed else GuildFile()
        _tally_guild(report, existing, content)
        if parsed is None or existing != content:
            write_atomic(path, to_yaml(content, GUILD_HEADER).encode())
        _export_history(directory / f"{guild_id}{file_history.SUFFIX}", history, report)


async def _history(conn: psycopg.AsyncConnection, guild_id: int) -> list[Entry]:
    cursor = await conn.execute("SELECT data FROM entry_history WHERE guild_id = %s ORDER BY id", (guild_id,))
    return [_ENTRY.validate_python(data) for (data,) in await cursor.fetchall()]


async def _pg_rows(conn: psycopg.AsyncConnection, table: str) -> tuple[list[str], list[tuple]]:
    cursor = await conn.execute(sql.SQL("SELECT * FROM {} ORDER BY id").format(sql.Identifier(table)))
    return [column.name for column in cursor.description], await cursor.fetchall()


def _export_tables(data_dir: Path, tables: dict[str, tuple[list[str], list[tuple]]], report: Report) -> None:
    records = Records(data_dir / RECORDS_FILE)
    try:
        for table, (columns, rows) in tables.items():
            added = records.insert_rows(table, columns, rows) if rows else 0
            report[table].added += added
            report[table].unchanged += len(rows) - added
    finally:
        records.close()


async def export_data_dir(dsn: str, data_dir: Path) -> Report:
    """Write every server's entries and history, and the records, from PostgreSQL into a data dir."""
    if await current_version(dsn) < len(load_migrations()):
        raise StorageError("the database is not at the current schema: run `mythbot db upgrade` first")
    report = Report()
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        async for guild_id, (entries, hidden, trained, _) in pg.each_guild(conn):
            if not (entries or hidden or trained):
                continue  # a server whose last own entry, hidden id and phrasing were all removed
            try:
                content = pg.content_of(entries, hidden, trained)
            except ValidationError as exc:
                report.problems.append(Problem(pg.origin(guild_id), 1, f"does not load: {exc}"))
                continue
            _export_guild(data_dir / GUILDS_DIR, guild_id, content, await _history(conn, guild_id), report)
        tables = {table: await _pg_rows(conn, table) for table in TABLES}
    _export_tables(data_dir, tables, report)
    return report
