"""The engine facade the front ends use: ask a question, look up an exercise, view an entry.

A `Scope` is what one guild sees: the curated base plus that guild's own entries, minus the curated
entries its moderators hid. With no scope, only the curated base is used.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from rapidfuzz import fuzz, process

from bot.engine.knowledge import KnowledgeBase, load_knowledge
from bot.engine.matcher import Matcher, MatchResult, MatchSettings, PhrasingIndex, Scored
from bot.engine.normalize import normalize
from bot.engine.render import EntryView, entry_view
from bot.engine.schema import Entry, ExerciseEntry

EXERCISE_MATCH_THRESHOLD = 75.0


@dataclass(frozen=True)
class Scope:
    """A guild's own entries (already validated) and the curated ids it hides."""

    entries: Mapping[str, Entry] = field(default_factory=lambda: MappingProxyType({}))
    hidden: frozenset[str] = frozenset()
    index: PhrasingIndex | None = None

    @classmethod
    def of(cls, entries: Mapping[str, Entry], hidden: frozenset[str] = frozenset()) -> "Scope":
        live = {eid: e for eid, e in entries.items() if not e.retired}
        return cls(MappingProxyType(dict(entries)), hidden, PhrasingIndex(live.values()))


@dataclass(frozen=True)
class Reply:
    result: MatchResult
    view: EntryView | None


class Engine:
    def __init__(self, kb: KnowledgeBase, settings: MatchSettings | None = None) -> None:
        self.kb = kb
        self.matcher = Matcher(kb.entries.values(), settings)
        live_exercises = [e for e in kb.exercises if not e.retired]
        self._exercise_names: list[str] = []
        self._exercise_ids: list[str] = []
        for exercise in live_exercises:
            for name in (exercise.title, exercise.id.replace("-", " "), *exercise.aliases):
                self._exercise_names.append(normalize(name, keep_stopwords=True))
                self._exercise_ids.append(exercise.id)

    @classmethod
    def from_dir(cls, directory: Path, settings: MatchSettings | None = None) -> "Engine":
        return cls(load_knowledge(directory), settings)

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
            overlay=scope.index if scope else None,
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
        hits = process.extract(query, self._exercise_names, scorer=fuzz.WRatio, processor=None, limit=None)
        for _, score, position in hits:
            owner = self._exercise_ids[position]
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
