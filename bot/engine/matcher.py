"""Match a question to knowledge entries and decide: answer, ask which one was meant, or say none.

Every phrasing of every entry (title, questions, aliases) is normalised once into a
`PhrasingIndex`. A question is normalised the same way and scored against all of them with
rapidfuzz's WRatio, which tolerates extra words and word order. An entry's score is its best
phrasing's, plus a bonus when the question contains one of the entry's distinctive keywords.
"""

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass, field
from typing import Literal

from rapidfuzz import fuzz, process

from bot.engine.normalize import normalize
from bot.engine.schema import Entry

Status = Literal["answer", "clarify", "none"]


@dataclass(frozen=True)
class MatchSettings:
    """Decision thresholds (0-100), tuned on tests/eval; configurable per deployment."""

    answer_threshold: float = 64.0
    clarify_threshold: float = 52.0
    margin: float = 7.0
    passive_threshold: float = 86.0
    keyword_bonus: float = 8.0
    coverage_floor: float = 0.5
    unseen_weight: float = 1.5
    typo_similarity: float = 85.0
    max_alternatives: int = 3


@dataclass(frozen=True)
class Scored:
    entry: str
    score: float


@dataclass(frozen=True)
class MatchResult:
    question: str
    status: Status
    entry: str | None
    score: float
    alternatives: tuple[Scored, ...] = field(default=())

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "status": self.status,
            "entry": self.entry,
            "score": round(self.score, 1),
            "alternatives": [{"entry": alt.entry, "score": round(alt.score, 1)} for alt in self.alternatives],
        }


def _contains_phrase(haystack: str, needle: str) -> bool:
    return bool(needle) and f" {needle} " in f" {haystack} "


def _covers(tokens: frozenset[str], token: str) -> bool:
    """Whether a phrasing has this word, or the same stem ("bloating" / "bloated")."""
    if token in tokens:
        return True
    return len(token) >= 4 and any(len(t) >= 4 and (t.startswith(token[:5]) or token.startswith(t[:5]))
                                   for t in tokens)


class PhrasingIndex:
    """The normalised phrasings and keywords of a fixed set of entries.

    A phrasing's score is its WRatio against the question, scaled by how much of the question it
    explains: each question word weighs its rarity across entries (IDF), so a phrasing that matches
    only "hip dips" scores low on a question that is really about weight loss or keto.
    """

    def __init__(self, entries: Iterable[Entry], unseen_weight: float = 1.0) -> None:
        self.unseen_weight = unseen_weight
        self.texts: list[str] = []
        self.owners: list[str] = []
        self.postings: dict[str, list[int]] = defaultdict(list)
        self._by_prefix: dict[str, set[str]] = defaultdict(set)
        self.exhaustive = False  # True scores every phrasing (tests compare it with the prefilter)
        self.keywords: list[tuple[str, str]] = []
        self.entry_ids: set[str] = set()
        self.frequency: Counter[str] = Counter()  # in how many entries each word appears
        self.vocabulary: list[str] = []
        for entry in entries:
            if not entry.retired:
                self.add(entry)

    def add(self, entry: Entry) -> None:
        """Index one more entry. Word weights are derived on demand, so nothing else is rebuilt."""
        self.entry_ids.add(entry.id)
        seen: set[str] = set()
        words: set[str] = set()
        for text in entry.phrasings:
            norm = normalize(text)
            if norm and norm not in seen:
                seen.add(norm)
                position = len(self.texts)
                self.texts.append(norm)
                self.owners.append(entry.id)
                for token in set(norm.split()):
                    self.postings[token].append(position)
                    self._by_prefix[token[:4]].add(token)
                    words.add(token)
        for token in words:
            if token not in self.frequency:
                self.vocabulary.append(token)
            self.frequency[token] += 1
        for keyword in entry.keywords:
            norm = normalize(keyword)
            if norm:
                self.keywords.append((norm, entry.id))

    def __len__(self) -> int:
        return len(self.texts)

    def correct(self, query: str, similarity: float, also_known: Container[str] = ()) -> str:
        """Map words the index has never seen to a close known word ("clamshel" -> "clamshell")."""
        return " ".join(token if token in also_known else self._closest_known(token, similarity)
                        for token in query.split())

    def _closest_known(self, token: str, similarity: float) -> str:
        if token in self.frequency or len(token) < 4 or not self.vocabulary:
            return token
        found = process.extractOne(token, self.vocabulary, scorer=fuzz.ratio, score_cutoff=similarity)
        return found[0] if found else token

    def _candidates(self, query_tokens: list[str]) -> dict[int, str]:
        """The phrasings that share a word or stem with the question, by position.

        Any other phrasing covers none of the question, so it scores at most `floor` x 100, below
        the clarify bar: skipping it changes no decision and keeps large bases fast."""
        if self.exhaustive:
            return {position: text for position, text in enumerate(self.texts) if self._shares(position, query_tokens)}
        positions: set[int] = set()
        for token in query_tokens:
            for known in self._by_prefix.get(token[:4], ()) if len(token) >= 4 else (token,):
                if _covers(frozenset((known,)), token):
                    positions.update(self.postings.get(known, ()))
        return {position: self.texts[position] for position in positions}

    def _shares(self, position: int, query_tokens: list[str]) -> bool:
        tokens = frozenset(self.texts[position].split())
        return any(_covers(tokens, token) for token in query_tokens)

    def weight(self, token: str) -> float:
        """How informative a word is: rare across entries weighs more; never-seen weighs most."""
        entries = len(self.entry_ids) + 1
        count = self.frequency.get(token, 0)
        if not count:
            return math.log(entries / 0.5) * self.unseen_weight
        return math.log(entries / (count + 0.5))

    def _coverage(self, query_tokens: list[str], position: int, weigh: Callable[[str], float]) -> float:
        weights = [weigh(token) for token in query_tokens]
        total = sum(weights)
        if not total:
            return 1.0
        tokens = frozenset(self.texts[position].split())
        return sum(w for token, w in zip(query_tokens, weights, strict=True) if _covers(tokens, token)) / total

    def scores(self, query: str, cutoff: float, bonus: float, floor: float = 0.5,
               weigh: Callable[[str], float] | None = None) -> dict[str, float]:
        """Best score per entry for a normalised query, keyword bonus included, above `cutoff`.

        `weigh` gives each word's weight; a guild's small index passes the curated index's, so a
        word only that guild uses counts as rare rather than as common."""
        weigh = weigh or self.weight
        best: dict[str, float] = {}
        query_tokens = list(dict.fromkeys(query.split()))
        hits = process.extract(query, self._candidates(query_tokens), scorer=fuzz.WRatio, processor=None,
                               limit=None, score_cutoff=max(cutoff - bonus, 0))
        for _, score, position in hits:
            owner = self.owners[position]
            scaled = score * (floor + (1 - floor) * self._coverage(query_tokens, position, weigh))
            if scaled > best.get(owner, 0.0):
                best[owner] = scaled
        for keyword, owner in self.keywords:
            if owner in best and _contains_phrase(query, keyword):
                best[owner] = min(100.0, best[owner] + bonus)
        return best


