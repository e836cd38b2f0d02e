"""PostgreSQL behind the storage protocols, for bots that run as several processes on one database.

Each server's entries are rows of `guild_entries` (the Entry as JSONB), with `guild_hidden`,
`guild_trained` and every saved version in `entry_history`. A change runs in one transaction that
first locks the server's row in `guild_versions` (`SELECT ... FOR UPDATE`), so two processes never
interleave on one server; it re-reads the server, runs the same pure operation and checks as the file
backend (`bot.storage.operations.run_checked`), writes only what changed, and `NOTIFY`s
`mythbot_guild` with the server id, which PostgreSQL delivers at commit. `listen()` hands those ids to
a callback, so other processes can `refresh()` that server.

Connections: each store holds one connection, used by one caller at a time and reopened when it
breaks. Answers never touch the database (they read memory), moderator changes are rare and short,
and a record is one short statement, so a pool (another dependency) would buy nothing yet; a bot
process holds four connections (entries, records, and a listener on each of notify.py's two channels;
a curated-knowledge reload briefly opens a fifth to announce itself). `_Link` is the one place to put
a pool.
"""

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus
from psycopg.types.json import Jsonb
from pydantic import TypeAdapter, ValidationError

from bot.engine.knowledge import KnowledgeBase, ParsedFile
from bot.engine.schema import Entry
from bot.engine.yamlsafe import Problem
from bot.stats import Decision, Vote
from bot.storage.base import (
    DECISION_STATUSES,
    SUGGESTION_SOURCES,
    SUGGESTION_STATUSES,
    AuditRecord,
    Change,
    GuildState,
    HeldStates,
    Operation,
    RecordFailed,
    Revision,
    SaveFailed,
    StorageError,
    Suggestion,
    Unanswered,
    newest_first,
)
from bot.storage.guild_file import EXPORT_HEADER, GuildFile, export_file, to_yaml
from bot.storage.operations import cross_problems, run_checked
from bot.storage.postgres.migrate import MigrationError, upgrade
from bot.storage.postgres.notify import follow
from bot.storage.records import FORGET_QUESTIONS, MAX_QUESTION_CHARS

log = logging.getLogger(__name__)

CHANNEL = "mythbot_guild"
_ENTRY: TypeAdapter[Entry] = TypeAdapter(Entry)


def origin(guild_id: int) -> str:
    """How problems with a server's stored data are named (the file backend names the file)."""
    return f"database guild {int(guild_id)}"


class _Link:
    """One connection (autocommit; changes use explicit transactions), one user at a time, reopened when broken."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._conn: psycopg.AsyncConnection | None = None
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def use(self) -> AsyncIterator[psycopg.AsyncConnection]:
        async with self._lock:
            if self._conn is None or self._conn.closed or self._conn.broken:
                self._conn = await psycopg.AsyncConnection.connect(self.dsn, autocommit=True)
            try:
                yield self._conn
            finally:
                if self._conn.info.transaction_status != TransactionStatus.IDLE:  # cancelled mid-statement
                    await self._conn.close()

    async def close(self) -> None:
        async with self._lock:
            if self._conn is not None:
                await self._conn.close()


async def _fetch(conn: psycopg.AsyncConnection, query: str | sql.Composable, params: tuple = ()) -> list[tuple]:
    cursor = await conn.execute(query, params)
    return await cursor.fetchall()


# --- a server's content as rows ----------------------------------------------------------------------------

# A server's entries, hidden ids and taught phrasings as three JSON values, for the server named by {g}.
_CONTENT_COLUMNS = """
  (SELECT coalesce(jsonb_agg(data ORDER BY position), '[]') FROM guild_entries WHERE guild_id = {g}),
  (SELECT coalesce(jsonb_agg(entry_id), '[]') FROM guild_hidden WHERE guild_id = {g}),
  (SELECT coalesce(jsonb_object_agg(entry_id, phrasings), '{{}}') FROM
     (SELECT entry_id, jsonb_agg(phrasing) AS phrasings FROM guild_trained WHERE guild_id = {g}
      GROUP BY entry_id) AS taught)"""
READ_GUILD = sql.SQL("SELECT {content}, (SELECT version FROM guild_versions WHERE guild_id = %(g)s)").format(
    content=sql.SQL(_CONTENT_COLUMNS).format(g=sql.Placeholder("g")))
# Every server that ever saved something has a version row (a trigger bumps it on any change).
READ_GUILDS = sql.SQL("SELECT v.guild_id, {content}, v.version FROM guild_versions AS v ORDER BY v.guild_id").format(
    content=sql.SQL(_CONTENT_COLUMNS).format(g=sql.SQL("v.guild_id")))
GUILDS_PER_FETCH = 100


GuildRows = tuple[list[dict], list[str], dict[str, list[str]], int | None]  # entries, hidden, trained, version


def content_of(entries: list[dict], hidden: list[str], trained: dict[str, list[str]]) -> GuildFile:
    """A server's rows as the same `GuildFile` its YAML file would hold (raises ValidationError)."""
    return GuildFile.model_validate({
        "myths": [data for data in entries if data.get("kind", "myth") == "myth"],
        "exercises": [data for data in entries if data.get("kind") == "exercise"],
        "hidden": hidden,
        "trained": trained,
    })


