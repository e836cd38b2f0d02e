"""Teaching the bot from what members asked, and undoing it, with no Discord types.

A group of `/faq gaps` (similar questions that got no answer) is answered with an existing entry by teaching
its questions as this server's extra phrasings of that entry (`bot.storage.operations.train`); the next member
asking any of them gets that entry at once. `/faq untrain` forgets them again (`untrain`).

Components that survive a restart cannot carry what members typed, so a group is named by a short key (a hash
of its leading question, normalised): the group is found again in the server's latest gaps report, kept by the
service, or in a new one after a restart. Taught phrasings are named the same way (`phrasing_key`).
"""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from bot.engine.engine import Engine, Scope
from bot.engine.gaps import Gap
from bot.engine.normalize import normalize
from bot.engine.schema import PHRASING_MAX, Entry
from bot.faq.service import FaqService, GapReport, Outcome, rank_choices, refused
from bot.storage.base import Actor, ChangeRefused, StorageError
from bot.storage.operations import run_checked, train, untrain

KEY_LENGTH = 12  # hex characters of a group's or a phrasing's key
CANDIDATES = 5  # entries offered for one group


def key_of(text: str) -> str:
    """A short name for a member's words that reveals nothing of them (for custom_ids and select values)."""
    return hashlib.sha256(normalize(text).encode()).hexdigest()[:KEY_LENGTH]


def group_key(gap: Gap) -> str:
    return key_of(gap.example)


def phrasing_key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:KEY_LENGTH]


def group_questions(gap: Gap) -> tuple[str, ...]:
    """What a group teaches: its leading question and the other wordings the report shows."""
    return (gap.example, *gap.wordings)


@dataclass(frozen=True)
class Candidate:
    """An entry likely to answer a group, as a select offers it."""

    entry_id: str
    title: str
    origin: Literal["closest", "curated", "server"]


def candidates(engine: Engine, scope: Scope | None, gap: Gap, limit: int = CANDIDATES) -> tuple[Candidate, ...]:
    """The entries a group is likely about, best first: the entry its questions came closest to when they were
    asked, then the best matches for its leading question now; only entries this server may be shown (which are
    the ones that can be taught). Matching runs here: call it in the report pool."""
    knowledge = engine.for_guild(scope)
    result = knowledge.ask(gap.example).result
    ids = [gap.closest_entry, result.entry, *(alt.entry for alt in result.alternatives)]
    found: list[Candidate] = []
    for entry_id, title in knowledge.titles(dict.fromkeys(ids)):
        if len(found) == limit:
            break
        own = scope is not None and entry_id in scope.entries
        origin: Literal["closest", "curated", "server"] = (
            "closest" if entry_id == gap.closest_entry else "server" if own else "curated")
        found.append(Candidate(entry_id, title, origin))
    return tuple(found)


@dataclass(frozen=True)
class Teachable:
    """A gaps report with, for its first groups, the entries to answer them with."""

    report: GapReport
    options: tuple[tuple[Candidate, ...], ...]  # one per group offered, in the report's order


