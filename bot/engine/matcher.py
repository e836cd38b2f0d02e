"""Match a question to knowledge entries and decide: answer, ask which one was meant, or say none.

Two scorers look at every entry, and their scores are fused before anything is decided:

- **fuzzy**: each phrasing (title, questions, aliases) is normalised once; a question is normalised
  the same way and scored with rapidfuzz's WRatio (tolerant of extra words and word order), scaled
  by how much of the question's informative weight the phrasing covers (IDF across entries). A
  distinctive keyword in the question adds a bonus. An entry's fuzzy score is its best phrasing's.
- **semantic** (optional, `semantic` extra): cosine similarity of sentence embeddings between the
  question and the entry's phrasings (best one) blended with its title and answer.

`fused = (1 - w) * fuzzy + w * 100 * semantic`. Coverage is computed for all phrasings at once with
arrays, which bounds the fuzzy score of every phrasing from above; WRatio then runs only on the
entries whose bound could still reach the top four, best bound first, so the top four (all a
decision uses) are exactly those an exhaustive scan finds, at a cost that does not grow with how
common the question's words are. Long messages are also scored sentence by sentence, and the work
per message is bounded by caps on characters, words and sentences.
"""

import heapq
import itertools
import math
import re
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol, Union

import numpy as np
from rapidfuzz import fuzz, process

from bot.engine.normalize import MAX_INPUT_CHARS, normalize
from bot.engine.schema import Entry

if TYPE_CHECKING:
    from bot.engine.schema import OutOfScope

Status = Literal["answer", "clarify", "none"]

# Bounds on the work one message can cause, whatever its length.
MAX_QUERY_TOKENS = 32  # distinct words scored for coverage (the most informative are kept)
MAX_FUZZY_CHARS = 300  # the longest phrasing is 300 characters; WRatio never needs more
MAX_SENTENCES = 4  # sentences of a long message scored besides the whole
MAX_WHOLE_CHARS = 600  # of the whole message read as one (about 128 tokens for the embedding)
MAX_PART_CHARS = 300  # of each sentence
MAX_CORRECTIONS = 12  # unknown words looked up in the vocabulary per message
TOP = 4  # entries ranked exactly: the answer, the runner-up and the alternatives
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass(frozen=True)
class MatchSettings:
    """Decision thresholds (0-100) and scorer weights, tuned on the evaluation sets.

    The defaults are for fuzzy matching alone; `FUSED_DEFAULTS` holds the thresholds for fused
    scores, used when the semantic scorer is available."""

    answer_threshold: float = 71.0
    clarify_threshold: float = 49.0
    margin: float = 1.0
    passive_threshold: float = 86.0
    semantic_weight: float = 0.0  # w in fused = (1 - w) * fuzzy + w * semantic
    short_semantic_weight: float = 0.0  # w for questions of `short_words` content words or fewer ("squats?")
    short_words: int = 2
    phrasing_weight: float = 0.9  # semantic = a * voted phrasing similarity + (1 - a) * title and answer
    neighbours: int = 5  # nearest phrasings that vote
    vote_temperature: float = 0.07  # softmax temperature of their votes (cosine units)
    vote_weight: float = 0.5  # how much an entry's share of the votes scales its best cosine
    asking_sentence_weight: float = 1.0  # a sentence of a long message that asks ("...?")
    other_sentence_weight: float = 0.9  # any other sentence of it
    out_of_scope_margin: float = 0.0  # an out-of-scope topic this close to the best entry means "no answer"
    agreement_threshold: float = 101.0  # at or over this, no margin is needed when both scorers agree
    keyword_bonus: float = 8.0
    coverage_floor: float = 0.5
    unseen_weight: float = 1.5
    typo_similarity: float = 85.0
    max_alternatives: int = 3

    def thresholds(self) -> dict[str, float]:
        return {"answer_threshold": self.answer_threshold, "clarify_threshold": self.clarify_threshold,
                "margin": self.margin, "agreement_threshold": self.agreement_threshold,
                "passive_threshold": self.passive_threshold}


