"""Score the matcher on labelled question sets, and tune its thresholds honestly (cross-validated).

Two file formats are read: the project's own (`questions: [{q, expect, also}]`, `expect: none` for
off topic) and the shared real-question set (a list of `{text, accept, lenient, off_topic}`).

Figures, per set: **direct right** (answered with an accepted entry) on clear on-topic questions
(those not marked lenient), **right or offered** (direct right, or "did you mean" offering an accepted
entry), **wrong** (answered with an entry not accepted, over all on-topic questions), **off-topic
answered**. Ranking does not depend on the thresholds, so each question is ranked once and every
threshold choice is scored on the same rankings.
"""

import itertools
import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bot.engine.matcher import MatchSettings, Ranking, decide
from bot.engine.yamlsafe import Problem, YamlRefused, parse_yaml, read_limited

if TYPE_CHECKING:
    from bot.engine.engine import Engine

OFF_TOPIC = "none"


@dataclass(frozen=True)
class Labelled:
    question: str
    accept: tuple[str, ...] = ()  # best first; empty means off topic
    lenient: bool = False  # lacks context: abstaining or asking is fine, a wrong answer is not

    @property
    def off_topic(self) -> bool:
        return not self.accept

    @property
    def expect(self) -> str:
        return self.accept[0] if self.accept else OFF_TOPIC


def _row(i: int, row: object) -> Labelled:
    if isinstance(row, dict) and isinstance(row.get("q"), str) and isinstance(row.get("expect"), str):
        accept = () if row["expect"] == OFF_TOPIC else (row["expect"], *(row.get("also") or ()))
        return Labelled(row["q"], tuple(accept))
    if isinstance(row, dict) and isinstance(row.get("text"), str):
        accept = () if row.get("off_topic") else tuple(row.get("accept") or ())
        if not accept and not row.get("off_topic"):
            raise ValueError(f"question {i}: needs 'accept' ids or 'off_topic: true'")
        return Labelled(row["text"], accept, bool(row.get("lenient")))
    raise ValueError(f"question {i}: needs 'q' and 'expect', or 'text' and 'accept'")


