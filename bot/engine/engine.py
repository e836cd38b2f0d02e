"""The engine facade the front ends use: ask a question, look up an exercise, view an entry.

A `Scope` is what one guild sees: the curated base plus that guild's own entries, minus the curated
entries its moderators hid. With no scope, only the curated base is used.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from types import MappingProxyType

from rapidfuzz import fuzz, process

from bot.engine.knowledge import KnowledgeBase, load_knowledge
from bot.engine.matcher import (
    Embeds,
    Matcher,
    MatchResult,
    MatchSettings,
    PhrasingIndex,
    Scored,
    Taught,
    entry_document,
)
from bot.engine.normalize import normalize
from bot.engine.render import EntryView, entry_view
from bot.engine.schema import Entry, ExerciseEntry, MythEntry

EXERCISE_MATCH_THRESHOLD = 75.0


@dataclass(frozen=True)
class Scope:
    """A guild's own entries (already validated), the curated ids it hides, and the extra phrasings
    its moderators taught for any entry (curated or its own).

    The index of its live entries is built by the engine that first needs it (with that engine's
    scorers) and kept with the scope, which is replaced whenever the guild's entries change."""

    entries: Mapping[str, Entry] = field(default_factory=lambda: MappingProxyType({}))
    hidden: frozenset[str] = frozenset()
    trained: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    _indexes: dict[bool, PhrasingIndex] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, entries: Mapping[str, Entry], hidden: frozenset[str] = frozenset(),
           trained: Mapping[str, Sequence[str]] | None = None) -> "Scope":
        taught = {entry_id: tuple(texts) for entry_id, texts in (trained or {}).items() if texts}
        return cls(MappingProxyType(dict(entries)), hidden, MappingProxyType(taught))

    @property
    def empty(self) -> bool:
        return not self.entries and not self.trained

    def index_for(self, matcher: Matcher, curated: Mapping[str, Entry]) -> PhrasingIndex:
        index = self._indexes.get(matcher.semantic)
        if index is None:
            index = matcher.new_index(self._indexed(curated))
            self._indexes[matcher.semantic] = index
        return index

    def _indexed(self, curated: Mapping[str, Entry]) -> list["Entry | Taught"]:
        """Live own entries (with what was taught for them), and what was taught for curated ones."""
        indexed: list[Entry | Taught] = []
        for entry in self.entries.values():
            if not entry.retired:
                extra = self.trained.get(entry.id, ())
                indexed.append(entry.model_copy(update={"questions": [*entry.questions, *extra]}) if extra else entry)
        for entry_id, texts in self.trained.items():
            base = curated.get(entry_id)
            if entry_id not in self.entries and entry_id not in self.hidden and base is not None and not base.retired:
                indexed.append(Taught(entry_id, base.title, texts, entry_document(base)))
        return indexed


@dataclass(frozen=True)
class Reply:
    result: MatchResult
    view: EntryView | None


