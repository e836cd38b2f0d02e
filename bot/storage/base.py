"""What the rest of the bot may know about storage: two protocols, their errors and their plain data.

- `FaqStore` holds each server's own entries, the curated ids it hides and the phrasings its
  moderators taught. Reads (`scope_for`, `state`) are in memory and synchronous: they sit on the
  answering hot path. Every change is an `Operation` (pure, see `bot.storage.operations`) that the
  store runs against the server's current content under a lock that spans processes, validates
  against the curated base, saves atomically, and only then shows in memory.
- `RecordStore` keeps what happens at run time: unanswered questions, votes, decisions, the audit
  log and members' suggestions.

Backends: YAML files + SQLite (`bot.storage.file_backend`, the default) and PostgreSQL
(`bot.storage.postgres.store`); `bot.storage.factory.open_storage` picks one. Every failure a caller
should handle is a `StorageError`, whose `str()` can be shown to a moderator as it is.
"""

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Protocol, runtime_checkable

from bot.engine.engine import Scope
from bot.engine.knowledge import KnowledgeBase
from bot.engine.schema import Entry
from bot.engine.yamlsafe import Problem
from bot.stats import Decision, Vote
from bot.storage.guild_file import GuildFile

# --- errors ------------------------------------------------------------------------------------------


class StorageError(Exception):
    """Anything storage could not do; `str()` is safe to show a moderator (no paths, no SQL)."""


class StoreError(StorageError):
    """A change to a server's entries that did not happen; `str()` says why, for the moderator."""


class ChangeRefused(StoreError):
    """The change is invalid (bad field, unknown id, collides with curated knowledge); nothing was written."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class SaveFailed(StoreError):
    """The change could not be saved (disk or database trouble); what was stored before is untouched."""


class Conflict(StoreError):
    """Someone else saved the entry after this moderator opened it; nothing was written.

    `current` is the entry as stored now, so the moderator can be shown it and decide again."""

    def __init__(self, message: str, current: Entry | None = None) -> None:
        self.current = current
        super().__init__(message)


class RecordFailed(StorageError):
    """A record could not be written or read (database locked, gone, full); nothing half-written."""


# --- plain data ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """Who made a change: a Discord user id and the name shown at the time."""

    id: int
    name: str

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"


@dataclass(frozen=True)
class Change:
    """What a change did: `action` is add, edit, retire, restore, hide, unhide, train or untrain.

    `by` is who made it, when the operation knows (`str(Actor)`); `phrasings`, for train and untrain, the
    ones it added or forgot (not those the entry already had, or never had)."""

    action: str
    entry_id: str
    entry: Entry | None = None
    by: str | None = None
    phrasings: tuple[str, ...] = ()

    @property
    def revision(self) -> str | None:
        return revision_of(self.entry) if self.entry is not None else None


def revision_of(entry: Entry) -> str:
    """A short hash of everything an entry says, the same on every backend.

    A form remembers it when it opens; saving checks the stored entry still has it (see `Conflict`)."""
    canonical = json.dumps(entry.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Revision:
    """One saved version of a server's entry; who saved it and when come from its stewardship."""

    entry: Entry

    @property
    def revision(self) -> str:
        return revision_of(self.entry)

    @property
    def saved_by(self) -> str | None:
        steward = self.entry.stewardship
        return steward and (steward.updated_by or steward.created_by)

    @property
    def saved_at(self) -> datetime | None:
        steward = self.entry.stewardship
        return steward and (steward.updated_at or steward.created_at)


def newest_first(versions: list[Entry], current: Entry | None, limit: int) -> list[Revision]:
    """Saved versions (oldest first) as revisions, newest first; the current entry always leads.

    A version saved without history (a hand edit, data from before history was kept) still shows."""
    if current is not None and (not versions or versions[-1] != current):
        versions = [*versions, current]
    return [Revision(entry) for entry in reversed(versions[-limit:])] if limit > 0 else []


@dataclass(frozen=True)
class GuildState:
    """One server's content as loaded, and the scope the engine answers that server with."""

    content: GuildFile
    scope: Scope
    origin: str

    @classmethod
    def of(cls, content: GuildFile, origin: str) -> "GuildState":
        entries = {entry.id: entry for entry in content.entries}
        return cls(content, Scope.of(entries, frozenset(content.hidden), content.trained), origin)

    @property
    def entries(self) -> MappingProxyType:
        return self.scope.entries

    @property
    def hidden(self) -> frozenset[str]:
        return self.scope.hidden

    @property
    def trained(self) -> Mapping[str, tuple[str, ...]]:
        """Phrasings moderators taught, by entry id (curated or the server's own)."""
        return MappingProxyType({entry_id: tuple(texts) for entry_id, texts in self.content.trained.items()})


EMPTY = GuildState.of(GuildFile(), "")


