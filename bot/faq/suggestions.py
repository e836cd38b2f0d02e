"""Learning from members, with a moderator in the loop (no Discord types here).

Members show the bot what they meant: they press "Not what I asked" (or 👎) and pick another entry, pick one
from a "did you mean", or ask again right after and get an answer. `SuggestionWatch` remembers each
member's last reply per channel (bounded, for a few minutes) and turns such a pair into a `Candidate`:
(the member's earlier question → the entry they found). `MemberSuggestions.keep` stores it as a pending
suggestion unless the entry already answers that question directly, the member already suggested it, or
the member is over their hourly cap.

Nothing a member does changes answers: a suggestion only waits. `SuggestionBoard` is what moderators see
(`/faq suggestions`): pending suggestions grouped by entry and phrasing, with how many members suggested
each; approving one teaches exactly that phrasing (the store's `train`, audited), dismissing it resolves
it as rejected.

Each suggestion keeps who made it, so "members" counts different members, across restarts too, and the
per-member hourly cap is checked against storage as well as in memory, so it holds across restarts and
shards; the once-per-phrasing check (`SuggestionWatch.admit`) lives in this process's memory.
"""

import json
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from typing import Literal

from bot.engine.cooldowns import FloodLimit
from bot.engine.engine import Engine, GuildKnowledge
from bot.engine.normalize import normalize
from bot.faq.service import Outcome, refused
from bot.storage.base import Actor, FaqStore, RecordStore, StorageError, Suggestion
from bot.storage.operations import train
from bot.workers import Workers

REASK_WINDOW = 300.0  # seconds after a reply in which a pick or a new question still refers to it
MEMBER_CAP, CAP_WINDOW = 5, 3600.0  # suggestions one member can record per window, in all servers
MEMORY_CAPACITY = 10_000  # members (per server and channel) remembered at once
PAGE_SIZE = 4  # phrasings a page: two buttons each, one row each, and a row for Previous/Next

Source = Literal["pick", "reask"]
Key = tuple[int, int, int]  # guild, channel, member


@dataclass(frozen=True)
class Candidate:
    """A member's question and the entry they found after it; not stored yet."""

    guild_id: int
    member_id: int
    question: str
    entry_id: str
    source: Source


@dataclass(frozen=True)
class LastReply:
    question: str
    status: str  # answer, clarify or none
    entry_id: str | None
    at: float
    rejected: bool = False  # the member pressed 👎 or "Not what I asked" on this answer

    @property
    def unsatisfied(self) -> bool:
        return self.status != "answer" or self.rejected

    def better(self, entry_id: str) -> bool:
        """Whether finding `entry_id` improves on this reply: anything after none / did-you-mean, another
        entry after a rejected answer."""
        return self.unsatisfied and not (self.status == "answer" and entry_id == self.entry_id)