async def read_guild(conn: psycopg.AsyncConnection, guild_id: int) -> tuple[GuildFile, int | None]:
    """The server's content and version, from one statement (one snapshot)."""
    [(entries, hidden, trained, version)] = await _fetch(conn, READ_GUILD, {"g": guild_id})
    return content_of(entries, hidden, trained), version


async def insert_entry(conn: psycopg.AsyncConnection, guild_id: int, entry: Entry, revision: int = 1) -> None:
    """A new entry of the server's, at the end of its list, as its `revision`-th saved version."""
    await conn.execute("INSERT INTO guild_entries (guild_id, entry_id, kind, data, retired, revision) "
                       "VALUES (%s, %s, %s, %s, %s, %s)",
                       (guild_id, entry.id, entry.kind, Jsonb(entry.model_dump(mode="json")), entry.retired, revision))


async def update_entry(conn: psycopg.AsyncConnection, guild_id: int, entry: Entry) -> int:
    """Replace an entry of the server's; returns its new revision number."""
    [(revision,)] = await _fetch(
        conn, "UPDATE guild_entries SET kind = %s, data = %s, retired = %s, revision = revision + 1, "
              "updated_at = now() WHERE guild_id = %s AND entry_id = %s RETURNING revision",
        (entry.kind, Jsonb(entry.model_dump(mode="json")), entry.retired, guild_id, entry.id))
    return revision


async def insert_history(conn: psycopg.AsyncConnection, guild_id: int, entry: Entry, revision: int) -> None:
    saved = Revision(entry)
    await conn.execute(
        "INSERT INTO entry_history (guild_id, entry_id, revision, data, changed_by, changed_at) "
        "VALUES (%s, %s, %s, %s, %s, coalesce(%s::timestamptz, now()))",
        (guild_id, entry.id, revision, Jsonb(entry.model_dump(mode="json")), saved.saved_by or "unknown",
         saved.saved_at))


async def save_entries(conn: psycopg.AsyncConnection, guild_id: int, before: GuildFile, after: GuildFile) -> None:
    """Insert new entries, update changed ones, and keep each saved version in entry_history."""
    previous = {entry.id: entry for entry in before.entries}
    for entry in after.entries:
        old = previous.get(entry.id)
        if old == entry:
            continue
        revision = 1 if old is None else await update_entry(conn, guild_id, entry)
        if old is None:
            await insert_entry(conn, guild_id, entry)
        await insert_history(conn, guild_id, entry, revision)


