"""Group the questions the bot could not answer, so moderators see what to write next.

Questions are normalised like everything the matcher sees (slang, plurals, filler words), counted,
then clustered greedily: the most asked wording starts a group, and every other wording joins the
group whose leading wording shares the largest part of its words (a Dice coefficient over words,
where "bloat" and "bloated" count as one word). Words, not characters: "creatine bad" and
"creatine bloat" look alike letter by letter but ask different things.

Members choose what gets recorded, so the work is bounded per question, not per pair of questions:
each key keeps its first `MAX_KEY_WORDS` words; groups are found through an index from a
word's first letters to the groups whose leader has it, probing only a question's rarest words (if
two keys are similar enough, they share one of those: the prefix filter of set-similarity joins);
and each question scans at most `MAX_POSTINGS_PER_QUESTION` index entries and compares itself with
at most `MAX_CANDIDATES` groups, those sharing the most probed words.
"""

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from bot.engine.normalize import normalize

DEFAULT_SIMILARITY = 0.66  # two of three words in common
PREFIX = 4
MAX_WORDINGS = 3
MAX_KEY_WORDS = 20
MAX_POSTINGS_PER_QUESTION = 400
MAX_CANDIDATES = 24


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
    texts: Counter[str] = field(default_factory=Counter)
    entries: Counter[str] = field(default_factory=Counter)

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
        entries: Counter[str] = sum((m.entries for m in self.members), Counter())
        ranked = sorted(self.members, key=lambda m: (-m.count, -m.last_asked))
        return Gap(
            example=ranked[0].text,
            count=count,
            wordings=tuple(m.text for m in ranked[1 : 1 + MAX_WORDINGS]),
            closest_entry=entries.most_common(1)[0][0] if entries else None,
            last_asked=max(m.last_asked for m in self.members),
        )


@dataclass
class GroupingWork:
    """What a grouping cost: index entries scanned and questions compared (for tests and logs)."""

    postings: int = 0
    comparisons: int = 0


def _same_word(a: str, b: str) -> bool:
    shorter, longer = sorted((a, b), key=len)
    return a == b or (len(shorter) >= PREFIX and longer.startswith(shorter))


def _common_words(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    """How many words of `a` pair off with a word of `b`, each used once: exact matches first,
    then "bloat"/"bloated" among words sharing their first letters."""
    left, right = Counter(a), Counter(b)
    exact = left & right
    unmatched: defaultdict[str, list[str]] = defaultdict(list)
    for word in (right - exact).elements():
        unmatched[word[:PREFIX]].append(word)
    matched = exact.total()
    for word in (left - exact).elements():
        others = unmatched.get(word[:PREFIX])
        if not others:
            continue
        match = next((i for i, other in enumerate(others) if _same_word(word, other)), None)
        if match is not None:
            matched += 1
            del others[match]
    return matched


def word_similarity(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    """Share of words two normalised questions have in common (0-1), each word matched once."""
    if not a or not b:
        return 0.0
    return 2 * _common_words(a, b) / (len(a) + len(b))


def key_words(key: str) -> tuple[str, ...]:
    """The first `MAX_KEY_WORDS` words of a normalised question: enough for any real question."""
    return tuple(key.split()[:MAX_KEY_WORDS])


def _needed(size: int, similarity: float) -> int:
    """The fewest words a key of `size` words must share with any key to reach `similarity`."""
    if similarity >= 2:
        return size + 1
    return max(1, math.ceil(similarity * size / (2 - similarity) - 1e-9))


class _Index:
    """Groups by the first letters of their leader's rarest words.

    Words are ranked rarest first across all the questions being grouped. A key of n words that
    must share t of them with another key only needs its first n - t + 1 ranked words indexed and
    probed: the rarest shared word is among them on both sides.
    """

    def __init__(self, keys: Iterable[tuple[str, ...]], similarity: float) -> None:
        self.similarity = similarity
        self.frequency = Counter(token for words in keys for token in self._tokens(words))
        self.groups: defaultdict[tuple[str, int], list[int]] = defaultdict(list)

    @staticmethod
    def _tokens(words: tuple[str, ...]) -> list[tuple[str, int]]:
        seen: Counter[str] = Counter()
        tokens = []
        for word in words:
            stem = word[:PREFIX]
            tokens.append((stem, seen[stem]))
            seen[stem] += 1
        return tokens

    def _prefix(self, words: tuple[str, ...]) -> list[tuple[str, int]]:
        ranked = sorted(self._tokens(words), key=lambda token: (self.frequency[token], token))
        return ranked[: len(ranked) - _needed(len(ranked), self.similarity) + 1]

    def candidates(self, words: tuple[str, ...], work: GroupingWork) -> list[int]:
        """Groups sharing a probed word, those sharing the most first, capped."""
        shared: Counter[int] = Counter()
        budget = MAX_POSTINGS_PER_QUESTION
        for token in self._prefix(words):
            postings = self.groups.get(token, ())[:budget]
            budget -= len(postings)
            work.postings += len(postings)
            shared.update(postings)
            if budget <= 0:
                break
        ranked = sorted(shared.items(), key=lambda item: (-item[1], item[0]))
        return [group for group, _ in ranked[:MAX_CANDIDATES]]

    def add(self, words: tuple[str, ...], group: int) -> None:
        for token in self._prefix(words):
            self.groups[token].append(group)


def group_gaps(asked: Iterable[Asked], *, similarity: float = DEFAULT_SIMILARITY,
               limit: int | None = None, work: GroupingWork | None = None) -> list[Gap]:
    """Groups of similar questions, most asked first (ties: most recent first)."""
    work = work if work is not None else GroupingWork()
    wordings: dict[str, _Wording] = {}
    for item in asked:
        key = normalize(item.question)
        if key:
            wordings.setdefault(key, _Wording(key)).add(item)
    ordered = sorted(wordings.values(), key=lambda w: (-w.count, -w.last_asked, w.key))
    keys = [key_words(wording.key) for wording in ordered]
    index = _Index(keys, similarity)
    groups: list[_Group] = []
    for wording, words in zip(ordered, keys, strict=True):
        best, best_score = None, 0.0
        for candidate in sorted(index.candidates(words, work)):
            work.comparisons += 1
            score = word_similarity(words, groups[candidate].words)
            if score > best_score:
                best, best_score = candidate, score
        if best is not None and best_score >= similarity:
            groups[best].members.append(wording)
            continue
        index.add(words, len(groups))
        groups.append(_Group([wording], words))
    gaps = sorted((g.gap() for g in groups), key=lambda g: (-g.count, -g.last_asked, g.example))
    return gaps[:limit] if limit is not None else gaps