class HeldStates:
    """Serving from memory, as both backends do on the answering hot path: each server's state by id."""

    _states: dict[int, GuildState]

    def scope_for(self, guild_id: int | None) -> Scope | None:
        """What the engine answers in this guild with: its entries and hidden ids (None in DMs)."""
        if guild_id is None:
            return None
        state = self._states.get(int(guild_id))
        return state.scope if state else None

    def state(self, guild_id: int) -> GuildState:
        return self._states.get(int(guild_id), EMPTY)

# An operation turns a server's current content into the next; pure, so any backend can run it under its lock.
Operation = Callable[[GuildFile, KnowledgeBase, datetime], tuple[GuildFile, Change]]


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


SUGGESTION_SOURCES = ("pick", "reask")  # picked after "Not what I asked"; matched when asked again
SUGGESTION_STATUSES = ("pending", "approved", "rejected")
DECISION_STATUSES = ("answer", "clarify", "none")


@dataclass(frozen=True)
class Suggestion:
    """A member's question paired with the entry they meant; changes nothing until a moderator approves."""

    id: int
    guild_id: int
    question: str
    entry_id: str
    source: str
    created_at: float
    status: str
    member_id: int | None = None  # who suggested it (None: recorded before members were kept)


# --- the protocols ---------------------------------------------------------------------------------------


@runtime_checkable
class FaqStore(Protocol):
    async def load_all(self) -> list[Problem]:
        """Read every server into memory (at start). Problems are logged and returned, never raised."""

    def scope_for(self, guild_id: int | None) -> Scope | None:
        """What the engine answers with in this server (None in DMs or for a server with nothing)."""

    def state(self, guild_id: int) -> GuildState:
        """The server's content as last loaded or saved by this process."""

    async def apply(self, guild_id: int, operation: Operation) -> Change:
        """Run one change: validated, atomic, one writer per server across processes.

        Raises `ChangeRefused`, `Conflict` or `SaveFailed`; then nothing was stored."""

    async def reload(self, guild_id: int) -> list[Problem]:
        """Re-read one server, reporting what is wrong with what is stored."""

    async def export_yaml(self, guild_id: int) -> tuple[str, int]:
        """The server's live entries as a curated-style YAML file, and how many there are."""

    async def history(self, guild_id: int, entry_id: str, limit: int = 20) -> list[Revision]:
        """Saved versions of one of the server's entries, newest first."""

    async def refresh(self, guild_id: int) -> None:
        """Re-read one server into memory when another process changed it (cheap when nothing did)."""

    async def guild_ids(self) -> list[int]:
        """Every server that ever saved something of its own (entries, hidden ids, taught phrasings),
        ascending, read from storage. Nothing is ever deleted, so a server stays listed."""

    async def close(self) -> None: ...


@runtime_checkable
class RecordStore(Protocol):
    async def record_unanswered(self, guild_id: int | None, channel_id: int | None, question: str,
                                best_entry: str | None = None, score: float = 0.0) -> None: ...

    async def unanswered(self, guild_id: int | None, since: float = 0.0, limit: int = 5000) -> list[Unanswered]: ...

    async def record_feedback(self, guild_id: int | None, message_id: int, user_id: int, *, entry_id: str,
                              helpful: bool, question: str | None = None) -> bool:
        """One vote per member per answer; a second replaces the first. True if the vote is new."""

    async def feedback_counts(self, entry_id: str, guild_id: int | None = None) -> tuple[int, int]:
        """(helpful, not helpful) votes for an entry, in one server or everywhere."""

    async def audit(self, guild_id: int, actor_id: int, actor_name: str, action: str, *,
                    entry_id: str | None = None, detail: str | None = None) -> None: ...

    async def audit_log(self, guild_id: int, limit: int = 50) -> list[AuditRecord]:
        """Newest first."""

    async def record_decision(self, guild_id: int | None, channel_id: int | None, status: str,
                              entry_id: str | None, score: float) -> None:
        """One question the bot decided on (`status` is answer, clarify or none)."""

    async def decisions(self, guild_id: int | None, since: float) -> list[Decision]:
        """Oldest first."""

    async def votes(self, guild_id: int | None, since: float) -> list[Vote]:
        """Oldest first."""

    async def record_suggestion(self, guild_id: int, question: str, entry_id: str, source: str,
                                member_id: int | None = None) -> int:
        """Keep a pending suggestion (`source` is pick or reask) by `member_id`; returns its id."""

    async def suggested_since(self, member_id: int, since: float) -> int:
        """How many suggestions `member_id` made since `since` (Unix time), in every server."""

    async def suggestions(self, guild_id: int, status: str = "pending") -> list[Suggestion]:
        """Oldest first."""

    async def resolve_suggestion(self, guild_id: int, suggestion_id: int, status: str) -> bool:
        """Mark a pending suggestion approved or rejected; False if it is not pending in this server."""

    async def forget_questions(self, before: float) -> int:
        """Forget what members wrote before `before` (Unix time): unanswered questions and suggestions are
        deleted, the question kept with a vote is blanked (the vote stays). Returns how many rows changed."""

    async def close(self) -> None: ...