async def _save_sets(conn: psycopg.AsyncConnection, guild_id: int, before: GuildFile, after: GuildFile,
                     by: str) -> None:
    """Add and remove hidden ids and taught phrasings (rows are the set; nothing else to update)."""
    hidden_before, hidden_after = set(before.hidden), set(after.hidden)
    taught_before = {(eid, text) for eid, texts in before.trained.items() for text in texts}
    taught_after = {(eid, text) for eid, texts in after.trained.items() for text in texts}
    async with conn.cursor() as cur:
        await cur.executemany("INSERT INTO guild_hidden (guild_id, entry_id) VALUES (%s, %s)",
                              [(guild_id, eid) for eid in sorted(hidden_after - hidden_before)])
        await cur.executemany("DELETE FROM guild_hidden WHERE guild_id = %s AND entry_id = %s",
                              [(guild_id, eid) for eid in sorted(hidden_before - hidden_after)])
        await cur.executemany("INSERT INTO guild_trained (guild_id, entry_id, phrasing, added_by) "
                              "VALUES (%s, %s, %s, %s)",
                              [(guild_id, eid, text, by) for eid, text in sorted(taught_after - taught_before)])
        await cur.executemany("DELETE FROM guild_trained WHERE guild_id = %s AND entry_id = %s AND phrasing = %s",
                              [(guild_id, eid, text) for eid, text in sorted(taught_before - taught_after)])


async def save_guild(conn: psycopg.AsyncConnection, guild_id: int, before: GuildFile, after: GuildFile,
                     by: str) -> None:
    """Write the difference between two contents of one server (call inside its locked transaction).

    Entries are never deleted: one missing from `after` stays as it is."""
    await save_entries(conn, guild_id, before, after)
    await _save_sets(conn, guild_id, before, after, by)
    await conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(guild_id)))


async def lock_guild(conn: psycopg.AsyncConnection, guild_id: int) -> None:
    """Hold the server's row until the transaction ends; other writers of this server wait here."""
    await conn.execute("INSERT INTO guild_versions (guild_id, version) VALUES (%s, 1) ON CONFLICT DO NOTHING",
                       (guild_id,))
    await conn.execute("SELECT version FROM guild_versions WHERE guild_id = %s FOR UPDATE", (guild_id,))


async def guild_version(conn: psycopg.AsyncConnection, guild_id: int) -> int | None:
    rows = await _fetch(conn, "SELECT version FROM guild_versions WHERE guild_id = %s", (guild_id,))
    return rows[0][0] if rows else None


async def each_guild(conn: psycopg.AsyncConnection) -> AsyncIterator[tuple[int, GuildRows]]:
    """Every server's rows, one server at a time in id order, from one snapshot. A server-side cursor fetches
    a few servers at a time, so memory holds one batch of rows, not the whole table, however many servers."""
    async with conn.transaction():
        await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        async with conn.cursor(name="mythbot_each_guild") as cursor:
            cursor.itersize = GUILDS_PER_FETCH
            await cursor.execute(READ_GUILDS)
            async for guild_id, entries, hidden, trained, version in cursor:
                yield guild_id, (entries, hidden, trained, version)


# --- the stores -------------------------------------------------------------------------------------------------