class EvalSetError(ValueError):
    """A labelled question set that cannot be used; `str()` is `file:line: message`."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        self.problem = Problem(str(path), line, message)
        super().__init__(str(self.problem))


def load_eval_set(path: Path) -> list[Labelled]:
    """The labelled questions in `path` (either format); raises `EvalSetError` naming file and line."""
    try:
        parsed = parse_yaml(read_limited(path))
    except YamlRefused as refusal:
        raise EvalSetError(path, refusal.line, refusal.message) from None
    except OSError as exc:
        raise EvalSetError(path, 1, f"cannot read file: {exc.strerror or exc}") from None
    data = parsed.data
    nested = isinstance(data, dict)
    rows = data.get("questions") if isinstance(data, dict) else data
    if not isinstance(rows, list):
        raise EvalSetError(path, 1, "expected a list of questions, or a mapping with a 'questions' list")
    labelled = []
    for i, row in enumerate(rows):
        try:
            labelled.append(_row(i, row))
        except ValueError as exc:
            raise EvalSetError(path, parsed.line_of(("questions", i) if nested else (i,)), str(exc)) from None
    return labelled


@dataclass
class Report:
    name: str = ""
    clear: int = 0
    on_topic: int = 0
    off_topic: int = 0
    right: int = 0
    offered: int = 0
    wrong: int = 0
    clarified: int = 0
    off_topic_answered: int = 0
    misses: list[str] = field(default_factory=list)
    unknown_labels: set[str] = field(default_factory=set)

    @staticmethod
    def rate(count: int, of: int) -> float:
        return 100.0 * count / of if of else 0.0

    @property
    def figures(self) -> dict[str, float]:
        return {
            "direct_right": self.rate(self.right, self.clear),
            "right_or_offered": self.rate(self.offered, self.clear),
            "wrong": self.rate(self.wrong, self.on_topic),
            "off_topic_answered": self.rate(self.off_topic_answered, self.off_topic),
            "clarify": self.rate(self.clarified, self.on_topic),
        }

    def add(self, other: "Report") -> None:
        for name in ("clear", "on_topic", "off_topic", "right", "offered", "wrong", "clarified",
                     "off_topic_answered"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def to_dict(self) -> dict[str, object]:
        counts = {"questions": self.on_topic + self.off_topic, "clear_on_topic": self.clear,
                  "on_topic": self.on_topic, "off_topic": self.off_topic}
        return {"set": self.name, **counts, **{k: round(v, 1) for k, v in self.figures.items()}}

    def summary(self, verbose: bool = False) -> str:
        f = self.figures
        lines = [
            f"{self.name}: {self.on_topic + self.off_topic} questions ({self.clear} clear and "
            f"{self.on_topic - self.clear} vague on topic, {self.off_topic} off topic)",
            f"  direct right (clear questions):  {f['direct_right']:5.1f}%  ({self.right}/{self.clear})",
            f"  right or offered:                {f['right_or_offered']:5.1f}%  ({self.offered}/{self.clear})",
            f"  wrong answers:                   {f['wrong']:5.1f}%  ({self.wrong}/{self.on_topic})",
            f"  off-topic answered:              {f['off_topic_answered']:5.1f}%  "
            f"({self.off_topic_answered}/{self.off_topic})",
        ]
        if self.unknown_labels:
            lines.append(f"  labels naming no entry: {', '.join(sorted(self.unknown_labels))}")
        if verbose and self.misses:
            lines += ["", *self.misses]
        return "\n".join(lines)


@dataclass(frozen=True)
class Ranked:
    item: Labelled
    ranking: Ranking


def rank_all(engine: "Engine", questions: Iterable[Labelled]) -> list[Ranked]:
    return [Ranked(item, engine.matcher.rank(item.question)) for item in questions]


def score(ranked: Sequence[Ranked], cfg: MatchSettings, name: str = "", known: Iterable[str] = ()) -> Report:
    report = Report(name)
    known = set(known)
    for row in ranked:
        item = row.item
        result = decide(item.question, list(row.ranking.entries), cfg, out_of_scope=row.ranking.out_of_scope,
                        agreed=row.ranking.agreed)
        got = f"{result.status} {result.entry} {result.score:.0f}"
        if item.off_topic:
            report.off_topic += 1
            if result.status == "answer":
                report.off_topic_answered += 1
                report.misses.append(f"  OFF-TOPIC ANSWERED {item.question[:120]!r} -> {got}")
            continue
        report.on_topic += 1
        report.clear += not item.lenient
        if known:
            report.unknown_labels |= set(item.accept) - known
        options = {result.entry, *(alt.entry for alt in result.alternatives)}
        if result.status == "answer" and result.entry in item.accept:
            report.right += not item.lenient
            report.offered += not item.lenient
            continue
        if result.status == "answer":
            report.wrong += 1
            tag = "WRONG"
        elif result.status == "clarify":
            report.clarified += 1
            report.offered += (not item.lenient) and bool(options & set(item.accept))
            tag = "CLARIFY"
        else:
            tag = "NONE"
        if item.lenient and result.status != "answer":
            continue
        report.misses.append(f"  {tag} {item.question[:120]!r} expected {item.expect} -> {got}")
    return report


def evaluate(engine: "Engine", questions: list[Labelled], name: str = "") -> Report:
    return score(rank_all(engine, questions), engine.settings, name, engine.kb.entries)


# -- tuning -------------------------------------------------------------------------------------------

ANSWER_GRID = tuple(float(t) for t in range(40, 90))
MARGIN_GRID = (0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 10.0)
CLARIFY_OFFSET_GRID = (6.0, 10.0, 14.0, 18.0, 22.0)
AGREEMENT_GRID = (101.0, 60.0, 64.0, 68.0, 72.0, 76.0)
WRONG_BUDGET, OFF_TOPIC_BUDGET = 2.0, 3.0


def objective(figures: dict[str, float]) -> float:
    """Direct right answers, with wrong answers and answered off-topic questions costing far more past a budget."""
    f = figures
    over = max(0.0, f["wrong"] - WRONG_BUDGET) + max(0.0, f["off_topic_answered"] - OFF_TOPIC_BUDGET)
    return f["direct_right"] + 0.2 * f["right_or_offered"] - f["wrong"] - 0.7 * f["off_topic_answered"] - 4 * over


class _Compiled:
    """One set's rankings as arrays, so thousands of threshold choices are scored in a blink.

    It mirrors `score` (a test keeps the two equal)."""

    def __init__(self, ranked: Sequence[Ranked]) -> None:
        n = len(ranked)
        self.scores = np.zeros((n, 3))
        self.accepted = np.zeros((n, 3), dtype=bool)
        self.topic = np.full(n, -1.0)
        for i, row in enumerate(ranked):
            for j, scored in enumerate(row.ranking.entries[:3]):
                self.scores[i, j] = scored.score
                self.accepted[i, j] = scored.entry in row.item.accept
            if row.ranking.out_of_scope is not None:
                self.topic[i] = row.ranking.out_of_scope.score
        self.off = np.array([row.item.off_topic for row in ranked], dtype=bool)
        self.lenient = np.array([row.item.lenient for row in ranked], dtype=bool)
        self.present = np.array([bool(row.ranking.entries) for row in ranked], dtype=bool)
        self.agreed = np.array([row.ranking.agreed for row in ranked], dtype=bool)

    def figures(self, cfg: MatchSettings) -> dict[str, float]:
        top, lead = self.scores[:, 0], self.scores[:, 0] - self.scores[:, 1]
        blocked = self.topic >= top - cfg.out_of_scope_margin
        open_ = self.present & ~blocked
        clear_lead = (lead >= cfg.margin) | (self.agreed & (top >= cfg.agreement_threshold))
        answered = open_ & (top >= cfg.answer_threshold) & clear_lead
        asked = open_ & ~answered & (top >= cfg.clarify_threshold)
        close = self.scores[:, 0:1] - self.scores[:, 1:3] < cfg.margin
        offers = self.accepted[:, 0] | (self.accepted[:, 1:3] & close & (self.scores[:, 1:3] > 0)).any(axis=1)
        on, clear = ~self.off, ~self.off & ~self.lenient
        right = answered & self.accepted[:, 0]

        def rate(mask: np.ndarray, of: np.ndarray) -> float:
            return 100.0 * int(mask.sum()) / int(of.sum()) if of.any() else 0.0

        return {"direct_right": rate(right & clear, clear),
                "right_or_offered": rate((right | (asked & offers)) & clear, clear),
                "wrong": rate(answered & ~self.accepted[:, 0] & on, on),
                "off_topic_answered": rate(answered & self.off, self.off)}


def tune(sets: Sequence[Sequence[Ranked]], base: MatchSettings) -> MatchSettings:
    """The thresholds that do best on all `sets` together (each set weighs the same)."""
    compiled = [_Compiled(ranked) for ranked in sets if ranked]
    best, best_value = base, float("-inf")
    agreement = AGREEMENT_GRID if base.semantic_weight > 0 else (base.agreement_threshold,)
    for answer, margin, offset, agree in itertools.product(ANSWER_GRID, MARGIN_GRID, CLARIFY_OFFSET_GRID, agreement):
        cfg = replace(base, answer_threshold=answer, margin=margin, clarify_threshold=answer - offset,
                      agreement_threshold=max(agree, answer))
        value = sum(objective(c.figures(cfg)) for c in compiled)
        if value > best_value:
            best, best_value = cfg, value
    return best


def cross_validate(sets: dict[str, list[Ranked]], base: MatchSettings, folds: int = 5,
                   seed: int = 0) -> dict[str, Report]:
    """Each set's figures with thresholds tuned without the questions they are measured on."""
    rng = random.Random(seed)
    split = {}
    for name, ranked in sets.items():
        order = list(range(len(ranked)))
        rng.shuffle(order)
        split[name] = [set(order[k::folds]) for k in range(folds)]
    pooled = {name: Report(f"{name} (cross-validated)") for name in sets}
    for k in range(folds):
        train = [[r for i, r in enumerate(ranked) if i not in split[name][k]] for name, ranked in sets.items()]
        cfg = tune(train, base)
        for name, ranked in sets.items():
            pooled[name].add(score([r for i, r in enumerate(ranked) if i in split[name][k]], cfg))
    return pooled


def as_json(reports: Iterable[Report]) -> str:
    return json.dumps([report.to_dict() for report in reports])
