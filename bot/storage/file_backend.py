"""The embedded default behind the storage protocols: per-guild YAML files (`GuildStore`) and SQLite
(`Records`). Nothing to set up and nothing to run beside the bot.

`FileFaqStore` adapts a `GuildStore` (YAML files under a lock, partly synchronous) to `FaqStore`.
`FileRecordStore` runs every SQLite call in one dedicated thread, so the event loop never waits on
the database and the connection is only ever used from that thread; a short busy timeout turns a
database held by someone else into a prompt `RecordFailed` instead of a stall.
"""

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from bot.engine.engine import Scope
from bot.engine.yamlsafe import Problem
from bot.stats import Decision, Vote
from bot.storage.base import (
    AuditRecord,
    Change,
    GuildState,
    Operation,
    RecordFailed,
    Revision,
    Suggestion,
    Unanswered,
)
from bot.storage.guild_store import GuildStore
from bot.storage.records import Records

T = TypeVar("T")
RECORDS_BUSY_TIMEOUT = 2.0  # seconds; the answer path must not wait longer on a busy database


class FileFaqStore:
    """`FaqStore` over a `GuildStore`; `guilds` is the store itself, for tools and tests of the file layout."""

    def __init__(self, guilds: GuildStore) -> None:
        self.guilds = guilds

    async def load_all(self) -> list[Problem]:
        return await asyncio.to_thread(self.guilds.load_all)

    def scope_for(self, guild_id: int | None) -> Scope | None:
        return self.guilds.scope_for(guild_id)

    def state(self, guild_id: int) -> GuildState:
        return self.guilds.state(guild_id)

    async def apply(self, guild_id: int, operation: Operation) -> Change:
        return await self.guilds.apply(guild_id, operation)

    async def reload(self, guild_id: int) -> list[Problem]:
        return await self.guilds.reload(guild_id)

    async def export_yaml(self, guild_id: int) -> tuple[str, int]:
        return await asyncio.to_thread(self.guilds.export_yaml, guild_id)

    async def history(self, guild_id: int, entry_id: str, limit: int = 20) -> list[Revision]:
        return await asyncio.to_thread(self.guilds.history, guild_id, entry_id, limit)

    async def refresh(self, guild_id: int) -> None:
        await self.guilds.reload(guild_id)

    async def guild_ids(self) -> list[int]:
        return await asyncio.to_thread(self.guilds.guild_ids)

    async def close(self) -> None:
        """Nothing is held open between changes."""


class FileRecordStore:
    """`RecordStore` over SQLite; every call runs in this store's one thread."""

    def __init__(self, records: Records, thread: ThreadPoolExecutor) -> None:
        self._records = records
        self._thread = thread

    @classmethod
    async def open(cls, path: Path | str, *, busy_timeout: float = RECORDS_BUSY_TIMEOUT) -> "FileRecordStore":
        thread = ThreadPoolExecutor(1, thread_name_prefix="mythbot-sqlite")
        try:
            records = await asyncio.get_running_loop().run_in_executor(
                thread, partial(Records, path, busy_timeout=busy_timeout))
        except sqlite3.Error as exc:
            thread.shutdown(wait=False)
            raise RecordFailed(f"the records database could not be opened ({exc})") from exc
        return cls(records, thread)

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._thread, partial(fn, *args, **kwargs))
        except sqlite3.Error as exc:
            raise RecordFailed(f"the records database did not answer ({exc}); try again in a moment") from exc

    async def record_unanswered(self, guild_id: int | None, channel_id: int | None, question: str,
                                best_entry: str | None = None, score: float = 0.0) -> None:
        await self._call(self._records.record_unanswered, guild_id, channel_id, question, best_entry, score)

    async def unanswered(self, guild_id: int | None, since: float = 0.0, limit: int = 5000) -> list[Unanswered]:
        return await self._call(self._records.unanswered, guild_id, since, limit)

    async def record_feedback(self, guild_id: int | None, message_id: int, user_id: int, *, entry_id: str,
                              helpful: bool, question: str | None = None) -> bool:
        return await self._call(self._records.record_feedback, guild_id, message_id, user_id, entry_id=entry_id,
                                helpful=helpful, question=question)

    async def feedback_counts(self, entry_id: str, guild_id: int | None = None) -> tuple[int, int]:
        return await self._call(self._records.feedback_counts, entry_id, guild_id)

    async def audit(self, guild_id: int, actor_id: int, actor_name: str, action: str, *,
                    entry_id: str | None = None, detail: str | None = None) -> None:
        await self._call(self._records.audit, guild_id, actor_id, actor_name, action, entry_id=entry_id,
                         detail=detail)

    async def audit_log(self, guild_id: int, limit: int = 50) -> list[AuditRecord]:
        return await self._call(self._records.audit_log, guild_id, limit)

    async def record_decision(self, guild_id: int | None, channel_id: int | None, status: str,
                              entry_id: str | None, score: float) -> None:
        await self._call(self._records.record_decision, guild_id, channel_id, status, entry_id, score)

    async def decisions(self, guild_id: int | None, since: float) -> list[Decision]:
        return await self._call(self._records.decisions, guild_id, since)

    async def votes(self, guild_id: int | None, since: float) -> list[Vote]:
        return await self._call(self._records.votes, guild_id, since)

    async def record_suggestion(self, guild_id: int, question: str, entry_id: str, source: str,
                                member_id: int | None = None) -> int:
        return await self._call(self._records.record_suggestion, guild_id, question, entry_id, source, member_id)

    async def suggested_since(self, member_id: int, since: float) -> int:
        return await self._call(self._records.suggested_since, member_id, since)

    async def suggestions(self, guild_id: int, status: str = "pending") -> list[Suggestion]:
        return await self._call(self._records.suggestions, guild_id, status)

    async def resolve_suggestion(self, guild_id: int, suggestion_id: int, status: str) -> bool:
        return await self._call(self._records.resolve_suggestion, guild_id, suggestion_id, status)

    async def forget_questions(self, before: float) -> int:
        return await self._call(self._records.forget_questions, before)

    async def close(self) -> None:
        try:
            await self._call(self._records.close)
        finally:
            self._thread.shutdown(wait=True)