class PgFaqStore(HeldStates):
    """`FaqStore` on PostgreSQL; memory holds every server's state for the answering hot path."""

    def __init__(self, dsn: str, base: Callable[[], KnowledgeBase]) -> None:
        self.dsn = dsn
        self._base = base
        self._link = _Link(dsn)
        self._states: dict[int, GuildState] = {}
        self._versions: dict[int, int | None] = {}

    # --- reading ---

    def _keep(self, guild_id: int, content: GuildFile, version: int | None) -> None:
        self._versions[guild_id] = version
        if content == GuildFile():
            self._states.pop(guild_id, None)
        else:
            self._states[guild_id] = GuildState.of(content, origin(guild_id))

    def _loaded(self, guild_id: int, rows: GuildRows) -> list[Problem]:
        """Keep one server's rows in memory if they load; else log why and keep nothing for it."""
        entries, hidden, trained, version = rows
        try:
            content = content_of(entries, hidden, trained)
        except ValidationError as exc:
            problems = [Problem(origin(guild_id), 1, f"{'.'.join(map(str, err['loc']))}: {err['msg']}")
                        for err in exc.errors(include_url=False)]
            for problem in problems:
                log.error("%s", problem)
            log.error("guild %s: its stored entries do not load; it has no entries of its own for now", guild_id)
            self._states.pop(guild_id, None)
            return problems
        for problem in cross_problems(ParsedFile(origin(guild_id), content, None, ()), self._base()):
            log.warning("guild %s: %s (fix it with /faq edit or /faq remove)", guild_id, problem.message)
        self._keep(guild_id, content, version)
        return []

    async def load_all(self) -> list[Problem]:
        problems: list[Problem] = []
        try:
            async with self._link.use() as conn:
                async for guild_id, rows in each_guild(conn):
                    problems += self._loaded(guild_id, rows)
        except psycopg.Error as exc:
            log.error("could not read the servers' entries from the database: %s", exc)
            return [Problem(origin(0), 1, f"cannot read the database: {type(exc).__name__}")]
        log.info("loaded moderator entries for %d guild(s) from the database", len(self._states))
        return problems

    async def reload(self, guild_id: int) -> list[Problem]:
        guild_id = int(guild_id)
        try:
            async with self._link.use() as conn:
                [rows] = await _fetch(conn, READ_GUILD, {"g": guild_id})
        except psycopg.Error as exc:
            log.error("guild %s: could not read its entries from the database: %s", guild_id, exc)
            return [Problem(origin(guild_id), 1, f"cannot read the database: {type(exc).__name__}")]
        return self._loaded(guild_id, rows)

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[psycopg.AsyncConnection]:
        try:
            async with self._link.use() as conn:
                yield conn
        except psycopg.Error as exc:
            log.warning("the database did not answer a read: %s: %s", type(exc).__name__, exc)
            raise StorageError(f"the database did not answer ({type(exc).__name__}); try again in a moment") from exc

    async def refresh(self, guild_id: int) -> None:
        """Re-read the server if its version moved since this process last saw it."""
        async with self._reading() as conn:
            version = await guild_version(conn, int(guild_id))
        if version is None or version != self._versions.get(int(guild_id)):
            await self.reload(guild_id)

    async def stale_guilds(self) -> list[int]:
        """Servers whose stored version differs from what this process holds (after missed notifications)."""
        async with self._reading() as conn:
            versions = dict(await _fetch(conn, "SELECT guild_id, version FROM guild_versions"))
        return sorted(g for g in {*versions, *self._versions} if versions.get(g) != self._versions.get(g))

    async def guild_ids(self) -> list[int]:
        # A row in guild_versions is made by the first change a server saves and never removed.
        async with self._reading() as conn:
            return [guild_id for (guild_id,) in await _fetch(conn, "SELECT guild_id FROM guild_versions "
                                                                   "ORDER BY guild_id")]


    async def export_yaml(self, guild_id: int) -> tuple[str, int]:
        exported = export_file(self.state(guild_id).content)
        return to_yaml(exported, EXPORT_HEADER), len(exported.myths) + len(exported.exercises)

    async def history(self, guild_id: int, entry_id: str, limit: int = 20) -> list[Revision]:
        params = (int(guild_id), entry_id)
        async with self._reading() as conn, conn.transaction():
            await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            saved = await _fetch(conn, "SELECT data FROM entry_history WHERE guild_id = %s AND entry_id = %s "
                                       "ORDER BY revision", params)
            current = await _fetch(conn, "SELECT data FROM guild_entries WHERE guild_id = %s AND entry_id = %s",
                                   params)
        versions = [_ENTRY.validate_python(data) for (data,) in saved]
        return newest_first(versions, _ENTRY.validate_python(current[0][0]) if current else None, limit)

    # --- changing ---

    async def apply(self, guild_id: int, operation: Operation) -> Change:
        guild_id, base = int(guild_id), self._base()
        try:
            async with self._link.use() as conn, conn.transaction():
                await lock_guild(conn, guild_id)
                current, _ = await read_guild(conn, guild_id)
                now = datetime.now(UTC).replace(microsecond=0)
                state, change, _ = await asyncio.to_thread(run_checked, origin(guild_id), operation, current, base,
                                                           now)
                await save_guild(conn, guild_id, current, state.content, change.by or "unknown")
                version = await guild_version(conn, guild_id)
        except psycopg.Error as exc:
            log.warning("guild %s: the database refused a change: %s: %s", guild_id, type(exc).__name__, exc)
            raise SaveFailed(f"the database could not save the change ({type(exc).__name__}); nothing was "
                             "changed. Try again in a moment.") from None
        except ValidationError:
            log.exception("guild %s: its stored entries do not load", guild_id)
            raise SaveFailed("this server's stored entries do not load, so nothing was changed; the operator's "
                             "log says what is wrong") from None
        self._keep(guild_id, state.content, version)
        return change

    # --- other processes ---

    async def listen(self, callback: Callable[[int], Awaitable[object]], *,
                     ready: asyncio.Event | None = None) -> None:
        """Call `callback(guild_id)` for every change any process commits, this one's included, until
        cancelled. After losing the database it reconnects, then calls back for each server that changed
        meanwhile. `ready` is set once it listens."""

        async def catch_up() -> None:
            for guild_id in await self.stale_guilds():
                await _call_back(callback, guild_id)

        await follow(self.dsn, CHANNEL, lambda payload: _call_back(callback, payload), catch_up=catch_up,
                     ready=ready)

    async def close(self) -> None:
        await self._link.close()