class Engine:
    def __init__(self, kb: KnowledgeBase, settings: MatchSettings | None = None,
                 embedder: Embeds | None = None, index: PhrasingIndex | None = None) -> None:
        """`index` is a prebuilt index of exactly `kb` (from a snapshot); otherwise one is built."""
        self.kb = kb
        self.matcher = Matcher(kb.entries.values(), settings, embedder, kb.out_of_scope.values(), index)

    @cached_property
    def _exercise_names(self) -> tuple[list[str], list[str]]:
        """(normalised names, their exercise ids): titles, ids and aliases of live exercises."""
        names: list[str] = []
        ids: list[str] = []
        for exercise in (e for e in self.kb.exercises if not e.retired):
            for name in (exercise.title, exercise.id.replace("-", " "), *exercise.aliases):
                names.append(normalize(name, keep_stopwords=True))
                ids.append(exercise.id)
        return names, ids

    @classmethod
    def from_dir(cls, directory: Path, settings: MatchSettings | None = None,
                 embedder: Embeds | None = None) -> "Engine":
        return cls(load_knowledge(directory), settings, embedder)

    @property
    def settings(self) -> MatchSettings:
        return self.matcher.settings

    def entry(self, entry_id: str, scope: Scope | None = None, *, retired: bool = False) -> Entry | None:
        """The entry members see under this id: None when it is unknown, hidden in this scope or retired
        (curated `retired: true` or retired by the guild's moderators). `retired=True` is for moderators."""
        found: Entry | None
        if scope is not None and entry_id in scope.entries:
            found = scope.entries[entry_id]
        elif scope is not None and entry_id in scope.hidden:
            return None
        else:
            found = self.kb.entries.get(entry_id)
        if found is not None and found.retired and not retired:
            return None
        return found

    def view(self, entry_id: str, scope: Scope | None = None, *, retired: bool = False) -> EntryView | None:
        """What members are shown for an entry (None as for `entry`); `retired=True` is for moderators.
        Its related entries are those this scope shows: none it hides, none retired."""
        entry = self.entry(entry_id, scope, retired=retired)
        if entry is None:
            return None
        kb = self.kb
        if scope is not None and scope.entries:
            kb = KnowledgeBase(entries={**self.kb.entries, **scope.entries}, sources=self.kb.sources)
        view = entry_view(kb, entry)
        if scope is None or not scope.hidden:
            return view
        return replace(view, related=tuple((rid, title) for rid, title in view.related if rid not in scope.hidden
                                           or rid in scope.entries))

    def ask(self, question: str, *, passive: bool = False, scope: Scope | None = None) -> Reply:
        result = self.matcher.match(
            question,
            passive=passive,
            overlay=scope.index_for(self.matcher, self.kb.entries) if scope and not scope.empty else None,
            hidden=scope.hidden if scope else frozenset(),
        )
        view = self.view(result.entry, scope) if result.status == "answer" and result.entry else None
        return Reply(result, view)

    def for_guild(self, scope: Scope | None) -> "GuildKnowledge":
        """The one view of the knowledge a server (or a DM, with no scope) gets: every command, button,
        autocomplete and the console read entries through it, so they all agree."""
        return GuildKnowledge(self, scope)

    def exercise_choices(self, name: str, limit: int = 25) -> list[Scored]:
        """Exercises ranked by how well `name` fits their title, id or aliases (for autocomplete)."""
        query = normalize(name, keep_stopwords=True)
        if not query:
            return [Scored(e.id, 0.0) for e in sorted(self.kb.exercises, key=lambda e: e.title)
                    if not e.retired][:limit]
        best: dict[str, float] = {}
        names, ids = self._exercise_names
        hits = process.extract(query, names, scorer=fuzz.WRatio, processor=None, limit=None)
        for _, score, position in hits:
            owner = ids[position]
            best[owner] = max(score, best.get(owner, 0.0))
        ranked = sorted(best.items(), key=lambda item: (-item[1], item[0]))
        return [Scored(eid, score) for eid, score in ranked[:limit]]

    def find_exercise(self, name: str) -> ExerciseEntry | None:
        """The curated exercise `name` clearly refers to, or None (then offer `exercise_choices`)."""
        return self.for_guild(None).find_exercise(name)

MAX_TYPED_CHARS = 100  # of what a member typed into an autocomplete: Discord sends up to 6,000