class SuggestionWatch:
    """What each member was last replied, per (guild, channel), kept `window` seconds in bounded memory."""

    def __init__(self, *, window: float = REASK_WINDOW, per_member: int = MEMBER_CAP,
                 cap_window: float = CAP_WINDOW, capacity: int = MEMORY_CAPACITY,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self.per_member, self.cap_window = per_member, cap_window
        self.capacity = capacity
        self.clock = clock
        self._last: OrderedDict[Key, LastReply] = OrderedDict()
        self._suggested: OrderedDict[Hashable, None] = OrderedDict()
        self._cap = FloodLimit(per_member, cap_window, capacity, clock)

    def _recent(self, key: Key) -> LastReply | None:
        last = self._last.get(key)
        return last if last is not None and self.clock() - last.at < self.window else None

    def _remember(self, key: Key, last: LastReply) -> None:
        self._last.pop(key, None)
        self._last[key] = last
        while len(self._last) > self.capacity:
            self._last.popitem(last=False)

    def replied(self, key: Key, question: str, status: str, entry_id: str | None) -> Candidate | None:
        """The bot replied to this member's question; a candidate when it answers what an unsatisfying reply
        just before did not."""
        earlier = self._recent(key)
        self._remember(key, LastReply(question, status, entry_id, self.clock()))
        if earlier is None or status != "answer" or entry_id is None or not earlier.better(entry_id):
            return None
        return Candidate(key[0], key[2], earlier.question, entry_id, "reask")

    def rejected(self, key: Key, entry_id: str) -> None:
        """The member said the answer about `entry_id` was not what they asked (only their own last answer)."""
        earlier = self._recent(key)
        if earlier is not None and earlier.status == "answer" and earlier.entry_id == entry_id:
            self._remember(key, replace(earlier, rejected=True, at=self.clock()))

    def picked(self, key: Key, entry_id: str) -> Candidate | None:
        """The member picked `entry_id` from a "did you mean"; a candidate when it improves on their last reply."""
        earlier = self._recent(key)
        if earlier is None or not earlier.better(entry_id):
            return None
        self._remember(key, LastReply(earlier.question, "answer", entry_id, self.clock()))
        return Candidate(key[0], key[2], earlier.question, entry_id, "pick")

    def admit(self, candidate: Candidate) -> bool:
        """Whether to store it: once per member, phrasing and entry, and at most the cap per member per window."""
        seen = (candidate.guild_id, candidate.member_id, normalize(candidate.question), candidate.entry_id)
        if seen in self._suggested or not self._cap.allow(candidate.member_id):
            return False
        self._suggested[seen] = None
        while len(self._suggested) > self.capacity:
            self._suggested.popitem(last=False)
        return True


class MemberSuggestions:
    """Stores members' candidates as pending suggestions, after the checks that need the engine."""

    def __init__(self, records: RecordStore, workers: Workers, watch: SuggestionWatch | None = None) -> None:
        self.records = records
        self.workers = workers
        self.watch = watch or SuggestionWatch()

    async def keep(self, candidate: Candidate | None, knowledge: GuildKnowledge) -> int | None:
        """The stored suggestion's id, or None when it is not worth a moderator's time (or not saved)."""
        if candidate is None or not normalize(candidate.question) or knowledge.entry(candidate.entry_id) is None:
            return None
        reply = await self.workers.match(knowledge.ask, candidate.question)
        if reply.result.status == "answer" and reply.result.entry == candidate.entry_id:
            return None  # the entry already answers it directly: nothing to teach
        if not self.watch.admit(candidate) or not await self._under_stored_cap(candidate.member_id):
            return None
        return await self.workers.record(f"a suggestion in guild {candidate.guild_id}", self.records.record_suggestion,
                                         candidate.guild_id, candidate.question, candidate.entry_id, candidate.source,
                                         candidate.member_id)


    async def _under_stored_cap(self, member_id: int) -> bool:
        """The hourly cap as storage counts it: it holds across restarts and across processes (shards)."""
        since = time.time() - self.watch.cap_window
        made = await self.workers.record(f"a suggestion of member {member_id} (counting their last hour's)",
                                         self.records.suggested_since, member_id, since)
        return made is not None and made < self.watch.per_member


# --- what moderators see ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    """One phrasing suggested for one entry: every pending suggestion of it, oldest first."""

    entry_id: str
    title: str
    question: str  # as first asked
    ids: tuple[int, ...]
    sources: tuple[str, ...]
    members: int  # different members who suggested it (rows recorded without a member count one each)

    @property
    def id(self) -> int:
        """The id its buttons carry: the oldest suggestion's."""
        return self.ids[0]


@dataclass(frozen=True)
class SuggestionPage:
    number: int  # 0-based
    count: int
    total: int  # proposals in all
    proposals: tuple[Proposal, ...]  # grouped by entry: an entry's proposals follow each other


def proposals_of(suggestions: list[Suggestion], title: Callable[[str], str]) -> list[Proposal]:
    """Pending suggestions as proposals: entries most suggested first, then within an entry its phrasings
    most suggested first (ties: oldest first)."""
    grouped: dict[tuple[str, str], list[Suggestion]] = {}
    for suggestion in suggestions:
        grouped.setdefault((suggestion.entry_id, normalize(suggestion.question)), []).append(suggestion)
    proposals = [Proposal(entry_id, title(entry_id), rows[0].question, tuple(s.id for s in rows),
                          tuple(sorted({s.source for s in rows})), _members(rows))
                 for (entry_id, _), rows in grouped.items()]
    per_entry: dict[str, int] = {}
    for proposal in proposals:
        per_entry[proposal.entry_id] = per_entry.get(proposal.entry_id, 0) + proposal.members
    return sorted(proposals, key=lambda p: (-per_entry[p.entry_id], p.entry_id, -p.members, p.id))


def _members(rows: list[Suggestion]) -> int:
    return len({s.member_id if s.member_id is not None else ("row", s.id) for s in rows})


class SuggestionBoard:
    """`/faq suggestions`: list, approve, dismiss. Approving is the store's `train`, so it is validated,
    audited and refused like any taught phrasing."""

    def __init__(self, engine: Callable[[], Engine], faq: FaqStore, records: RecordStore, workers: Workers) -> None:
        self._engine = engine
        self.faq = faq
        self.records = records
        self.workers = workers

    def title(self, guild_id: int, entry_id: str) -> str:
        entry = self.faq.state(guild_id).entries.get(entry_id) or self._engine().kb.entries.get(entry_id)
        return entry.title if entry is not None else "(no longer in the knowledge)"

    async def proposals(self, guild_id: int) -> list[Proposal]:
        pending = await self.records.suggestions(guild_id, "pending")
        return proposals_of(pending, lambda entry_id: self.title(guild_id, entry_id))

    async def page(self, guild_id: int, number: int = 0) -> SuggestionPage | Outcome:
        try:
            proposals = await self.proposals(guild_id)
        except StorageError as error:
            return Outcome(f"Could not read the suggestions: {error}", ok=False)
        count = max(1, -(-len(proposals) // PAGE_SIZE))
        number = min(max(number, 0), count - 1)
        return SuggestionPage(number, count, len(proposals),
                              tuple(proposals[number * PAGE_SIZE:(number + 1) * PAGE_SIZE]))

    async def _proposal(self, guild_id: int, suggestion_id: int) -> Proposal | Outcome:
        try:
            proposals = await self.proposals(guild_id)
        except StorageError as error:
            return Outcome(f"Could not read the suggestions: {error}", ok=False)
        found = next((p for p in proposals if suggestion_id in p.ids), None)
        return found or Outcome("That suggestion was already approved or dismissed.", ok=False)

    async def approve(self, guild_id: int, actor: Actor, suggestion_id: int) -> Outcome:
        """Teach the proposal's phrasing to its entry; every pending suggestion of it is then approved."""
        proposal = await self._proposal(guild_id, suggestion_id)
        if isinstance(proposal, Outcome):
            return proposal
        try:
            change = await self.faq.apply(guild_id, train(proposal.entry_id, [proposal.question], actor))
        except StorageError as error:
            return refused(error)
        self._audit(guild_id, actor, change.action, proposal)
        await self._resolve(guild_id, proposal, "approved")
        return Outcome(f"Taught it to `{proposal.entry_id}`: members asking it get that answer now.")

    async def dismiss(self, guild_id: int, actor: Actor, suggestion_id: int) -> Outcome:
        proposal = await self._proposal(guild_id, suggestion_id)
        if isinstance(proposal, Outcome):
            return proposal
        await self._resolve(guild_id, proposal, "rejected")
        self._audit(guild_id, actor, "dismiss", proposal)
        return Outcome(f"Dismissed a suggestion for `{proposal.entry_id}`; nothing was taught.")

    async def _resolve(self, guild_id: int, proposal: Proposal, status: str) -> None:
        for suggestion_id in proposal.ids:
            await self.workers.record(f"suggestion {suggestion_id} as {status}", self.records.resolve_suggestion,
                                      guild_id, suggestion_id, status)

    def _audit(self, guild_id: int, actor: Actor, action: str, proposal: Proposal) -> None:
        detail = json.dumps({"phrasing": proposal.question, "suggestions": list(proposal.ids)}, ensure_ascii=False)
        self.workers.record_soon(f"the audit record of {action} {proposal.entry_id!r} in guild {guild_id}",
                                 self.records.audit, guild_id, actor.id, actor.name, action,
                                 entry_id=proposal.entry_id, detail=detail)