async def _call_back(callback: Callable[[int], Awaitable[object]], payload: int | str) -> None:
    """One notification; a failing callback is logged and never stops the listener."""
    try:
        await callback(int(payload))
    except Exception:
        log.exception("the change callback failed for guild %s", payload)


class PgRecordStore:
    """`RecordStore` on PostgreSQL: the same tables and answers as SQLite's `Records`."""

    def __init__(self, dsn: str) -> None:
        self._link = _Link(dsn)

    async def _rows(self, query: str, params: tuple = ()) -> list[tuple]:
        try:
            async with self._link.use() as conn:
                cursor = await conn.execute(query, params)
                return await cursor.fetchall() if cursor.description else []
        except psycopg.Error as exc:
            raise RecordFailed(f"the records database did not answer ({type(exc).__name__}); try again in a "
                               "moment") from exc

    async def record_unanswered(self, guild_id: int | None, channel_id: int | None, question: str,
                                best_entry: str | None = None, score: float = 0.0) -> None:
        await self._rows("INSERT INTO unanswered (guild_id, channel_id, question, best_entry, score, created_at) "
                         "VALUES (%s, %s, %s, %s, %s, %s)",
                         (guild_id, channel_id, question[:MAX_QUESTION_CHARS], best_entry, score, time.time()))

    async def unanswered(self, guild_id: int | None, since: float = 0.0, limit: int = 5000) -> list[Unanswered]:
        rows = await self._rows("SELECT question, best_entry, score, created_at FROM unanswered "
                                "WHERE guild_id IS NOT DISTINCT FROM %s::bigint AND created_at >= %s "
                                "ORDER BY created_at DESC LIMIT %s", (guild_id, since, limit))
        return [Unanswered(*row) for row in rows]

    async def record_feedback(self, guild_id: int | None, message_id: int, user_id: int, *, entry_id: str,
                              helpful: bool, question: str | None = None) -> bool:
        [(inserted,)] = await self._rows(
            "INSERT INTO feedback (guild_id, message_id, user_id, entry_id, question, helpful, created_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (message_id, user_id) DO UPDATE SET "
            "helpful = excluded.helpful, created_at = excluded.created_at RETURNING xmax = 0",
            (guild_id, message_id, user_id, entry_id, (question or "")[:MAX_QUESTION_CHARS], int(helpful),
             time.time()))
        return inserted

    async def feedback_counts(self, entry_id: str, guild_id: int | None = None) -> tuple[int, int]:
        rows = await self._rows("SELECT helpful, count(*) FROM feedback WHERE entry_id = %s "
                                "AND (%s::bigint IS NULL OR guild_id = %s::bigint) GROUP BY helpful",
                                (entry_id, guild_id, guild_id))
        counts = dict(rows)
        return counts.get(1, 0), counts.get(0, 0)

    async def audit(self, guild_id: int, actor_id: int, actor_name: str, action: str, *,
                    entry_id: str | None = None, detail: str | None = None) -> None:
        await self._rows("INSERT INTO audit (guild_id, actor_id, actor_name, action, entry_id, detail, created_at) "
                         "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                         (guild_id, actor_id, actor_name, action, entry_id, detail, time.time()))

    async def audit_log(self, guild_id: int, limit: int = 50) -> list[AuditRecord]:
        rows = await self._rows("SELECT guild_id, actor_id, actor_name, action, entry_id, detail, created_at "
                                "FROM audit WHERE guild_id = %s ORDER BY id DESC LIMIT %s", (guild_id, limit))
        return [AuditRecord(*row) for row in rows]

    async def record_decision(self, guild_id: int | None, channel_id: int | None, status: str,
                              entry_id: str | None, score: float) -> None:
        if status not in DECISION_STATUSES:
            raise ValueError(f"status must be one of {', '.join(DECISION_STATUSES)}, got {status!r}")
        await self._rows("INSERT INTO decisions (guild_id, channel_id, status, entry_id, score, created_at) "
                         "VALUES (%s, %s, %s, %s, %s, %s)", (guild_id, channel_id, status, entry_id, score,
                                                             time.time()))

    async def decisions(self, guild_id: int | None, since: float) -> list[Decision]:
        rows = await self._rows("SELECT created_at, status, entry_id FROM decisions WHERE guild_id IS NOT DISTINCT "
                                "FROM %s::bigint AND created_at >= %s ORDER BY created_at, id", (guild_id, since))
        return [Decision(*row) for row in rows]

    async def votes(self, guild_id: int | None, since: float) -> list[Vote]:
        rows = await self._rows("SELECT created_at, entry_id, helpful FROM feedback WHERE guild_id IS NOT DISTINCT "
                                "FROM %s::bigint AND created_at >= %s ORDER BY created_at, id", (guild_id, since))
        return [Vote(created_at, entry_id, bool(helpful)) for created_at, entry_id, helpful in rows]

    async def record_suggestion(self, guild_id: int, question: str, entry_id: str, source: str,
                                member_id: int | None = None) -> int:
        if source not in SUGGESTION_SOURCES:
            raise ValueError(f"source must be one of {', '.join(SUGGESTION_SOURCES)}, got {source!r}")
        [(suggestion_id,)] = await self._rows(
            "INSERT INTO suggestions (guild_id, question, entry_id, source, created_at, member_id) "
            "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
            (guild_id, question[:MAX_QUESTION_CHARS], entry_id, source, time.time(), member_id))
        return suggestion_id

    async def suggested_since(self, member_id: int, since: float) -> int:
        [(count,)] = await self._rows("SELECT count(*) FROM suggestions WHERE member_id = %s AND created_at >= %s",
                                      (member_id, since))
        return int(count)

    async def suggestions(self, guild_id: int, status: str = "pending") -> list[Suggestion]:
        rows = await self._rows("SELECT id, guild_id, question, entry_id, source, created_at, status, member_id "
                                "FROM suggestions WHERE guild_id = %s AND status = %s ORDER BY created_at, id",
                                (guild_id, status))
        return [Suggestion(*row) for row in rows]

    async def resolve_suggestion(self, guild_id: int, suggestion_id: int, status: str) -> bool:
        if status not in SUGGESTION_STATUSES[1:]:
            raise ValueError(f"status must be one of {', '.join(SUGGESTION_STATUSES[1:])}, got {status!r}")
        rows = await self._rows("UPDATE suggestions SET status = %s WHERE id = %s AND guild_id = %s "
                                "AND status = 'pending' RETURNING id", (status, suggestion_id, guild_id))
        return bool(rows)

    async def forget_questions(self, before: float) -> int:
        try:
            async with self._link.use() as conn, conn.transaction():
                cursors = [await conn.execute(statement.replace("?", "%s"), (before,))
                           for statement in FORGET_QUESTIONS]
        except psycopg.Error as exc:
            raise RecordFailed(f"the records database did not answer ({type(exc).__name__}); try again in a "
                               "moment") from exc
        return sum(cursor.rowcount for cursor in cursors)

    async def close(self) -> None:
        await self._link.close()


async def open_postgres(dsn: str, base: Callable[[], KnowledgeBase]) -> tuple[PgFaqStore, PgRecordStore]:
    """Apply pending migrations, then open both stores (connecting once, so a wrong URL fails here)."""
    try:
        await upgrade(dsn)
        faq, records = PgFaqStore(dsn, base), PgRecordStore(dsn)
        async with faq._link.use(), records._link.use():
            pass
    except (psycopg.Error, MigrationError) as exc:
        raise StorageError(f"cannot use the database: {exc}") from exc
    return faq, records