class GuildKnowledge:
    """What one server sees: curated entries it has not hidden, plus its own; retired ones are gone.

    Moderators' tools that must still see hidden or retired entries read the store and the curated
    base directly; everything members use goes through here."""

    def __init__(self, engine: Engine, scope: Scope | None) -> None:
        self.engine = engine
        self.scope = scope

    def ask(self, question: str, *, passive: bool = False) -> Reply:
        return self.engine.ask(question, passive=passive, scope=self.scope)

    def entry(self, entry_id: str) -> Entry | None:
        return self.engine.entry(entry_id, self.scope)

    def view(self, entry_id: str) -> EntryView | None:
        return self.engine.view(entry_id, self.scope)

    def gone(self, entry_id: str) -> bool:
        """Whether `entry_id` names an entry this server no longer shows (retired, or hidden here), so a
        member who saw it before is told it is gone rather than unknown."""
        own = self.scope.entries.get(entry_id) if self.scope else None
        return self.entry(entry_id) is None and (own is not None or entry_id in self.engine.kb.entries)

    def entries(self) -> list[Entry]:
        """Every entry this server may be shown, by title."""
        ids = [*self.engine.kb.entries, *(self.scope.entries if self.scope else ())]
        visible = {entry_id: entry for entry_id in ids if (entry := self.entry(entry_id)) is not None}
        return sorted(visible.values(), key=lambda e: (e.title.casefold(), e.id))

    def myths(self) -> list[MythEntry]:
        return [e for e in self.entries() if isinstance(e, MythEntry)]

    def exercises(self) -> list[ExerciseEntry]:
        return [e for e in self.entries() if isinstance(e, ExerciseEntry)]

    def titles(self, entry_ids: Iterable[str | None]) -> list[tuple[str, str]]:
        """(id, title) of the given ids this server may be shown, in order (for "did you mean" buttons)."""
        return [(entry_id, entry.title) for entry_id in entry_ids if entry_id and (entry := self.entry(entry_id))]

    def did_you_mean(self, result: MatchResult) -> list[tuple[str, str]]:
        """(id, title) of what a "did you mean" offers for `result`, best first (Discord, console, CLI)."""
        return self.titles([result.entry, *(alt.entry for alt in result.alternatives)])

    def exercise_suggestions(self, typed: str, limit: int = 5) -> list[str]:
        """Titles of the exercises closest to `typed`, for "did you mean" when none clearly matches."""
        return [title for _, title in self.titles(c.entry for c in self.exercise_choices(typed, limit=limit))]

    def related_exercises(self, view: EntryView) -> list[str]:
        """Titles of the exercises an entry links to that this server may be shown."""
        return [title for entry_id, title in view.related
                if isinstance(self.entry(entry_id), ExerciseEntry)]

    def myth_choices(self, typed: str, limit: int = 25) -> list[tuple[str, str]]:
        """(id, title) of myths for an autocomplete: best title matches for what was typed, at most `limit`."""
        myths = self.myths()
        query = normalize(typed[:MAX_TYPED_CHARS], keep_stopwords=True)
        if not query:
            return [(m.id, m.title) for m in myths[:limit]]
        titles = [normalize(m.title, keep_stopwords=True) for m in myths]
        hits = process.extract(query, titles, scorer=fuzz.WRatio, processor=None, limit=limit)
        return [(myths[i].id, myths[i].title) for _, _, i in hits]

    def exercise_choices(self, typed: str, limit: int = 25) -> list[Scored]:
        """Exercises this server may be shown, ranked by how well `typed` fits their title, id or aliases."""
        own = [e for e in (self.scope.entries.values() if self.scope else ()) if isinstance(e, ExerciseEntry)]
        curated = [c for c in self.engine.exercise_choices(typed[:MAX_TYPED_CHARS], limit=10_000)
                   if self.entry(c.entry) is not None]
        query = normalize(typed[:MAX_TYPED_CHARS], keep_stopwords=True)
        for exercise in own:
            if self.entry(exercise.id) is None:
                continue
            names = [normalize(n, keep_stopwords=True) for n in (exercise.title, *exercise.aliases)]
            score = max((fuzz.WRatio(query, n, processor=None) for n in names), default=0.0) if query else 0.0
            curated.append(Scored(exercise.id, score))
        if not query:
            titles = {e.id: e.title for e in self.exercises()}
            return sorted(curated, key=lambda s: titles.get(s.entry, s.entry))[:limit]
        return sorted(curated, key=lambda s: (-s.score, s.entry))[:limit]

    def find_exercise(self, name: str) -> ExerciseEntry | None:
        """The exercise `name` clearly refers to (an id, or a clear best name match), or None."""
        direct = self.entry(name.strip().lower())
        if isinstance(direct, ExerciseEntry):
            return direct
        choices = self.exercise_choices(name, limit=2)
        if not choices or choices[0].score < EXERCISE_MATCH_THRESHOLD:
            return None
        if len(choices) > 1 and choices[0].score - choices[1].score < 3:
            return None
        found = self.entry(choices[0].entry)
        return found if isinstance(found, ExerciseEntry) else None
