"""What moderators do to a server's FAQ, with no Discord types: the actions behind `/faq`, over the storage
interfaces (`FaqStore`, `RecordStore`), returning plain results that a front end words or draws (the cog
in `bot/cogs/faq/`, or a command line).

Each rule lives once, in the store's operations (`bot.storage.operations`): a change is applied by the
store, and what a confirmation or an autocomplete needs to know beforehand ("would removing this retire
it or hide it?", "can this be edited?") is the same operation run on this process's copy of the server,
without saving (`dry_run`). The form's own limits (five fields, myths only) are the form's:
`bot.faq.drafts`.
"""

import asyncio
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, get_args

from bot.engine.engine import Engine, Scope
from bot.engine.gaps import Asked, Gap, group_gaps
from bot.engine.normalize import normalize
from bot.engine.render import EntryView
from bot.engine.schema import Entry, MythEntry
from bot.engine.yamlsafe import Problem
from bot.faq.drafts import Draft, DraftError, draft_of, entry_of, overflowing_fields
from bot.faq.stats import PNG_SIZE, entry_titles, server_stats
from bot.stats import as_text, render_png
from bot.storage.base import (
    Actor,
    Change,
    ChangeRefused,
    Conflict,
    FaqStore,
    Operation,
    RecordStore,
    Revision,
    StorageError,
    revision_of,
)
from bot.storage.operations import (
    add_entry_op,
    edit_entry_op,
    editable_entry,
    hide_entry,
    remove_entry,
    restore_entry,
    unhide_entry,
)
from bot.workers import Workers

PAGE_SIZE = 10
HISTORY_SHOWN = 5
GAP_LIMIT = 15
GAP_QUESTIONS = 1000  # the most recent unanswered questions a report reads
GAP_RECHECK = 300  # the most asked different ones among them it re-checks and groups
LATEST_GAPS_KEPT = 256  # the latest report per (server, days), for components on it to find their group again
NOBODY = Actor(0, "nobody")  # dry runs save nothing, so nobody makes them

Listing = Literal["all", "server", "curated", "retired", "hidden"]
Purpose = Literal["edit", "remove", "restore", "hide", "unhide", "show"]
LISTINGS: tuple[Listing, ...] = get_args(Listing)
# The operation each command applies, for asking first whether it would (autocomplete, confirmations).
DRY_RUNS: dict[str, Callable[[str], Operation]] = {
    "remove": lambda entry_id: remove_entry(entry_id, NOBODY),
    "restore": lambda entry_id: restore_entry(entry_id, NOBODY),
    "hide": hide_entry,
    "unhide": unhide_entry,
}


@dataclass(frozen=True)
class Outcome:
    """What to tell the moderator: text, and optionally an entry to show or a file to attach. After an edit
    that conflicted, `revision` is that of the version now stored, for a resubmitted form to carry."""

    text: str
    ok: bool = True
    entry_id: str | None = None
    file: tuple[str, bytes] | None = None
    revision: str | None = None


@dataclass(frozen=True)
class Row:
    id: str
    title: str
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Page:
    which: str
    number: int  # 0-based
    count: int
    total: int
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Prompt:
    """What `/faq remove` would do, found by a dry run: retire the server's entry, or hide a curated one."""

    action: Literal["retire", "hide"]
    entry_id: str
    title: str


@dataclass(frozen=True)
class EditForm:
    draft: Draft
    revision: str


@dataclass(frozen=True)
class Card:
    """One entry as moderators see it: the card, whose it is, and (for the server's own) its saved versions."""

    view: EntryView
    own: Entry | None
    hidden_here: bool
    history: tuple[Revision, ...] = ()
    taught: tuple[str, ...] = ()  # phrasings this server's moderators taught for it


@dataclass(frozen=True)
class GapReport:
    days: int
    gaps: tuple[Gap, ...]
    checked: int  # different questions re-checked ...
    different: int  # ... out of this many


