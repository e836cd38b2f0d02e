"""Moderator entries per guild: one YAML file each, validated before every write, never half-written.

`GuildStore` is what the bot answers with (`scope_for(guild_id)`, a dictionary lookup) and what the
moderation cog changes (`add`, `edit`, `remove`, `restore`, `hide`, `unhide`). A change runs in a
worker thread under an exclusive lock on the guild's file (shared with other processes): it re-reads
the file, applies the change, checks the result against the curated knowledge, writes it atomically
keeping rotating backups, and only then swaps the guild's in-memory scope.

Entries are never deleted: removing one sets `retired: true`, so nothing a moderator does loses text.
"""

import asyncio
import logging
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

from bot.engine.engine import Scope
from bot.engine.knowledge import KnowledgeBase, ParsedFile, assemble
from bot.engine.schema import Entry, MythEntry, Stewardship, slugify
from bot.engine.yamlsafe import Problem, YamlRefused, read_limited
from bot.storage.atomic import WriteFailed, backup_paths, file_lock, remove_stale_temps, write_atomic
from bot.storage.drafts import Draft, DraftError, build_entry
from bot.storage.guild_file import (
    EXPORT_HEADER,
    GUILD_HEADER,
    GuildFile,
    export_file,
    parse_guild_text,
    to_yaml,
    with_entry,
    with_hidden,
)

log = logging.getLogger(__name__)

GUILDS_DIR = "guilds"
DEFAULT_BACKUPS = 3


class StoreError(Exception):
    """A change that did not happen; `str()` is a message for the moderator."""


class ChangeRefused(StoreError):
    """The change is invalid (bad field, unknown id, collides with curated knowledge); nothing was written."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class SaveFailed(StoreError):
    """The file could not be written (read-only or full disk, ...); the previous file is untouched."""


@dataclass(frozen=True)
class Actor:
    """Who made a change: a Discord user id and the name shown at the time."""

    id: int
    name: str

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"


@dataclass(frozen=True)
class Change:
    """What a change did: `action` is add, edit, retire, restore, hide or unhide."""

    action: str
    entry_id: str
    entry: Entry | None = None


@dataclass(frozen=True)
class GuildState:
    """One guild's file as loaded, and the scope the engine answers that guild with."""

    content: GuildFile
    scope: Scope
    origin: str

    @classmethod
    def of(cls, content: GuildFile, origin: str) -> "GuildState":
        entries = {entry.id: entry for entry in content.entries}
        return cls(content, Scope.of(entries, frozenset(content.hidden)), origin)

    @property
    def entries(self) -> MappingProxyType:
        return self.scope.entries

    @property
    def hidden(self) -> frozenset[str]:
        return self.scope.hidden


EMPTY = GuildState.of(GuildFile(), "")

# An operation turns the current file into the next one; pure, so it can run under the lock.
Operation = Callable[[GuildFile, KnowledgeBase, datetime], tuple[GuildFile, Change]]


def unique_id(title: str, taken: set[str]) -> str:
    """`slugify(title)`, with -2, -3, ... appended while the id is taken."""
    base = slugify(title)
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        suffix = f"-{number}"
        candidate = base[: 64 - len(suffix)].rstrip("-") + suffix
    return candidate


def _own(content: GuildFile, entry_id: str) -> Entry | None:
    return next((entry for entry in content.entries if entry.id == entry_id), None)


def _not_found(entry_id: str) -> ChangeRefused:
    return ChangeRefused([f"no entry with id {entry_id!r} (pick one from the suggestions)"])


def _touched(entry: Entry, actor: Actor, now: datetime, **update: object) -> Entry:
    steward = entry.stewardship or Stewardship()
    stewardship = steward.model_copy(update={"updated_by": str(actor), "updated_at": now})
    return entry.model_copy(update={**update, "stewardship": stewardship})


def add_entry(draft: Draft, actor: Actor) -> Operation:
    def apply(content: GuildFile, base: KnowledgeBase, now: datetime) -> tuple[GuildFile, Change]:
        entry_id = unique_id(draft.title, set(base.entries) | {e.id for e in content.entries})
        stewardship = Stewardship(created_by=str(actor), created_at=now)
        entry = build_entry(draft, entry_id=entry_id, stewardship=stewardship, known_sources=base.sources)
        return with_entry(content, entry), Change("add", entry_id, entry)

    return apply