class Teaching:
    """Teach and untrain for one bot, over its `FaqService`."""

    def __init__(self, service: FaqService) -> None:
        self.service = service

    # --- from gaps ---------------------------------------------------------------------------------------------

    async def teachable(self, guild_id: int, report: GapReport, groups: int) -> Teachable:
        """The candidates for the first `groups` groups of `report` (matched in the report pool)."""
        service = self.service
        shown = report.gaps[:groups]
        options = await service.workers.report(_all_candidates, service.engine, service.faq.scope_for(guild_id),
                                               shown)
        return Teachable(report, options)

    def cached_group(self, guild_id: int, days: int, key: str) -> Gap | None:
        """The group with this key in the server's latest report over `days`, if this process still has it."""
        report = self.service.latest_gaps(guild_id, days)
        return _find(report, key) if report is not None else None

    async def group(self, guild_id: int, days: int, key: str) -> Gap | Outcome:
        """The group with this key: from the latest report, else from a new one (after a restart)."""
        found = self.cached_group(guild_id, days, key)
        if found is not None:
            return found
        report = await self.service.gaps(guild_id, days)
        if isinstance(report, Outcome):
            return report
        return _find(report, key) or Outcome(
            "Those questions are no longer open (they get an answer now, or fell out of the report). "
            "Run `/faq gaps` again.", ok=False)

    async def teach(self, guild_id: int, actor: Actor, entry_id: str, questions: Iterable[str]) -> Outcome:
        """Teach `questions` as this server's phrasings of `entry_id`. Those another entry already has here are
        left out (and named); the rest are taught in one change, audited."""
        texts = [text for text in dict.fromkeys(" ".join(q.split()) for q in questions) if text]
        try:
            change = await self.service.faq.apply(guild_id, train(entry_id, texts, actor))
            skipped: list[str] = []
        except ChangeRefused as error:
            if len(texts) < 2:
                return refused(error)
            texts, skipped = self._teachable_alone(guild_id, entry_id, texts, actor)
            if not texts:
                return refused(error)
            try:
                change = await self.service.faq.apply(guild_id, train(entry_id, texts, actor))
            except StorageError as again:
                return refused(again)
        except StorageError as error:
            return refused(error)
        taught = list(change.phrasings)
        self._audit(guild_id, actor, "train", entry_id, taught)
        return Outcome(taught_text(entry_id, self._title(guild_id, entry_id), len(taught), skipped))

    def _teachable_alone(self, guild_id: int, entry_id: str, texts: list[str], actor: Actor
                         ) -> tuple[list[str], list[str]]:
        """Which of `texts` the store would accept one by one (the same checks, saving nothing)."""
        state, base, now = self.service.faq.state(guild_id), self.service.engine.kb, datetime.now(UTC)
        accepted, skipped = [], []
        for text in texts:
            try:
                run_checked(state.origin, train(entry_id, [text], actor), state.content, base, now)
                accepted.append(text)
            except StorageError:
                skipped.append(text)
        return accepted, skipped

    # --- undo ----------------------------------------------------------------------------------------------------

    def taught(self, guild_id: int, entry_id: str) -> tuple[str, ...]:
        return self.service.faq.state(guild_id).trained.get(entry_id, ())

    async def untrain(self, guild_id: int, actor: Actor, entry_id: str, keys: Iterable[str] | None) -> Outcome:
        """Forget the taught phrasings of `entry_id` named by `keys` (`phrasing_key`), or all of them (None)."""
        taught = self.taught(guild_id, entry_id)
        wanted = None if keys is None else set(keys)
        chosen = [text for text in taught if wanted is None or phrasing_key(text) in wanted]
        if not chosen:
            return Outcome(f"`{entry_id}` has no such taught phrasing here any more; nothing was changed.", ok=False)
        try:
            change = await self.service.faq.apply(guild_id, untrain(entry_id, chosen, actor))
        except StorageError as error:
            return refused(error)
        left = self.taught(guild_id, entry_id)
        forgotten = list(change.phrasings)
        self._audit(guild_id, actor, "untrain", entry_id, forgotten)
        remaining = f" {len(left)} taught phrasing{'s' if len(left) != 1 else ''} remain." if left else ""
        return Outcome(f"Forgot {len(forgotten)} taught phrasing{'s' if len(forgotten) != 1 else ''} of `{entry_id}`: "
                       f"members asking {'them' if len(forgotten) != 1 else 'it'} no longer get it that way."
                       f"{remaining}")

    def untrain_choices(self, guild_id: int, typed: str, limit: int = 25) -> list[tuple[str, str]]:
        """(id, title) of the entries with taught phrasings here, best first for what was typed."""
        trained = self.service.faq.state(guild_id).trained
        pairs = ((entry_id, self._title(guild_id, entry_id)) for entry_id, texts in trained.items() if texts)
        return rank_choices(pairs, typed)[:limit]

    # --- helpers -------------------------------------------------------------------------------------------------

    def _title(self, guild_id: int, entry_id: str) -> str:
        entry: Entry | None = (self.service.faq.state(guild_id).entries.get(entry_id)
                               or self.service.engine.kb.entries.get(entry_id))
        return entry.title if entry is not None else "(no longer in the curated knowledge)"

    def _audit(self, guild_id: int, actor: Actor, action: str, entry_id: str, phrasings: list[str]) -> None:
        """The audit line, with the phrasings (the change itself is saved: a lost line costs no reply)."""
        detail = json.dumps({"phrasings": phrasings})
        self.service.workers.record_soon(f"the audit record of {action} {entry_id!r} in guild {guild_id}",
                                         self.service.records.audit, guild_id, actor.id, actor.name, action,
                                         entry_id=entry_id, detail=detail)


def taught_text(entry_id: str, title: str, count: int, skipped: list[str]) -> str:
    text = (f"Taught {count} question{'s' if count != 1 else ''} as phrasings of `{entry_id}` ({title}): "
            f"members asking {'them' if count != 1 else 'it'} get that answer now. "
            f"`/faq untrain id:{entry_id}` undoes it.")
    if skipped:
        text += (f" Left out {len(skipped)} that cannot be taught for it: another entry has them here, it has them "
                 f"already, or they are over {PHRASING_MAX} characters.")
    return text


def _find(report: GapReport, key: str) -> Gap | None:
    return next((gap for gap in report.gaps if group_key(gap) == key), None)


def _all_candidates(engine: Engine, scope: Scope | None, gaps: tuple[Gap, ...]) -> tuple[tuple[Candidate, ...], ...]:
    return tuple(candidates(engine, scope, gap) for gap in gaps)