DONE = {
    "add": "Added `{id}`. It answers in this server now.",
    "edit": "Saved `{id}`.",
    "retire": "Retired `{id}`: it no longer answers here. `/faq restore` brings it back.",
    "restore": "Restored `{id}`: it answers here again.",
    "hide": "Hid the curated entry `{id}` in this server. `/faq unhide` shows it again.",
    "unhide": "The curated entry `{id}` answers in this server again.",
}
CONFLICT = ("{error} Their version is below. **Fix and resubmit** reopens the form with what you typed; "
            "saving it then replaces their version.")


def as_listing(which: str) -> Listing | None:
    """`which` as one of the lists `/faq list` shows, or None (a custom_id from elsewhere)."""
    return next((listing for listing in LISTINGS if listing == which), None)


def refused(error: StorageError) -> Outcome:
    """A change that did not happen, and why."""
    if isinstance(error, ChangeRefused) and len(error.problems) > 1:
        lines = "\n".join(f"- {problem}" for problem in error.problems)
        return Outcome(f"Nothing was changed. Please fix:\n{lines}", ok=False)
    return Outcome(f"Nothing was changed: {error}", ok=False)


def cannot(error: ChangeRefused) -> Outcome:
    """Why a command would not act, found before trying (its operation, run without saving)."""
    return Outcome(f"Not possible: {error}", ok=False)


def rank_choices(options: Iterable[tuple[str, str]], typed: str) -> list[tuple[str, str]]:
    """(id, title) pairs best first for what was typed: id or title prefix, then substring, then all words;
    the rest are dropped."""
    query = " ".join(typed.casefold().split())
    scored = []
    for entry_id, title in options:
        folded = title.casefold()
        if not query:
            rank = 3
        elif entry_id.startswith(query.replace(" ", "-")) or folded.startswith(query):
            rank = 0
        elif query in folded or query.replace(" ", "-") in entry_id:
            rank = 1
        elif all(word in folded or word in entry_id for word in query.split()):
            rank = 2
        else:
            continue
        scored.append((rank, folded, entry_id, title))
    scored.sort()
    return [(entry_id, title) for _, _, entry_id, title in scored]


def questions_to_recheck(asked: list[Asked], cap: int = GAP_RECHECK) -> tuple[list[Asked], int]:
    """The unanswered questions worth re-checking: those of the `cap` most asked different questions
    (the same once normalised; ties go to the most recent), and how many different ones there were.
    Members choose what gets recorded, so the work of a report is capped here, not by them."""
    keys = [normalize(item.question) for item in asked]
    counts = Counter(key for key in keys if key)
    kept = {key for key, _ in counts.most_common(cap)}
    return [item for item, key in zip(asked, keys, strict=True) if key in kept], len(counts)


def open_gaps(engine: Engine, scope: Scope | None, asked: list[Asked]) -> tuple[list[Gap], int, int]:
    """Groups of the questions that still get no answer from the current knowledge, with how many
    different questions were re-checked out of how many (runs in the report pool)."""
    recheck, different = questions_to_recheck(asked)
    still_open: dict[str, bool] = {}
    for item in recheck:
        if item.question not in still_open:
            still_open[item.question] = engine.ask(item.question, scope=scope).result.status != "answer"
    gaps = group_gaps([item for item in recheck if still_open[item.question]], limit=GAP_LIMIT)
    return gaps, min(different, GAP_RECHECK), different


def _problem_lines(problems: list[Problem], limit: int = 12) -> str:
    lines = [f"- `{p.file}:{p.line}` {p.message}" for p in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"- … and {len(problems) - limit} more (see the bot's log or run `mythbot validate`)")
    return "\n".join(lines)