class Matcher:
    """Answers questions from a curated index, optionally with a guild's own index on top."""

    def __init__(self, entries: Iterable[Entry], settings: MatchSettings | None = None) -> None:
        self.settings = settings or MatchSettings()
        self.index = PhrasingIndex(entries, self.settings.unseen_weight)

    def match(
        self,
        question: str,
        *,
        passive: bool = False,
        overlay: PhrasingIndex | None = None,
        hidden: frozenset[str] = frozenset(),
    ) -> MatchResult:
        cfg = self.settings
        query = self.index.correct(normalize(question), cfg.typo_similarity, overlay.frequency if overlay else ())
        if not query:
            return MatchResult(question, "none", None, 0.0)
        scores = self.index.scores(query, cfg.clarify_threshold, cfg.keyword_bonus, cfg.coverage_floor)
        if overlay is not None:
            overlay_scores = overlay.scores(query, cfg.clarify_threshold, cfg.keyword_bonus, cfg.coverage_floor,
                                            weigh=self.index.weight)
            for entry_id, score in overlay_scores.items():
                scores[entry_id] = max(score, scores.get(entry_id, 0.0))
        ranked = sorted(
            (Scored(entry_id, score) for entry_id, score in scores.items() if entry_id not in hidden),
            key=lambda s: (-s.score, s.entry),
        )
        return self.decide(question, ranked, passive=passive)

    def decide(self, question: str, ranked: list[Scored], *, passive: bool = False) -> MatchResult:
        cfg = self.settings
        if not ranked:
            return MatchResult(question, "none", None, 0.0)
        top = ranked[0]
        runner_up = ranked[1].score if len(ranked) > 1 else 0.0
        alternatives = tuple(ranked[1 : 1 + cfg.max_alternatives])
        clear = top.score - runner_up >= cfg.margin
        if top.score >= (cfg.passive_threshold if passive else cfg.answer_threshold) and clear:
            return MatchResult(question, "answer", top.entry, top.score, alternatives)
        if not passive and top.score >= cfg.clarify_threshold:
            close = tuple(s for s in ranked[1 : cfg.max_alternatives] if top.score - s.score < cfg.margin)
            return MatchResult(question, "clarify", top.entry, top.score, close)
        return MatchResult(question, "none", None, top.score, tuple(ranked[: cfg.max_alternatives]))
