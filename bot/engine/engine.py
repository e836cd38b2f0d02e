"""The engine facade the front ends use: ask a question, look up an exercise, view an entry.

A `Scope` is what one guild sees: the curated base plus that guild's own entries, minus the curated
entries its moderators hid. With no scope, only the curated base is used.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
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
from bot.engine.schema import Entry, ExerciseEntry

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
        """What members are shown for an entry (None as for `entry`); `retired=True` is for moderators."""
        entry = self.entry(entry_id, scope, retired=retired)
        if entry is None:
            return None
        kb = self.kb
        if scope is not None and scope.entries:
            kb = KnowledgeBase(entries={**self.kb.entries, **scope.entries}, sources=self.kb.sources)
        return entry_view(kb, entry)

    def ask(self, question: str, *, passive: bool = False, scope: Scope | None = None) -> Reply:
        result = self.matcher.match(
            question,
            passive=passive,
            overlay=scope.index_for(self.matcher, self.kb.entries) if scope and not scope.empty else None,
            hidden=scope.hidden if scope else frozenset(),
        )
        view = self.view(result.entry, scope) if result.status == "answer" and result.entry else None
        return Reply(result, view)

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
        """The exercise `name` clearly refers to, or None (then offer `exercise_choices`)."""
        if name.strip().lower() in self.kb.entries:
            entry = self.entry(name.strip().lower())
            return entry if isinstance(entry, ExerciseEntry) else None
        choices = self.exercise_choices(name, limit=2)
        if not choices or choices[0].score < EXERCISE_MATCH_THRESHOLD:
            return None
        if len(choices) > 1 and choices[0].score - choices[1].score < 3:
            return None
        entry = self.kb.entries[choices[0].entry]
        return entry if isinstance(entry, ExerciseEntry) else None