def edit_entry(entry_id: str, draft: Draft, actor: Actor) -> Operation:
    def apply(content: GuildFile, base: KnowledgeBase, now: datetime) -> tuple[GuildFile, Change]:
        previous = _own(content, entry_id)
        if previous is None and entry_id in base.entries:
            raise ChangeRefused([f"{entry_id!r} is a curated entry: it is read-only from Discord. Hide it here "
                                 "with /faq hide and add your own version, or propose a change to knowledge/."])
        if previous is None:
            raise _not_found(entry_id)
        if not isinstance(previous, MythEntry):
            raise ChangeRefused([f"{entry_id!r} is an exercise; exercises are edited in the YAML file"])
        steward = previous.stewardship or Stewardship()
        stewardship = steward.model_copy(update={"updated_by": str(actor), "updated_at": now})
        entry = build_entry(draft, entry_id=entry_id, stewardship=stewardship, previous=previous,
                            known_sources=base.sources)
        return with_entry(content, entry), Change("edit", entry_id, entry)

    return apply


def hide_entry(entry_id: str) -> Operation:
    def apply(content: GuildFile, base: KnowledgeBase, now: datetime) -> tuple[GuildFile, Change]:
        if _own(content, entry_id) is not None:
            raise ChangeRefused([f"{entry_id!r} is this server's own entry; retire it with /faq remove"])
        if entry_id not in base.entries:
            raise _not_found(entry_id)
        if entry_id in content.hidden:
            raise ChangeRefused([f"{entry_id!r} is already hidden in this server"])
        return with_hidden(content, [*content.hidden, entry_id]), Change("hide", entry_id)

    return apply


def unhide_entry(entry_id: str) -> Operation:
    def apply(content: GuildFile, base: KnowledgeBase, now: datetime) -> tuple[GuildFile, Change]:
        if entry_id not in content.hidden and entry_id not in base.entries:
            raise _not_found(entry_id)
        if entry_id not in content.hidden:
            raise ChangeRefused([f"{entry_id!r} is not hidden in this server"])
        return with_hidden(content, set(content.hidden) - {entry_id}), Change("unhide", entry_id)

    return apply


def remove_entry(entry_id: str, actor: Actor) -> Operation:
    """Retire one of the guild's entries, or hide a curated one in this guild."""

    def apply(content: GuildFile, base: KnowledgeBase, now: datetime) -> tuple[GuildFile, Change]:
        entry = _own(content, entry_id)
        if entry is None:
            return hide_entry(entry_id)(content, base, now)
        if entry.retired:
            raise ChangeRefused([f"{entry_id!r} is already retired; /faq restore brings it back"])
        retired = _touched(entry, actor, now, retired=True)
        return with_entry(content, retired), Change("retire", entry_id, retired)

    return apply


def restore_entry(entry_id: str, actor: Actor) -> Operation:
    """Bring back a retired entry of the guild's, or show a curated entry the guild had hidden."""

    def apply(content: GuildFile, base: KnowledgeBase, now: datetime) -> tuple[GuildFile, Change]:
        entry = _own(content, entry_id)
        if entry is None:
            return unhide_entry(entry_id)(content, base, now)
        if not entry.retired:
            raise ChangeRefused([f"{entry_id!r} is not retired"])
        restored = _touched(entry, actor, now, retired=False)
        return with_entry(content, restored), Change("restore", entry_id, restored)

    return apply


_FIRST_AT = re.compile(r" \(first at [^)]*\)")


def _problem_key(problem: Problem) -> str:
    return _FIRST_AT.sub("", problem.message)


