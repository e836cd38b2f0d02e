"""Moderator entries per guild: one YAML file each, validated before every write, never half-written.

`GuildStore` is what `FileFaqStore` (file_backend.py) answers with (`scope_for(guild_id)`, a dictionary
lookup) and changes (`apply(guild_id, operation)`; `add`, `edit`, `remove`, ... are shorthands). A change runs in a
worker thread under an exclusive lock on the guild's file (shared with other processes): it re-reads
the file, applies the change, checks the result against the curated knowledge, writes it atomically
keeping rotating backups, and only then swaps the guild's in-memory scope. The changes themselves
and the checks before saving are in `bot.storage.operations`, shared with the PostgreSQL backend.

Every saved version of an entry is also appended to `<guild_id>.history.jsonl` beside the file (one
entry as JSON per line), for `history()`. Entries are never deleted: removing one sets
`retired: true`, so nothing a moderator does loses text.
"""

import asyncio
import logging
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bot.engine.knowledge import KnowledgeBase, ParsedFile
from bot.engine.schema import Entry
from bot.engine.yamlsafe import Problem, YamlRefused, read_limited
from bot.storage import file_history
from bot.storage.atomic import WriteFailed, backup_paths, file_lock, remove_stale_temps, write_atomic
from bot.storage.base import (
    EMPTY,
    Actor,
    Change,
    ChangeRefused,
    GuildState,
    HeldStates,
    Operation,
    Revision,
    SaveFailed,
    StorageError,
    StoreError,
    newest_first,
)
from bot.storage.guild_file import EXPORT_HEADER, GuildFile, export_file, parse_guild_text, to_yaml
from bot.storage.operations import (
    add_entry_op,
    cross_problems,
    edit_entry_op,
    hide_entry,
    remove_entry,
    restore_entry,
    run_checked,
    train,
    unhide_entry,
    unique_id,
    untrain,
)

# Kept importable from here: the cogs and older tests import them from this module.
__all__ = ["EMPTY", "Actor", "Change", "ChangeRefused", "GuildState", "GuildStore", "Operation", "SaveFailed",
           "StoreError", "add_entry_op", "edit_entry_op", "hide_entry", "read_guild", "remove_entry", "restore_entry",
           "unhide_entry", "unique_id"]

log = logging.getLogger(__name__)

GUILDS_DIR = "guilds"
DEFAULT_BACKUPS = 3


def read_guild(path: Path, backups: int = DEFAULT_BACKUPS) -> tuple[ParsedFile | None, list[Problem]]:
    """A guild's file, or its newest valid backup; None if neither exists or is valid."""
    problems: list[Problem] = []
    for candidate in (path, *backup_paths(path, backups)):
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


class GuildStore(HeldStates):
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
        return read_guild(self.path(guild_id), self.backups)

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
        for problem in cross_problems(parsed, self.base):
            log.warning("guild %s: %s (fix it with /faq edit or /faq remove)", guild_id, problem)
        self._states[int(guild_id)] = GuildState.of(parsed.content, parsed.name)
        return problems

    def guild_ids(self) -> list[int]:
        """Every guild with a file here (`<guild id>.yaml`), ascending; raises `StorageError` if unreadable."""
        try:
            names = [p.name for p in self.directory.glob("*.yaml")] if self.directory.is_dir() else []
        except OSError as exc:
            raise StorageError(f"cannot list the servers' files ({exc.strerror or exc})") from None
        return sorted(int(stem) for name in names if (stem := name.removesuffix(".yaml")).isdigit())

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

        Raises `ChangeRefused` (invalid change), `Conflict` (edited since opened) or `SaveFailed` (disk
        trouble); either way the file on disk and the guild's scope stay as they were.
        """
        path = self.path(guild_id)
        try:
            with file_lock(self._lock_path(guild_id)):
                remove_stale_temps(self.directory, path.name)
                current, _ = self._read(guild_id)
                content = current.content if current else GuildFile()
                now = datetime.now(UTC).replace(microsecond=0)
                state, change, text = run_checked(str(path), operation, content, self.base, now)
                if path.exists() and (current is None or current.name != str(path)):
                    self._keep_broken_copy(path)
                write_atomic(path, text.encode(), backups=self.backups)
                self._append_history(guild_id, content, state.content)
        except WriteFailed as exc:
            raise SaveFailed(f"{exc}. Nothing was changed.") from None
        self._states[int(guild_id)] = state
        return change

    def _append_history(self, guild_id: int, before: GuildFile, after: GuildFile) -> None:
        """Keep the entries this change saved; the change is made, so a failure here only logs."""
        previous = {entry.id: entry for entry in before.entries}
        saved = [entry for entry in after.entries if previous.get(entry.id) != entry]
        try:
            file_history.append(self.history_path(guild_id), saved)
        except OSError as exc:
            log.warning("guild %s: saved, but its history could not be written (%s)", guild_id, exc.strerror or exc)

    def history_path(self, guild_id: int) -> Path:
        return self.directory / f"{int(guild_id)}{file_history.SUFFIX}"

    def history(self, guild_id: int, entry_id: str, limit: int = 20) -> list[Revision]:
        """Saved versions of one of the guild's entries, newest first (the current one always leads)."""
        versions = file_history.versions(self.history_path(guild_id), entry_id)
        parsed, _ = self._read(guild_id)  # from disk: another process may have saved since this one loaded
        current = next((e for e in parsed.content.entries if e.id == entry_id), None) if parsed else None
        return newest_first(versions, current, limit)

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

    async def add(self, guild_id: int, entry: Entry, actor: Actor) -> Change:
        return await self.apply(guild_id, add_entry_op(entry, actor))

    async def edit(self, guild_id: int, entry_id: str, entry: Entry, actor: Actor,
                   expected_revision: str | None = None) -> Change:
        return await self.apply(guild_id, edit_entry_op(entry_id, entry, actor, expected_revision))

    async def remove(self, guild_id: int, entry_id: str, actor: Actor) -> Change:
        return await self.apply(guild_id, remove_entry(entry_id, actor))

    async def restore(self, guild_id: int, entry_id: str, actor: Actor) -> Change:
        return await self.apply(guild_id, restore_entry(entry_id, actor))

    async def hide(self, guild_id: int, entry_id: str) -> Change:
        return await self.apply(guild_id, hide_entry(entry_id))

    async def unhide(self, guild_id: int, entry_id: str) -> Change:
        return await self.apply(guild_id, unhide_entry(entry_id))

    async def train(self, guild_id: int, entry_id: str, phrasings: list[str], actor: Actor) -> Change:
        return await self.apply(guild_id, train(entry_id, phrasings, actor))

    async def untrain(self, guild_id: int, entry_id: str, phrasings: list[str], actor: Actor) -> Change:
        return await self.apply(guild_id, untrain(entry_id, phrasings, actor))