FUZZY_DEFAULTS = MatchSettings()
# Tuned by `mythbot eval tests/eval/questions.yaml ../shared/eval/real-questions.yaml --tune` (README).
FUSED_DEFAULTS = MatchSettings(answer_threshold=55.0, clarify_threshold=41.0, margin=5.0, passive_threshold=76.0,
                               semantic_weight=0.8, short_semantic_weight=0.4)


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
    out_of_scope: str | None = None  # the known off-topic subject the question was closest to, if any

    def to_dict(self) -> dict[str, object]:
        return {
            "question": self.question,
            "status": self.status,
            "entry": self.entry,
            "score": round(self.score, 1),
            "alternatives": [{"entry": alt.entry, "score": round(alt.score, 1)} for alt in self.alternatives],
        }


def _contains_phrase(haystack: str, needle: str) -> bool:
    return bool(needle) and f" {needle} " in f" {haystack} "


def _covers(known: str, token: str) -> bool:
    """Whether a phrasing word stands for a question word: the same, or the same stem ("bloating" / "bloated")."""
    if known == token:
        return True
    return len(token) >= 4 and len(known) >= 4 and (known.startswith(token[:5]) or token.startswith(known[:5]))


class Embeds(Protocol):
    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class Indexable(Protocol):
    """What the index reads of an entry, an out-of-scope topic or a guild's taught phrasings."""

    @property
    def id(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def phrasings(self) -> tuple[str, ...]: ...

    @property
    def keywords(self) -> Sequence[str]: ...

    @property
    def retired(self) -> bool: ...


# A word's phrasing positions: a growable int array, or a read-only slice of a snapshot's array.
Postings = Union["array[int]", np.ndarray]


def entry_document(entry: Indexable) -> str:
    """What the semantic scorer reads as an entry's gist besides its phrasings: title and short answer."""
    if isinstance(entry, Taught):
        return entry.document
    body = getattr(entry, "answer", None) or getattr(entry, "summary", None) or ""
    return f"{entry.title}. {body.replace('**', '')}".strip()


@dataclass(frozen=True)
class Topic:
    """An out-of-scope subject, indexed like an entry under the id `~<id>` so it can never answer."""

    id: str
    title: str
    questions: tuple[str, ...]
    keywords: tuple[str, ...] = ()
    retired: bool = False

    @property
    def phrasings(self) -> tuple[str, ...]:
        return (self.title, *self.questions)


@dataclass(frozen=True)
class Taught:
    """Phrasings a guild's moderators taught for a curated entry: indexed under the entry's own id."""

    id: str
    title: str
    questions: tuple[str, ...]
    document: str  # the entry's title and answer, for the semantic scorer
    keywords: tuple[str, ...] = ()
    retired: bool = False

    @property
    def phrasings(self) -> tuple[str, ...]:
        return self.questions


TOPIC_PREFIX = "~"


def topics_of(out_of_scope: Iterable["OutOfScope"]) -> list[Topic]:
    return [Topic(TOPIC_PREFIX + t.id, t.title, tuple(t.questions)) for t in out_of_scope]


@dataclass(frozen=True)
class Ranking:
    """The best entries for a question, best first, and the closest out-of-scope topic if it could matter."""

    entries: tuple[Scored, ...] = ()
    out_of_scope: Scored | None = None
    agreed: bool = False  # the best entry is also the best by fuzzy score alone and by meaning alone


class PhrasingIndex:
    """The phrasings of a set of entries, as arrays the scorers read without per-phrasing Python work.

    An entry's phrasings sit next to each other (`spans`), postings are compact integer arrays, and
    word weights (IDF across entries) are derived on demand, so adding an entry rebuilds nothing."""

    def __init__(self, entries: Iterable[Indexable], unseen_weight: float = 1.0,
                 embedder: Embeds | None = None) -> None:
        self.unseen_weight = unseen_weight
        self.embedder = embedder
        self.exhaustive = False  # True runs WRatio on every entry that shares a word (tests compare)
        self.texts: list[str] = []
        self.entry_ids: list[str] = []
        self.entry_position: dict[str, int] = {}
        self._owners = array("i")
        self._starts = array("i")
        self._ends = array("i")
        self.postings: dict[str, Postings] = {}
        self._by_prefix: dict[str, set[str]] = defaultdict(set)
        self.frequency: Counter[str] = Counter()  # in how many entries each word appears
        self.vocabulary: list[str] = []
        self.keywords: list[tuple[str, int]] = []
        self._covering_cache: dict[str, tuple[str, ...]] = {}
        self._topic_mask: np.ndarray | None = None
        self._vectors: list[np.ndarray] = []  # phrasing embeddings, in blocks as they were added
        self._documents: list[np.ndarray] = []  # one embedding per entry
        self._vector_array: np.ndarray | None = None
        self._document_array: np.ndarray | None = None
        self.add_all([entry for entry in entries if not entry.retired])

    # -- building -----------------------------------------------------------------------------------

    def add_all(self, entries: Sequence[Indexable]) -> None:
        """Index entries; with an embedder, their phrasings are embedded in one batch."""
        fresh = [entry for entry in entries if entry.id not in self.entry_position]
        raw = [text for entry in fresh for text in self._add_text(entry)]
        if self.embedder is not None and fresh:
            vectors = self.embedder.embed(raw + [entry_document(entry) for entry in fresh])
            self._vectors.append(np.asarray(vectors[: len(raw)], dtype=np.float32))
            self._documents.append(np.asarray(vectors[len(raw):], dtype=np.float32))
            self._vector_array = self._document_array = None

    def add(self, entry: Indexable) -> None:
        """Index one more entry (a moderator's new entry): its words, and its embeddings if semantic."""
        self.add_all([entry])

    def _add_text(self, entry: Indexable) -> list[str]:
        position = len(self.entry_ids)
        self.entry_ids.append(entry.id)
        self.entry_position[entry.id] = position
        self._starts.append(len(self.texts))
        seen: set[str] = set()
        raw: list[str] = []
        words: set[str] = set()
        for text in entry.phrasings:
            norm = normalize(text)
            if not norm or norm in seen:
                continue
            seen.add(norm)
            raw.append(text)
            phrasing = len(self.texts)
            self.texts.append(norm)
            self._owners.append(position)
            for token in set(norm.split()):
                postings = self.postings.get(token)
                if postings is not None and not isinstance(postings, array):  # restored from a snapshot
                    postings = self.postings[token] = array("i", np.asarray(postings, dtype=np.int32).tobytes())
                if postings is None:
                    postings = self.postings[token] = array("i")
                    self._by_prefix[token[:4]].add(token)
                    self._covering_cache.clear()
                postings.append(phrasing)
                words.add(token)
        self._ends.append(len(self.texts))
        for token in words:
            if token not in self.frequency:
                self.vocabulary.append(token)
            self.frequency[token] += 1
        for keyword in entry.keywords:
            norm = normalize(keyword)
            if norm:
                self.keywords.append((norm, position))
        return raw

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def owners(self) -> np.ndarray:
        return np.frombuffer(self._owners, dtype=np.int32) if len(self._owners) else np.zeros(0, np.int32)

    def segments(self) -> tuple[np.ndarray, np.ndarray]:
        """(first phrasing of each entry that has any, those entries' positions): for `reduceat`."""
        starts = np.frombuffer(self._starts, dtype=np.int32) if len(self._starts) else np.zeros(0, np.int32)
        ends = np.frombuffer(self._ends, dtype=np.int32) if len(self._ends) else np.zeros(0, np.int32)
        filled = np.flatnonzero(ends > starts)
        return starts[filled], filled

    def topic_mask(self) -> np.ndarray:
        """Which entry positions are out-of-scope topics rather than entries."""
        if self._topic_mask is None or len(self._topic_mask) != len(self.entry_ids):
            self._topic_mask = np.fromiter((e.startswith(TOPIC_PREFIX) for e in self.entry_ids), dtype=bool,
                                           count=len(self.entry_ids))
        return self._topic_mask

    def span(self, position: int) -> tuple[int, int]:
        """The phrasings of one entry: `texts[start:end]`."""
        return self._starts[position], self._ends[position]

    @property
    def semantic(self) -> bool:
        return self.embedder is not None

    def vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """(phrasing embeddings, entry embeddings), each row aligned with `texts` / `entry_ids`."""
        if self._vector_array is None or self._document_array is None:
            self._vector_array = np.concatenate(self._vectors) if self._vectors else np.zeros((0, 384), np.float32)
            self._document_array = (np.concatenate(self._documents) if self._documents
                                    else np.zeros((0, 384), np.float32))
            self._vectors, self._documents = [self._vector_array], [self._document_array]
        return self._vector_array, self._document_array

    # -- words --------------------------------------------------------------------------------------

    def weight(self, token: str) -> float:
        """How informative a word is: rare across entries weighs more; never-seen weighs most."""
        entries = len(self.entry_ids) + 1
        count = self.frequency.get(token, 0)
        if not count:
            return math.log(entries / 0.5) * self.unseen_weight
        return math.log(entries / (count + 0.5))

    def correct(self, query: str, similarity: float, also_known: Container[str] = ()) -> str:
        """Map words the index has never seen to a close known word ("clamshel" -> "clamshell")."""
        budget = MAX_CORRECTIONS
        words = []
        for token in query.split():
            if token in also_known or token in self.frequency or len(token) < 4 or budget <= 0:
                words.append(token)
                continue
            budget -= 1
            words.append(self._closest_known(token, similarity))
        return " ".join(words)

    def _closest_known(self, token: str, similarity: float) -> str:
        if not self.vocabulary:
            return token
        found = process.extractOne(token, self.vocabulary, scorer=fuzz.ratio, score_cutoff=similarity)
        return found[0] if found else token

    def _covering(self, token: str) -> tuple[str, ...]:
        """The known words that stand for this question word (cached until the vocabulary grows)."""
        found = self._covering_cache.get(token)
        if found is None:
            known = self._by_prefix.get(token[:4], ()) if len(token) >= 4 else (token,)
            found = tuple(sorted(word for word in known if word in self.postings and _covers(word, token)))
            if len(self._covering_cache) < 50_000:
                self._covering_cache[token] = found
        return found

    # -- fuzzy --------------------------------------------------------------------------------------

    def coverage(self, tokens: Sequence[str], weigh: Callable[[str], float]) -> np.ndarray:
        """For every phrasing, the share of the question's word weight it covers (0 for most)."""
        share = np.zeros(len(self.texts))
        weights = [weigh(token) for token in tokens]
        total = sum(weights)
        if total <= 0:
            return share
        for token, weight in zip(tokens, weights, strict=True):
            words = self._covering(token)
            if len(words) == 1:
                share[np.frombuffer(self.postings[words[0]], dtype=np.int32)] += weight
            elif words:  # several stems of one word may share a phrasing: count it once
                hit = np.zeros(len(self.texts), dtype=bool)
                for word in words:
                    hit[np.frombuffer(self.postings[word], dtype=np.int32)] = True
                share[hit] += weight
        return share / total

    def keyword_entries(self, query: str) -> set[int]:
        return {position for keyword, position in self.keywords if _contains_phrase(query, keyword)}


@dataclass
class _Layer:
    """One index's view of a question: per-phrasing coverage, per-entry bounds, and exact scores."""

    index: PhrasingIndex
    query: str
    factor: np.ndarray  # per phrasing: floor + (1 - floor) * coverage; 0 where no word is shared
    bonus_entries: set[int]
    fuzzy_bound: np.ndarray  # per entry
    semantic: np.ndarray  # per entry, 0-100

    def exact_fuzzy(self, positions: Sequence[int], bonus: float) -> np.ndarray:
        """Each entry's best scaled WRatio (keyword bonus included), with one rapidfuzz call for all of them."""
        groups = []
        for position in positions:
            start, end = self.index.span(position)
            groups.append(np.flatnonzero(self.factor[start:end]) + start)
        scores = np.zeros(len(groups))
        phrasings = np.concatenate(groups) if groups else np.zeros(0, np.int64)
        if not len(phrasings):
            return scores
        choices = [self.index.texts[i] for i in phrasings]
        scaled = process.cdist([self.query], choices, scorer=fuzz.WRatio, dtype=np.float32)[0] * self.factor[phrasings]
        sizes = np.array([len(group) for group in groups])
        filled = sizes > 0
        scores[filled] = np.maximum.reduceat(scaled, np.concatenate(([0], np.cumsum(sizes)[:-1]))[filled])
        for i, position in enumerate(positions):
            if position in self.bonus_entries and scores[i] > 0:
                scores[i] = min(100.0, scores[i] + bonus)
        return scores


class Matcher:
    """Answers questions from a curated index, optionally with a guild's own index on top."""

    def __init__(self, entries: Iterable[Entry], settings: MatchSettings | None = None,
                 embedder: Embeds | None = None, out_of_scope: Iterable["OutOfScope"] = (),
                 index: PhrasingIndex | None = None) -> None:
        self.settings = settings or (FUSED_DEFAULTS if embedder is not None else FUZZY_DEFAULTS)
        self.embedder = embedder
        # Questions are embedded without the disk cache (knowledge texts are cached; members' words never are).
        self._query_embedder = getattr(embedder, "uncached", embedder)
        self.index = index or PhrasingIndex([*entries, *topics_of(out_of_scope)], self.settings.unseen_weight, embedder)

    @property
    def semantic(self) -> bool:
        return self.embedder is not None and self.settings.semantic_weight > 0

    def new_index(self, entries: Iterable[Indexable]) -> PhrasingIndex:
        """An index for a guild's own entries, scored the same way as the curated one."""
        return PhrasingIndex(entries, self.settings.unseen_weight, self.embedder)

    def match(
        self,
        question: str,
        *,
        passive: bool = False,
        overlay: PhrasingIndex | None = None,
        hidden: frozenset[str] = frozenset(),
    ) -> MatchResult:
        ranking = self.rank(question, overlay=overlay, hidden=hidden)
        return decide(question, list(ranking.entries), self.settings, passive=passive,
                      out_of_scope=ranking.out_of_scope, agreed=ranking.agreed)

    def rank(self, question: str, *, overlay: PhrasingIndex | None = None,
             hidden: frozenset[str] = frozenset()) -> Ranking:
        """The best entries for a question by fused score, best first (at most `TOP`)."""
        parts = _parts(question)
        if not parts:
            return Ranking()
        embedder = self._query_embedder
        vectors = embedder.embed(parts) if self.semantic and embedder is not None else None
        best: dict[str, float] = {}
        agreed: dict[str, bool] = {}
        cfg = self.settings
        for i, part in enumerate(parts):
            weight = 1.0 if i == 0 else (cfg.asking_sentence_weight if part.rstrip().endswith("?")
                                          else cfg.other_sentence_weight)
            vector = vectors[i] if vectors is not None else None
            scored_part, part_agreed = self._rank_part(part, vector, overlay, hidden)
            for rank_in_part, scored in enumerate(scored_part):
                if weight * scored.score > best.get(scored.entry, 0.0):
                    best[scored.entry] = weight * scored.score
                    agreed[scored.entry] = part_agreed and rank_in_part == 0
        ranked = sorted((Scored(e, s) for e, s in best.items()), key=lambda s: (-s.score, s.entry))
        entries = tuple(s for s in ranked if not s.entry.startswith(TOPIC_PREFIX))[:TOP]
        topic = next((s for s in ranked if s.entry.startswith(TOPIC_PREFIX)), None)
        agreement = bool(entries) and agreed.get(entries[0].entry, False)
        taught_here = bool(entries) and overlay is not None and entries[0].entry in overlay.entry_position
        if topic is None or taught_here:
            return Ranking(entries, agreed=agreement)
        return Ranking(entries, Scored(topic.entry.removeprefix(TOPIC_PREFIX), topic.score), agreement)

    def _rank_part(self, text: str, vector: np.ndarray | None, overlay: PhrasingIndex | None,
                   hidden: frozenset[str]) -> tuple[list[Scored], bool]:
        cfg = self.settings
        query = self.index.correct(normalize(text), cfg.typo_similarity, overlay.frequency if overlay else ())
        tokens = self._query_tokens(query)
        layers = [self._layer(self.index, query[:MAX_FUZZY_CHARS], tokens)]
        if overlay is not None and len(overlay):
            layers.append(self._layer(overlay, query[:MAX_FUZZY_CHARS], tokens))
        if vector is not None:
            self._semantic(layers, vector, hidden)
        # One or two words embed unreliably ("squat" sits near "curtsy squat"): lean on the words.
        w = cfg.semantic_weight if len(tokens) > cfg.short_words else cfg.short_semantic_weight
        return self._top(layers, hidden, w if vector is not None else 0.0)

    def _query_tokens(self, query: str) -> list[str]:
        tokens = list(dict.fromkeys(query.split()))
        if len(tokens) > MAX_QUERY_TOKENS:  # keep the most informative words, in their order
            keep = set(heapq.nlargest(MAX_QUERY_TOKENS, tokens, key=self.index.weight))
            tokens = [token for token in tokens if token in keep]
        return tokens

    def _layer(self, index: PhrasingIndex, query: str, tokens: list[str]) -> _Layer:
        cfg = self.settings
        entries = len(index.entry_ids)
        share = index.coverage(tokens, self.index.weight) if tokens else np.zeros(len(index))
        factor = np.where(share > 0, cfg.coverage_floor + (1 - cfg.coverage_floor) * share, 0.0)
        starts, filled = index.segments()
        bound = np.zeros(entries)
        if len(starts):
            bound[filled] = 100.0 * np.maximum.reduceat(factor, starts)
        bonus_entries = index.keyword_entries(query) if bound.any() else set()
        for position in bonus_entries:
            bound[position] = min(100.0, bound[position] + cfg.keyword_bonus)
        return _Layer(index, query, factor, bonus_entries, bound, np.zeros(entries))

    def _semantic(self, layers: list[_Layer], vector: np.ndarray, hidden: frozenset[str]) -> None:
        """Fill each layer's per-entry semantic score (0-100) from the question's embedding.

        An entry's score is its closest phrasing's cosine, weighed by the share of the question's
        nearest phrasings (across every layer) that belong to it: a soft vote of the `neighbours`
        nearest phrasings, which separates close entries better than the single best phrasing."""
        cfg = self.settings
        sims = []
        for number, layer in enumerate(layers):
            if not layer.index.semantic or not len(layer.index):
                sims.append(np.zeros(0))
                continue
            phrasing_sims = layer.index.vectors()[0] @ vector
            if number == 0 and hidden:
                for entry_id in hidden:
                    if entry_id in layer.index.entry_position:
                        start, end = layer.index.span(layer.index.entry_position[entry_id])
                        phrasing_sims[start:end] = -1.0
            sims.append(phrasing_sims)
        pooled = np.concatenate(sims) if sims else np.zeros(0)
        if not len(pooled):
            return
        nearest = np.argpartition(-pooled, min(cfg.neighbours, len(pooled)) - 1)[: cfg.neighbours]
        weights = np.exp((pooled[nearest] - pooled[nearest].max()) / cfg.vote_temperature)
        weights /= weights.sum()
        offset = 0
        for number, layer in enumerate(layers):
            count = len(sims[number])
            if not count:
                continue
            share = np.zeros(len(layer.index.entry_ids))
            here = (nearest >= offset) & (nearest < offset + count)
            np.add.at(share, layer.index.owners[nearest[here] - offset], weights[here])
            starts, filled = layer.index.segments()
            best = np.full(len(layer.index.entry_ids), -1.0)
            best[filled] = np.maximum.reduceat(sims[number], starts)
            voted = best * (1 - cfg.vote_weight + cfg.vote_weight * share)
            documents = layer.index.vectors()[1] @ vector
            blended = cfg.phrasing_weight * voted + (1 - cfg.phrasing_weight) * documents
            layer.semantic = 100.0 * np.clip(blended, 0.0, 1.0)
            offset += count

    def _top(self, layers: list[_Layer], hidden: frozenset[str], w: float) -> tuple[list[Scored], bool]:
        """The `TOP` best entries by exact fused score, then the closest out-of-scope topic if it could
        matter; and whether the best entry is also the best by each scorer alone.

        Entries are scored exactly in order of an upper bound on their fused score (coverage bounds
        WRatio from above), stopping once no remaining bound can reach the top `TOP`."""
        exhaustive = any(layer.index.exhaustive for layer in layers)
        bounds = []
        for number, layer in enumerate(layers):
            bound = (1 - w) * layer.fuzzy_bound + w * layer.semantic
            bound[(layer.fuzzy_bound <= 0) & (layer.semantic <= 0)] = -np.inf
            bound[layer.index.topic_mask()] = -np.inf
            if number == 0:
                for entry_id in hidden:
                    position = layer.index.entry_position.get(entry_id)
                    if position is not None:
                        bound[position] = -np.inf
            bounds.append(bound)
        best: list[Scored] = []
        done: set[str] = set()
        parts: dict[str, tuple[float, float]] = {}
        stream = _descending(bounds)
        for chunk in _batches(stream, first=8):
            if not exhaustive and len(best) >= TOP and chunk[0][0] < best[TOP - 1].score:
                break
            ids = []
            for _, number, position in chunk:
                entry_id = layers[number].index.entry_ids[position]
                if entry_id not in done:
                    done.add(entry_id)
                    ids.append(entry_id)
            best.extend(s for s in self._exact(layers, ids, w, parts) if s.score > 0)
            best.sort(key=lambda s: (-s.score, s.entry))
            del best[TOP:]
        agreed = bool(best) and self._agrees(layers, bounds, best[0].entry, parts)
        floor = best[0].score - self.settings.out_of_scope_margin if best else 0.0
        curated = layers[0]
        topic_bound = (1 - w) * curated.fuzzy_bound + w * curated.semantic
        topics = [curated.index.entry_ids[i] for i in np.flatnonzero(curated.index.topic_mask())
                  if exhaustive or topic_bound[i] >= floor]
        closest = max(self._exact(layers[:1], topics, w, {}), key=lambda s: (s.score, s.entry), default=None)
        return best + ([closest] if closest is not None and closest.score > 0 else []), agreed

    @staticmethod
    def _agrees(layers: list[_Layer], bounds: list[np.ndarray], top: str,
                parts: dict[str, tuple[float, float]]) -> bool:
        """Whether `top` alone is best on fuzzy score and on meaning (ties and bounds count against it)."""
        top_fuzzy, top_semantic = parts[top]
        if any(fuzzy >= top_fuzzy or semantic >= top_semantic for e, (fuzzy, semantic) in parts.items() if e != top):
            return False
        for layer, bound in zip(layers, bounds, strict=True):
            others = np.isfinite(bound)
            others[[layer.index.entry_position[e] for e in parts if e in layer.index.entry_position]] = False
            if others.any() and (layer.semantic[others].max() >= top_semantic
                                 or layer.fuzzy_bound[others].max() >= top_fuzzy):
                return False
        return True

    def _exact(self, layers: list[_Layer], ids: list[str], w: float,
               parts: dict[str, tuple[float, float]]) -> list[Scored]:
        fuzzy_scores = dict.fromkeys(ids, 0.0)
        semantic = dict.fromkeys(ids, 0.0)
        for layer in layers:
            here = [(entry_id, layer.index.entry_position[entry_id]) for entry_id in ids
                    if entry_id in layer.index.entry_position]
            if not here:
                continue
            scores = layer.exact_fuzzy([position for _, position in here], self.settings.keyword_bonus)
            for (entry_id, position), fuzzy_score in zip(here, scores, strict=True):
                fuzzy_scores[entry_id] = max(fuzzy_scores[entry_id], float(fuzzy_score))
                semantic[entry_id] = max(semantic[entry_id], float(layer.semantic[position]))
        parts.update({e: (fuzzy_scores[e], semantic[e]) for e in ids})
        return [Scored(e, min(100.0, (1 - w) * fuzzy_scores[e] + w * semantic[e])) for e in ids]

    def decide(self, question: str, ranked: list[Scored], *, passive: bool = False) -> MatchResult:
        return decide(question, ranked, self.settings, passive=passive)


def decide(question: str, ranked: list[Scored], cfg: MatchSettings, *, passive: bool = False,
           out_of_scope: Scored | None = None, agreed: bool = False) -> MatchResult:
    """Answer when the best entry is over the bar with a clear lead, ask when it is close, else none.

    A question at least as close to a known out-of-scope subject as to the best entry gets none."""
    if not ranked:
        return MatchResult(question, "none", None, 0.0, out_of_scope=out_of_scope.entry if out_of_scope else None)
    top = ranked[0]
    if out_of_scope is not None and out_of_scope.score >= top.score - cfg.out_of_scope_margin:
        return MatchResult(question, "none", None, top.score, tuple(ranked[: cfg.max_alternatives]),
                           out_of_scope=out_of_scope.entry)
    runner_up = ranked[1].score if len(ranked) > 1 else 0.0
    alternatives = tuple(ranked[1 : 1 + cfg.max_alternatives])
    clear = top.score - runner_up >= cfg.margin or (agreed and top.score >= cfg.agreement_threshold)
    if top.score >= (cfg.passive_threshold if passive else cfg.answer_threshold) and clear:
        return MatchResult(question, "answer", top.entry, top.score, alternatives)
    if not passive and top.score >= cfg.clarify_threshold:
        close = tuple(s for s in ranked[1 : cfg.max_alternatives] if top.score - s.score < cfg.margin)
        return MatchResult(question, "clarify", top.entry, top.score, close)
    return MatchResult(question, "none", None, top.score, tuple(ranked[: cfg.max_alternatives]))


def _parts(question: str) -> list[str]:
    """The message as a whole, then (for a long one) its sentences that ask first, at most `MAX_SENTENCES`."""
    whole = question.strip()[:MAX_INPUT_CHARS]
    if not normalize(whole):
        return []
    sentences = [s.strip()[:MAX_PART_CHARS] for s in _SENTENCE_END.split(whole) if s and normalize(s)]
    if len(sentences) < 2:
        return [whole[:MAX_WHOLE_CHARS]]
    asking = [s for s in sentences if s.rstrip().endswith("?")]
    others = [s for s in sentences if not s.rstrip().endswith("?")]
    return [whole[:MAX_WHOLE_CHARS], *(asking + others)[:MAX_SENTENCES]]


def _descending(bounds: list[np.ndarray], first: int = 64) -> Iterator[tuple[float, int, int]]:
    """(bound, layer number, position) over every finite bound of every layer, highest first.

    Large layers are walked in chunks (a partial sort), because the walk usually stops early."""
    streams = []
    for number, bound in enumerate(bounds):
        live = np.flatnonzero(np.isfinite(bound))
        streams.append(_chunks(bound, live, number, first))
    yield from heapq.merge(*streams, key=lambda item: -item[0])


def _chunks(bound: np.ndarray, live: np.ndarray, number: int, size: int) -> Iterator[tuple[float, int, int]]:
    remaining = live
    while len(remaining):
        if len(remaining) > size:
            cut = np.argpartition(-bound[remaining], size - 1)
            chunk, remaining = remaining[cut[:size]], remaining[cut[size:]]
        else:
            chunk, remaining = remaining, remaining[:0]
        for position in chunk[np.argsort(-bound[chunk], kind="stable")]:
            yield float(bound[position]), number, int(position)
        size *= 4


def _batches(stream: Iterator[tuple[float, int, int]], first: int) -> Iterator[list[tuple[float, int, int]]]:
    """Consecutive lists from `stream`, growing in size: scoring many entries in one call is cheaper."""
    size = first
    while batch := list(itertools.islice(stream, size)):
        yield batch
        size = min(size * 2, 512)
