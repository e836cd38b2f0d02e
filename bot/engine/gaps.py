"""Group the questions the bot could not answer, so moderators see what to write next.

Questions are normalised like everything the matcher sees (slang, plurals, filler words), counted,
then clustered greedily: the most asked wording starts a group, and every other wording joins the
group whose leading wording shares the largest part of its words (a Dice coefficient over words,
where "bloat" and "bloated" count as one word). Words, not characters: "creatine bad" and
"creatine bloat" look alike letter by letter but ask different things.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from bot.engine.normalize import normalize

DEFAULT_SIMILARITY = 0.66  # two of three words in common
PREFIX = 4
MAX_WORDINGS = 3


class Asked(Protocol):
    """One unanswered question as recorded (`bot.storage.records.Unanswered` fits)."""

    question: str
    best_entry: str | None
    created_at: float


@dataclass(frozen=True)
class Gap:
    """Similar questions: the most asked wording, how often any of them was asked, and more wordings."""

    example: str
    count: int
    wordings: tuple[str, ...] = ()
    closest_entry: str | None = None
    last_asked: float = 0.0


@dataclass
class _Wording:
    key: str
    count: int = 0
    last_asked: float = 0.0
    texts: Counter = field(default_factory=Counter)
    entries: Counter = field(default_factory=Counter)

    def add(self, item: Asked) -> None:
        self.count += 1
        self.last_asked = max(self.last_asked, item.created_at)
        self.texts[" ".join(item.question.split())] += 1
        if item.best_entry:
            self.entries[item.best_entry] += 1

    @property
    def text(self) -> str:
        return self.texts.most_common(1)[0][0]


@dataclass
class _Group:
    members: list[_Wording]
    words: tuple[str, ...]  # the leader's

    def gap(self) -> Gap:
        count = sum(m.count for m in self.members)
        entries: Counter = sum((m.entries for m in self.members), Counter())
        ranked = sorted(self.members, key=lambda m: (-m.count, -m.last_asked))
        return Gap(
            example=ranked[0].text,
            count=count,
            wordings=tuple(m.text for m in ranked[1 : 1 + MAX_WORDINGS]),
            closest_entry=entries.most_common(1)[0][0] if entries else None,
            last_asked=max(m.last_asked for m in self.members),
        )


def _same_word(a: str, b: str) -> bool:
    shorter, longer = sorted((a, b), key=len)
    return a == b or (len(shorter) >= PREFIX and longer.startswith(shorter))


def word_similarity(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    """Share of words two normalised questions have in common (0-1), each word matched once."""
    if not a or not b:
        return 0.0
    unmatched = list(b)
    common = 0
    for word in a:
        match = next((i for i, other in enumerate(unmatched) if _same_word(word, other)), None)
        if match is not None:
            common += 1
            del unmatched[match]
    return 2 * common / (len(a) + len(b))


def group_gaps(asked: Iterable[Asked], *, similarity: float = DEFAULT_SIMILARITY,
               limit: int | None = None) -> list[Gap]:
    """Groups of similar questions, most asked first (ties: most recent first)."""
    wordings: dict[str, _Wording] = {}
    for item in asked:
        key = normalize(item.question)
        if key:
            wordings.setdefault(key, _Wording(key)).add(item)
    groups: list[_Group] = []
    by_word: dict[str, list[int]] = {}  # first letters of a leader's word -> its groups
    for wording in sorted(wordings.values(), key=lambda w: (-w.count, -w.last_asked, w.key)):
        words = tuple(wording.key.split())
        candidates = sorted({g for word in words for g in by_word.get(word[:PREFIX], ())})
        scored = [(word_similarity(words, groups[g].words), -g) for g in candidates]
        best = max(scored, default=(0.0, 0))
        if best[0] >= similarity:
            groups[-best[1]].members.append(wording)
            continue
        for word in words:
            by_word.setdefault(word[:PREFIX], []).append(len(groups))
        groups.append(_Group([wording], words))
    gaps = sorted((g.gap() for g in groups), key=lambda g: (-g.count, -g.last_asked, g.example))
    return gaps[:limit] if limit is not None else gaps
