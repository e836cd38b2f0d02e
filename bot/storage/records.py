"""Runtime records in SQLite (WAL): unanswered questions, answer feedback, and the moderators' audit log.

Calls are short and synchronous behind one lock. From the event loop, call them off it: writes through
`bot.workers.record` (one thread, each call with a timeout), reads through a worker pool.
A member's record (an unanswered question, a vote) waits at most `MEMBER_WRITE_WAIT` for another
process holding the database, then fails: the write is lost, the shared writer thread is not.
"""

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

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
"""
MAX_QUESTION_CHARS = 500
BUSY_WAIT = 10.0  # seconds any call waits while another connection holds the database
MEMBER_WRITE_WAIT = 1.0  # less than the workers' record timeout, so the writer thread is freed first


@dataclass(frozen=True)
class Unanswered:
    question: str
    best_entry: str | None
    score: float
    created_at: float


@dataclass(frozen=True)
class AuditRecord:
    guild_id: int
    actor_id: int
    actor_name: str
    action: str
    entry_id: str | None
    detail: str | None
    created_at: float


class Records:
    def __init__(self, path: Path | str) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=BUSY_WAIT)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    @contextmanager
    def _cursor(self, busy_wait: float = BUSY_WAIT) -> Iterator[sqlite3.Cursor]:
        with self._lock:
            self._db.execute(f"PRAGMA busy_timeout = {round(busy_wait * 1000)}")
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