class FaqService:
    """The moderators' actions for one bot. `engine` returns the engine in service (it changes on reload),
    `reload_curated` re-reads the curated knowledge and returns its problems (kept only if valid)."""

    def __init__(self, engine: Callable[[], Engine], faq: FaqStore, records: RecordStore, workers: Workers,
                 reload_curated: Callable[[], Awaitable[list[Problem]]]) -> None:
        self._engine = engine
        self.faq = faq
        self.records = records
        self.workers = workers
        self._reload_curated = reload_curated
        self._latest_gaps: dict[tuple[int, int], GapReport] = {}
        self._gaps_building: dict[tuple[int, int], asyncio.Task[GapReport | Outcome]] = {}

    @property
    def engine(self) -> Engine:
        return self._engine()

    # --- changes ----------------------------------------------------------------------------------------

    async def save(self, guild_id: int, actor: Actor, draft: Draft, *, entry_id: str | None = None,
                   revision: str | None = None) -> Outcome:
        """Save what the form held: a new entry, or an edit of `entry_id` as it was at `revision` (when the
        form opened). The form's text becomes an entry here; the store checks it and saves it."""
        previous = self.faq.state(guild_id).entries.get(entry_id) if entry_id else None
        try:
            entry = entry_of(draft, previous=previous if isinstance(previous, MythEntry) else None,
                             known_sources=self.engine.kb.sources)
        except DraftError as error:
            return refused(ChangeRefused([f"{label}: {message}" for label, message in error.problems]))
        operation = edit_entry_op(entry_id, entry, actor, revision) if entry_id else add_entry_op(entry, actor)
        return await self._change(guild_id, actor, operation)

    async def remove(self, guild_id: int, actor: Actor, entry_id: str) -> Outcome:
        """Retire one of the server's entries, or hide a curated one here."""
        return await self._change(guild_id, actor, remove_entry(entry_id, actor))

    async def restore(self, guild_id: int, actor: Actor, entry_id: str) -> Outcome:
        return await self._change(guild_id, actor, restore_entry(entry_id, actor))

    async def hide(self, guild_id: int, actor: Actor, entry_id: str) -> Outcome:
        return await self._change(guild_id, actor, hide_entry(entry_id))

    async def unhide(self, guild_id: int, actor: Actor, entry_id: str) -> Outcome:
        return await self._change(guild_id, actor, unhide_entry(entry_id))

    async def _change(self, guild_id: int, actor: Actor, operation: Operation) -> Outcome:
        try:
            change = await self.faq.apply(guild_id, operation)
        except Conflict as error:
            with suppress(StorageError):  # show their version, even if another process saved it
                await self.faq.refresh(guild_id)
            current = error.current
            return Outcome(CONFLICT.format(error=error), ok=False, entry_id=current.id if current else None,
                           revision=revision_of(current) if current else None)
        except StorageError as error:
            return refused(error)
        self._audit(guild_id, actor, change)
        text = DONE[change.action].format(id=change.entry_id)
        if change.action == "edit" and change.entry is not None and change.entry.retired:
            text += " It is retired, so it stays silent until `/faq restore`."
        return Outcome(text, entry_id=change.entry_id if change.action in ("add", "edit", "restore") else None)

    def _audit(self, guild_id: int, actor: Actor, change: Change) -> None:
        """Audit log: who, when, what; the entry as saved, so any version can be recovered. In the background:
        the change is already saved, so a locked or broken database costs the audit line (logged), never
        the moderator's reply."""
        detail = json.dumps(change.entry.model_dump(mode="json", exclude_defaults=True)) if change.entry else None
        self.workers.record_soon(f"the audit record of {change.action} {change.entry_id!r} in guild {guild_id}",
                                 self.records.audit, guild_id, actor.id, actor.name, change.action,
                                 entry_id=change.entry_id, detail=detail)

    # --- asking first: the same operations, run without saving ----------------------------------------------

    def dry_run(self, guild_id: int, operation: Operation) -> Change:
        """What `operation` would do to this process's copy of the server, saving nothing. Raises
        `ChangeRefused` as applying it would (the store checks again, on what is stored, when it applies)."""
        _, change = operation(self.faq.state(guild_id).content, self.engine.kb, datetime.now(UTC))
        return change

    def removal(self, guild_id: int, entry_id: str) -> Prompt | Outcome:
        """What `/faq remove` asks before doing it: retire the server's entry, or hide a curated one here."""
        try:
            change = self.dry_run(guild_id, DRY_RUNS["remove"](entry_id))
        except ChangeRefused as error:
            return cannot(error)
        entry = self.faq.state(guild_id).entries.get(entry_id) or self.engine.kb.entries[entry_id]
        return Prompt("retire" if change.action == "retire" else "hide", entry_id, entry.title)

    def edit_form(self, guild_id: int, entry_id: str) -> EditForm | Outcome:
        """The form prefilled for `/faq edit` and the revision it opens, or why it cannot be edited here."""
        try:
            own = editable_entry(self.faq.state(guild_id).content, self.engine.kb, entry_id)
        except ChangeRefused as error:
            return cannot(error)
        if not isinstance(own, MythEntry):
            return Outcome(f"`{entry_id}` is an exercise; the form holds myths only. Edit it in the YAML file.",
                           ok=False)
        draft = draft_of(own)
        too_long = overflowing_fields(draft)
        if too_long:
            return Outcome(f"`{entry_id}` was edited by hand and no longer fits the form ({', '.join(too_long)}); "
                           "edit it in the YAML file.", ok=False)
        return EditForm(draft, revision_of(own))

    def _would(self, guild_id: int, purpose: Purpose, entry: Entry) -> bool:
        """Whether the command for `purpose` would act on `entry` here: its own rule, run without saving."""
        try:
            if purpose == "edit":
                return editable_entry(self.faq.state(guild_id).content, self.engine.kb, entry.id).kind == "myth"
            if purpose in DRY_RUNS:
                self.dry_run(guild_id, DRY_RUNS[purpose](entry.id))
        except ChangeRefused:
            return False
        return True

    def choices(self, guild_id: int, purpose: Purpose, typed: str, limit: int = 25) -> list[tuple[str, str]]:
        """(id, title) of the entries a command can act on, best first for what was typed, for autocomplete."""
        state = self.faq.state(guild_id)
        pool = {**{e.id: e for e in self.engine.kb.entries.values() if not e.retired}, **state.entries}
        chosen: list[tuple[str, str]] = []
        for entry_id, title in rank_choices(((e.id, e.title) for e in pool.values()), typed):
            if len(chosen) == limit:
                break
            if self._would(guild_id, purpose, pool[entry_id]):
                chosen.append((entry_id, title))
        return chosen

    # --- reading -------------------------------------------------------------------------------------------

    def rows(self, guild_id: int, which: Listing = "all") -> list[Row]:
        state = self.faq.state(guild_id)
        curated = self.engine.kb.entries
        rows: list[Row] = []
        for entry in sorted(state.entries.values(), key=lambda e: e.title.casefold()):
            if which in ("all", "server") or (which == "retired" and entry.retired):
                tags = ("server", *(("retired",) if entry.retired else ()), *_kind_tag(entry))
                rows.append(Row(entry.id, entry.title, tags))
        if which in ("all", "curated", "hidden"):
            for entry in sorted(curated.values(), key=lambda e: e.title.casefold()):
                hidden = entry.id in state.hidden
                if entry.retired or (which == "hidden" and not hidden):
                    continue
                tags = ("curated", *(("hidden here",) if hidden else ()), *_kind_tag(entry))
                rows.append(Row(entry.id, entry.title, tags))
        if which == "hidden":  # hidden ids a curated reload has since removed
            rows += [Row(i, "(no longer in the curated knowledge)", ("hidden here",))
                     for i in sorted(state.hidden) if i not in curated]
        return rows

    def page(self, guild_id: int, which: Listing = "all", number: int = 0) -> Page:
        rows = self.rows(guild_id, which)
        count = max(1, -(-len(rows) // PAGE_SIZE))
        number = min(max(number, 0), count - 1)
        return Page(which, number, count, len(rows), tuple(rows[number * PAGE_SIZE:(number + 1) * PAGE_SIZE]))

    async def card(self, guild_id: int, entry_id: str) -> Card | None:
        """An entry as moderators see it: the server's own (retired ones too, with their saved versions), or
        curated (hidden here or not); None when there is no such entry."""
        state, engine = self.faq.state(guild_id), self.engine
        own = state.entries.get(entry_id)
        hidden = entry_id in state.hidden and own is None
        view = engine.view(entry_id, None if hidden else self.faq.scope_for(guild_id), retired=True)
        if view is None:
            return None
        history = tuple(await self.faq.history(guild_id, entry_id, HISTORY_SHOWN)) if own is not None else ()
        return Card(view, own, hidden, history, state.trained.get(entry_id, ()))

    async def gaps(self, guild_id: int, days: int = 30) -> GapReport | Outcome:
        """The questions nobody got an answer to (and still would not), grouped, most asked first. The
        grouping runs in the report pool (one thread, apart from members' answers), with capped work, and
        everyone asking for a server's report while it is built (the command, teach menus after a restart)
        shares that one build."""
        key = (guild_id, days)
        task = self._gaps_building.get(key)
        if task is None:
            task = self._gaps_building[key] = asyncio.ensure_future(self._build_gaps(guild_id, days))
            task.add_done_callback(lambda _: self._gaps_building.pop(key, None))
        return await asyncio.shield(task)  # a moderator who gives up does not cancel it for the others

    async def _build_gaps(self, guild_id: int, days: int) -> GapReport | Outcome:
        try:
            asked = await self.records.unanswered(guild_id, time.time() - days * 86400, GAP_QUESTIONS)
        except StorageError as error:
            return Outcome(f"Could not read the unanswered questions: {error}", ok=False)
        gaps, checked, different = await self.workers.report(open_gaps, self.engine, self.faq.scope_for(guild_id),
                                                             asked)
        report = GapReport(days, tuple(gaps), checked, different)
        self._latest_gaps.pop((guild_id, days), None)
        self._latest_gaps[(guild_id, days)] = report
        while len(self._latest_gaps) > LATEST_GAPS_KEPT:
            del self._latest_gaps[next(iter(self._latest_gaps))]
        return report

    def latest_gaps(self, guild_id: int, days: int) -> GapReport | None:
        """The last report this process built for the server over `days` (what its moderators were shown)."""
        return self._latest_gaps.get((guild_id, days))

    async def stats(self, guild_id: int, days: int = 7) -> Outcome:
        """The last `days` UTC days of this server as text (for screen readers too) and a PNG drawn in the
        report pool, so the event loop keeps answering members while matplotlib works."""
        titles = entry_titles(self.engine.kb, self.faq.state(guild_id))
        try:
            figures = await server_stats(self.records, guild_id, titles, days=days, until=datetime.now(UTC).date())
        except StorageError as error:
            return Outcome(f"Could not read this server's records: {error}", ok=False)
        picture = await self.workers.report(render_png, figures, width_px=PNG_SIZE[0], height_px=PNG_SIZE[1])
        return Outcome(as_text(figures), file=(f"stats-{guild_id}-{figures.last_day.isoformat()}.png", picture))

    async def reload(self, guild_id: int, actor: Actor) -> Outcome:
        """Re-read the curated YAML (kept only if valid) and this server's own entries."""
        problems = await self._reload_curated()
        guild_problems = await self.faq.reload(guild_id)
        if problems:
            text = ("The curated knowledge has problems, so the bot keeps answering with what it had loaded. "
                    f"Fix these and run `/faq reload` again:\n{_problem_lines(problems)}")
        else:
            text = f"Reloaded the curated knowledge: {len(self.engine.kb.entries)} entries."
        if guild_problems:
            text += ("\n\nThis server's own file has problems; it answers from the newest valid backup until the "
                     f"next change:\n{_problem_lines(guild_problems)}")
        self.workers.record_soon(f"the audit record of a reload in guild {guild_id}", self.records.audit, guild_id,
                                 actor.id, actor.name, "reload", detail=f"{len(problems)} problem(s)")
        return Outcome(text, ok=not problems)

    async def export(self, guild_id: int) -> Outcome:
        text, count = await self.faq.export_yaml(guild_id)
        if count == 0:
            return Outcome("This server has no entries of its own to export yet.", ok=False)
        return Outcome(f"{count} entr{'y' if count == 1 else 'ies'} from this server, in the curated format. "
                       "Review them, then propose them for `knowledge/` in a pull request.",
                       file=(f"faq-{guild_id}.yaml", text.encode()))


def _kind_tag(entry: Entry) -> tuple[str, ...]:
    return () if entry.kind == "myth" else (entry.kind,)