class GuildStore:
    """Per-guild entries under `<data_dir>/guilds/<guild_id>.yaml`, checked against the curated base.

    `base` is the curated knowledge, or a callable returning the current one (so a reload of the
    curated files is seen by the next change without telling the store).
    """

    def __init__(self, data_dir: Path | str, base: KnowledgeBase | Callable[[], KnowledgeBase], *,
                 backups: int = DEFAULT_BACKUPS) -> None:
        self.directory = Path(data_dir) / GUILDS_DIR
        self._base = base if callable(base) else (lambda: base)
        self.backups = backups
        self._states: dict[int, GuildState] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    @property
    def base(self) -> KnowledgeBase:
        return self._base()

    def path(self, guild_id: int) -> Path:
        return self.directory / f"{int(guild_id)}.yaml"

    def _lock_path(self, guild_id: int) -> Path:
        return self.directory / f"{int(guild_id)}.yaml.lock"

    # --- reading ---------------------------------------------------------------------------------

    def _read(self, guild_id: int) -> tuple[ParsedFile | None, list[Problem]]:
        """The guild's file, or its newest valid backup; None if neither exists or is valid."""
        problems: list[Problem] = []
        for candidate in (self.path(guild_id), *backup_paths(self.path(guild_id), self.backups)):
            try:
                raw = read_limited(candidate)
            except FileNotFoundError:
                continue
            except YamlRefused as refusal:
                problems.append(Problem(str(candidate), refusal.line, refusal.message))
                continue
            except OSError as exc:
                problems.append(Problem(str(candidate), 1, f"cannot read file: {exc.strerror or exc}"))
                continue
            parsed = parse_guild_text(raw, str(candidate))
            if not parsed.problems:
                return parsed, problems
            problems.extend(parsed.problems)
        return None, problems

    def load(self, guild_id: int) -> list[Problem]:
        """(Re)read one guild's file, falling back to a backup when it is broken. Never raises."""
        parsed, problems = self._read(guild_id)
        for problem in problems:
            log.error("%s", problem)
        if parsed is None:
            if problems:
                log.error("guild %s: no valid file or backup; it has no entries of its own for now", guild_id)
            self._states.pop(int(guild_id), None)
            return problems
        if parsed.name != str(self.path(guild_id)):
            log.warning("guild %s: %s is missing or broken; answering from the backup %s until the next change",
                        guild_id, self.path(guild_id), parsed.name)
        for problem in self._cross_problems(parsed):
            log.warning("guild %s: %s (fix it with /faq edit or /faq remove)", guild_id, problem)
        self._states[int(guild_id)] = GuildState.of(parsed.content, parsed.name)
        return problems

    def load_all(self) -> list[Problem]:
        """Read every guild file in the data dir (at start, before the bot connects). Never raises."""
        problems: list[Problem] = []
        try:
            names = sorted(p.name for p in self.directory.glob("*.yaml")) if self.directory.is_dir() else []
        except OSError as exc:
            log.error("cannot list %s: %s", self.directory, exc.strerror or exc)
            return [Problem(str(self.directory), 1, f"cannot list directory: {exc.strerror or exc}")]
        for name in names:
            stem = name.removesuffix(".yaml")
            if not stem.isdigit():
                log.warning("ignoring %s: guild files are named <guild id>.yaml", self.directory / name)
                continue
            try:
                problems += self.load(int(stem))
            except Exception:  # one guild's file must never stop the bot from starting
                log.exception("could not load %s; that guild has no entries of its own for now", self.directory / name)
        log.info("loaded moderator entries for %d guild(s) from %s", len(self._states), self.directory)
        return problems

    async def reload(self, guild_id: int) -> list[Problem]:
        async with self._lock(guild_id):
            return await asyncio.to_thread(self.load, guild_id)

    # --- serving ---------------------------------------------------------------------------------

    def scope_for(self, guild_id: int | None) -> Scope | None:
        """What the engine answers in this guild with: its entries and hidden ids (None in DMs)."""
        if guild_id is None:
            return None
        state = self._states.get(int(guild_id))
        return state.scope if state else None

    def state(self, guild_id: int) -> GuildState:
        return self._states.get(int(guild_id), EMPTY)

    def entry(self, guild_id: int, entry_id: str) -> Entry | None:
        """The guild's own entry with this id (retired ones included), else None."""
        return self.state(guild_id).entries.get(entry_id)

    def export_yaml(self, guild_id: int) -> tuple[str, int]:
        """The guild's live entries as a curated-style YAML file, and how many there are."""
        exported = export_file(self.state(guild_id).content)
        return to_yaml(exported, EXPORT_HEADER), len(exported.myths) + len(exported.exercises)

    # --- changing --------------------------------------------------------------------------------

    def _lock(self, guild_id: int) -> asyncio.Lock:
        return self._locks.setdefault(int(guild_id), asyncio.Lock())

    async def apply(self, guild_id: int, operation: Operation) -> Change:
        """Run `operation` in a worker thread; one change per guild at a time in this process."""
        async with self._lock(guild_id):
            return await asyncio.to_thread(self.apply_now, guild_id, operation)

    def apply_now(self, guild_id: int, operation: Operation) -> Change:
        """Apply a change synchronously, under the guild's cross-process file lock.

        Raises `ChangeRefused` (invalid change) or `SaveFailed` (disk trouble); either way the file
        on disk and the guild's scope stay as they were.
        """
        path = self.path(guild_id)
        try:
            with file_lock(self._lock_path(guild_id)):
                remove_stale_temps(self.directory, path.name)
                current, _ = self._read(guild_id)
                content = current.content if current else GuildFile()
                try:
                    updated, change = operation(content, self.base, datetime.now(UTC).replace(microsecond=0))
                except DraftError as exc:
                    raise ChangeRefused([f"{label}: {message}" for label, message in exc.problems]) from None
                text = to_yaml(updated, GUILD_HEADER)
                state = self._checked(guild_id, text, updated, content)
                if path.exists() and (current is None or current.name != str(path)):
                    self._keep_broken_copy(path)
                write_atomic(path, text.encode(), backups=self.backups)
        except WriteFailed as exc:
            raise SaveFailed(f"{exc}. Nothing was changed.") from None
        self._states[int(guild_id)] = state
        return change

    def _checked(self, guild_id: int, text: str, updated: GuildFile, current: GuildFile) -> GuildState:
        """The state `text` loads as, or `ChangeRefused` listing what the change would break."""
        name = str(self.path(guild_id))
        parsed = parse_guild_text(text, name)
        if parsed.problems:
            raise ChangeRefused([problem.message for problem in parsed.problems])
        if parsed.content != updated:
            raise SaveFailed("the file would not read back as written; nothing was changed")
        problems = self._cross_problems(parsed)
        if problems:
            before = {_problem_key(p) for p in self._cross_problems(ParsedFile(name, current, None, ()))}
            fresh = [p.message for p in problems if _problem_key(p) not in before]
            if fresh:
                raise ChangeRefused(fresh)
        return GuildState.of(parsed.content, name)

    def _cross_problems(self, parsed: ParsedFile) -> list[Problem]:
        """Collisions with curated ids and phrasings, unknown related or source ids.

        Hidden curated entries do not own their phrasings here, so a guild can hide one and write its
        own version; their ids stay taken.
        """
        base = self.base
        content = parsed.content
        hidden = set(content.hidden)
        visible = KnowledgeBase(
            entries=MappingProxyType({k: v for k, v in base.entries.items() if k not in hidden}),
            sources=base.sources,
            origins=MappingProxyType({k: v for k, v in base.origins.items() if k not in hidden}),
        )
        taken = [Problem(parsed.name, parsed.origin(section, i, "id").line, f"id {entry.id!r} is taken by a "
                         "curated entry (hidden here, but ids stay unique)")
                 for section in ("myths", "exercises") for i, entry in enumerate(getattr(content, section))
                 if entry.id in hidden and entry.id in base.entries]
        _, found = assemble([parsed], base=visible)
        return taken + found

    @staticmethod
    def _keep_broken_copy(path: Path) -> None:
        """A broken main file is about to be replaced: keep it aside for a person to look at."""
        if not path.is_file():  # a link to a device or pipe: copying it would never end
            log.warning("replacing %s, which is not a regular file", path)
            return
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        target = path.with_name(f"{path.name}.broken-{stamp}")
        try:
            shutil.copy2(path, target)
            log.warning("kept the broken %s as %s", path, target)
        except OSError as exc:
            log.error("could not keep a copy of the broken %s: %s", path, exc.strerror or exc)

    # --- the changes moderators make ---------------------------------------------------------------

    async def add(self, guild_id: int, draft: Draft, actor: Actor) -> Change:
        return await self.apply(guild_id, add_entry(draft, actor))

    async def edit(self, guild_id: int, entry_id: str, draft: Draft, actor: Actor) -> Change:
        return await self.apply(guild_id, edit_entry(entry_id, draft, actor))

    async def remove(self, guild_id: int, entry_id: str, actor: Actor) -> Change:
        return await self.apply(guild_id, remove_entry(entry_id, actor))

    async def restore(self, guild_id: int, entry_id: str, actor: Actor) -> Change:
        return await self.apply(guild_id, restore_entry(entry_id, actor))

    async def hide(self, guild_id: int, entry_id: str) -> Change:
        return await self.apply(guild_id, hide_entry(entry_id))

    async def unhide(self, guild_id: int, entry_id: str) -> Change:
        return await self.apply(guild_id, unhide_entry(entry_id))
