"""Runtime records in SQLite (WAL): unanswered questions, answer feedback, the moderators' audit log,
the bot's decisions (for stats) and members' suggestions.

Calls are short and synchronous behind one lock. From the event loop, call them off it: writes through
`bot.workers.record` (one thread, each call with a timeout), reads through a worker pool.
`FileRecordStore` (bot.storage.file_backend) is the async `RecordStore` over this class.
A member's record (an unanswered question, a vote) waits at most `MEMBER_WRITE_WAIT` for another
process holding the database, then fails: the write is lost, the shared writer thread is not.

Tables are created with `CREATE TABLE IF NOT EXISTS`, so an existing data dir gains new ones in place.
Each mirrors its PostgreSQL twin column for column (tests/storage/test_pg_schema.py checks it).
"""

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.stats import Decision, Vote
from bot.storage.base import (
    DECISION_STATUSES,
    SUGGESTION_SOURCES,
    SUGGESTION_STATUSES,
    AuditRecord,
    Suggestion,
    Unanswered,
)

__all__ = ["RECORDS_FILE", "SCHEMA", "TABLES", "AuditRecord", "Records", "Suggestion", "Unanswered"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS unanswered (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER,
    channel_id INTEGER,
    question TEXT NOT NULL,
    best_entry TEXT,
    score REAL NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS unanswered_guild ON unanswered (guild_id, created_at);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER,
    message_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    entry_id TEXT NOT NULL,
    question TEXT,
    helpful INTEGER NOT NULL,
    created_at REAL NOT NULL,
    UNIQUE (message_id, user_id)
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    actor_id INTEGER NOT NULL,
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    entry_id TEXT,
    detail TEXT,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_guild ON audit (guild_id, created_at);
CREATE TABLE IF NOT EXISTS suggestions (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    question TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('pick', 'reask')),
    created_at REAL NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    member_id INTEGER
);
CREATE INDEX IF NOT EXISTS suggestions_guild ON suggestions (guild_id, status, created_at);
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER,
    channel_id INTEGER,
    status TEXT NOT NULL CHECK (status IN ('answer', 'clarify', 'none')),
    entry_id TEXT,
    score REAL NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS decisions_guild ON decisions (guild_id, created_at);
"""
RECORDS_FILE = "mythbot.sqlite3"  # in the data dir
# (table, column, type) added to a table after its first release, in the order they were added.
ADDED_COLUMNS = (("suggestions", "member_id", "INTEGER"),)
ADDED_INDEXES = "CREATE INDEX IF NOT EXISTS suggestions_member ON suggestions (member_id, created_at);"  # after those
TABLES = ("audit", "unanswered", "feedback", "suggestions", "decisions")
MAX_QUESTION_CHARS = 500
DEFAULT_BUSY_TIMEOUT = 10.0  # seconds SQLite waits for another writer before "database is locked"
MEMBER_WRITE_WAIT = 1.0  # less than the workers' record timeout, so the writer thread is freed first


# What members wrote, by age: the same statements on SQLite and PostgreSQL (placeholders differ).
FORGET_QUESTIONS = (
    "DELETE FROM unanswered WHERE created_at < ?",
    "DELETE FROM suggestions WHERE created_at < ?",
    "UPDATE feedback SET question = '' WHERE question <> '' AND created_at < ?",
)


class Records:
    def __init__(self, path: Path | str, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._busy_timeout = busy_timeout
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=busy_timeout)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        """Columns added since a data dir was created (CREATE TABLE IF NOT EXISTS leaves old tables as they are)."""
        for table, column, kind in ADDED_COLUMNS:
            present = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            if column not in present:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        self._db.executescript(ADDED_INDEXES)

    @contextmanager
    def _cursor(self, busy_wait: float | None = None) -> Iterator[sqlite3.Cursor]:
        """The connection, waiting at most `busy_wait` (default: the store's) for another process's lock."""
        wait = self._busy_timeout if busy_wait is None else min(busy_wait, self._busy_timeout)
        with self._lock:
            self._db.execute(f"PRAGMA busy_timeout = {round(wait * 1000)}")
            yield self._db.cursor()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def record_unanswered(self, guild_id: int | None, channel_id: int | None, question: str,
                          best_entry: str | None = None, score: float = 0.0) -> None:
        with self._cursor(MEMBER_WRITE_WAIT) as cur:
            cur.execute(
                "INSERT INTO unanswered (guild_id, channel_id, question, best_entry, score, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (guild_id, channel_id, question[:MAX_QUESTION_CHARS], best_entry, score, time.time()),
            )

    def unanswered(self, guild_id: int | None, since: float = 0.0, limit: int = 5000) -> list[Unanswered]:
        with self._cursor() as cur:
            rows = cur.execute(
                "SELECT question, best_entry, score, created_at FROM unanswered "
                "WHERE guild_id IS ? AND created_at >= ? ORDER BY created_at DESC LIMIT ?",
                (guild_id, since, limit),
            ).fetchall()
        return [Unanswered(*row) for row in rows]

    def record_feedback(self, guild_id: int | None, message_id: int, user_id: int, *, entry_id: str,
                        helpful: bool, question: str | None = None) -> bool:
        """Store one vote per member per answer; a second vote replaces the first. True if new."""
        with self._cursor(MEMBER_WRITE_WAIT) as cur:
            existed = cur.execute("SELECT 1 FROM feedback WHERE message_id = ? AND user_id = ?",
                                  (message_id, user_id)).fetchone()
            cur.execute(
                "INSERT INTO feedback (guild_id, message_id, user_id, entry_id, question, helpful, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (message_id, user_id) DO UPDATE SET "
                "helpful = excluded.helpful, created_at = excluded.created_at",
                (guild_id, message_id, user_id, entry_id, (question or "")[:MAX_QUESTION_CHARS], int(helpful),
                 time.time()),
            )
        return existed is None

    def feedback_counts(self, entry_id: str, guild_id: int | None = None) -> tuple[int, int]:
        """(helpful, not helpful) votes for an entry, in one guild or everywhere."""
        query = "SELECT helpful, COUNT(*) FROM feedback WHERE entry_id = ?"
        params: tuple = (entry_id,)
        if guild_id is not None:
            query += " AND guild_id = ?"
            params += (guild_id,)
        with self._cursor() as cur:
            counts = dict(cur.execute(query + " GROUP BY helpful", params).fetchall())
        return counts.get(1, 0), counts.get(0, 0)

    def audit(self, guild_id: int, actor_id: int, actor_name: str, action: str, *,
              entry_id: str | None = None, detail: str | None = None) -> None:
        with self._cursor() as cur:
            cur.execute(
                "INSERT INTO audit (guild_id, actor_id, actor_name, action, entry_id, detail, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (guild_id, actor_id, actor_name, action, entry_id, detail, time.time()),
            )

    def audit_log(self, guild_id: int, limit: int = 50) -> list[AuditRecord]:
        with self._cursor() as cur:
            rows = cur.execute(
                "SELECT guild_id, actor_id, actor_name, action, entry_id, detail, created_at FROM audit "
                "WHERE guild_id = ? ORDER BY id DESC LIMIT ?", (guild_id, limit)).fetchall()
        return [AuditRecord(*row) for row in rows]

    def record_decision(self, guild_id: int | None, channel_id: int | None, status: str, entry_id: str | None,
                        score: float) -> None:
        if status not in DECISION_STATUSES:
            raise ValueError(f"status must be one of {', '.join(DECISION_STATUSES)}, got {status!r}")
        with self._cursor(MEMBER_WRITE_WAIT) as cur:  # one per reply to a member, like their questions
            cur.execute("INSERT INTO decisions (guild_id, channel_id, status, entry_id, score, created_at) "
                        "VALUES (?, ?, ?, ?, ?, ?)", (guild_id, channel_id, status, entry_id, score, time.time()))

    def decisions(self, guild_id: int | None, since: float) -> list[Decision]:
        with self._cursor() as cur:
            rows = cur.execute("SELECT created_at, status, entry_id FROM decisions WHERE guild_id IS ? "
                               "AND created_at >= ? ORDER BY created_at, id", (guild_id, since)).fetchall()
        return [Decision(*row) for row in rows]

    def votes(self, guild_id: int | None, since: float) -> list[Vote]:
        with self._cursor() as cur:
            rows = cur.execute("SELECT created_at, entry_id, helpful FROM feedback WHERE guild_id IS ? "
                               "AND created_at >= ? ORDER BY created_at, id", (guild_id, since)).fetchall()
        return [Vote(created_at, entry_id, bool(helpful)) for created_at, entry_id, helpful in rows]

    def record_suggestion(self, guild_id: int, question: str, entry_id: str, source: str,
                          member_id: int | None = None) -> int:
        if source not in SUGGESTION_SOURCES:
            raise ValueError(f"source must be one of {', '.join(SUGGESTION_SOURCES)}, got {source!r}")
        with self._cursor() as cur:
            cur.execute("INSERT INTO suggestions (guild_id, question, entry_id, source, created_at, member_id) "
                        "VALUES (?, ?, ?, ?, ?, ?)", (guild_id, question[:MAX_QUESTION_CHARS], entry_id, source,
                                                      time.time(), member_id))
            return cur.lastrowid

    def suggested_since(self, member_id: int, since: float) -> int:
        with self._cursor() as cur:
            [(count,)] = cur.execute("SELECT count(*) FROM suggestions WHERE member_id = ? AND created_at >= ?",
                                     (member_id, since)).fetchall()
        return int(count)

    def suggestions(self, guild_id: int, status: str = "pending") -> list[Suggestion]:
        with self._cursor() as cur:
            rows = cur.execute("SELECT id, guild_id, question, entry_id, source, created_at, status, member_id "
                               "FROM suggestions WHERE guild_id = ? AND status = ? ORDER BY created_at, id",
                               (guild_id, status)).fetchall()
        return [Suggestion(*row) for row in rows]

    def resolve_suggestion(self, guild_id: int, suggestion_id: int, status: str) -> bool:
        """Approve or reject a pending suggestion; False when it is not pending in this guild."""
        if status not in SUGGESTION_STATUSES[1:]:
            raise ValueError(f"status must be one of {', '.join(SUGGESTION_STATUSES[1:])}, got {status!r}")
        with self._cursor() as cur:
            cur.execute("UPDATE suggestions SET status = ? WHERE id = ? AND guild_id = ? AND status = 'pending'",
                        (status, suggestion_id, guild_id))
            return cur.rowcount == 1

    def forget_questions(self, before: float) -> int:
        with self._cursor() as cur:
            cur.execute("BEGIN IMMEDIATE")
            try:
                changed = sum(cur.execute(statement, (before,)).rowcount for statement in FORGET_QUESTIONS)
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")
        return changed

    # --- whole tables, for `mythbot db import/export` ---

    def _columns_of(self, table: str, columns: list[str]) -> str:
        if table not in TABLES or not all(column.isidentifier() for column in columns):
            raise ValueError(f"not a records table and its columns: {table} {columns}")
        return ", ".join(f'"{column}"' for column in columns)

    def rows(self, table: str) -> tuple[list[str], list[tuple]]:
        """A table's column names and every row, oldest id first."""
        self._columns_of(table, [])
        with self._cursor() as cur:
            cur.execute(f"SELECT * FROM {table} ORDER BY id")  # noqa: S608 (a name from TABLES)
            return [column[0] for column in cur.description], cur.fetchall()

    def insert_rows(self, table: str, columns: list[str], rows: list[tuple]) -> int:
        """Copy rows in with their ids, in one transaction, skipping any already there; how many were new."""
        names, marks = self._columns_of(table, columns), ", ".join("?" * len(columns))
        with self._cursor() as cur:
            before = self._db.total_changes
            cur.execute("BEGIN")
            cur.executemany(f"INSERT OR IGNORE INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608
            cur.execute("COMMIT")
            return self._db.total_changes - before
