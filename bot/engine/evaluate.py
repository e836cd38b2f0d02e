"""Score the matcher on a labelled question set: how often it answers right, wrong, or off topic."""

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bot.engine.yamlsafe import Problem, YamlRefused, parse_yaml, read_limited

OFF_TOPIC = "none"


@dataclass(frozen=True)
class Labelled:
    question: str
    expect: str
    also: frozenset[str] = frozenset()

    @property
    def acceptable(self) -> frozenset[str]:
        return self.also | {self.expect}


class EvalSetError(ValueError):
    """A labelled question set that cannot be used; `str()` is `file:line: message`."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        self.problem = Problem(str(path), line, message)
        super().__init__(str(self.problem))


def load_eval_set(path: Path) -> list[Labelled]:
    """The labelled questions in `path`; raises `EvalSetError` naming file and line."""
    try:
        parsed = parse_yaml(read_limited(path))
    except YamlRefused as refusal:
        raise EvalSetError(path, refusal.line, refusal.message) from None
    except OSError as exc:
        raise EvalSetError(path, 1, f"cannot read file: {exc.strerror or exc}") from None
    data = parsed.data
    rows = data.get("questions") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise EvalSetError(path, 1, "expected a mapping with a 'questions' list")
    labelled = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or not isinstance(row.get("q"), str) or not isinstance(row.get("expect"), str):
            raise EvalSetError(path, parsed.line_of(("questions", i)), f"question {i}: needs 'q' and 'expect' strings")
        labelled.append(Labelled(row["q"], row["expect"], frozenset(row.get("also") or ())))
    return labelled


@dataclass
class Report:
    on_topic: int = 0
    off_topic: int = 0
    right: int = 0
    wrong: int = 0
    clarified: int = 0
    clarified_with_right_option: int = 0
    missed: int = 0
    off_topic_answered: int = 0
    misses: list[str] = field(default_factory=list)
    unknown_labels: Counter = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return self.on_topic + self.off_topic

    def rate(self, count: int, of: int) -> float:
        return 100.0 * count / of if of else 0.0

    @property
    def figures(self) -> dict[str, float]:
        return {
            "accuracy": self.rate(self.right + self.off_topic - self.off_topic_answered, self.total),
            "on_topic_right": self.rate(self.right, self.on_topic),
            "wrong_answer_rate": self.rate(self.wrong, self.on_topic),
            "off_topic_answered_rate": self.rate(self.off_topic_answered, self.off_topic),
            "clarify_rate": self.rate(self.clarified, self.on_topic),
        }

    def to_json(self) -> str:
        return json.dumps({"questions": self.total, "on_topic": self.on_topic, "off_topic": self.off_topic,
                           **{k: round(v, 1) for k, v in self.figures.items()}})

    def summary(self, verbose: bool = False) -> str:
        f = self.figures
        lines = [
            f"questions: {self.total} ({self.on_topic} on topic, {self.off_topic} off topic)",
            f"accuracy (right answer, or silence off topic): {f['accuracy']:.1f}%",
            f"on-topic answered right: {f['on_topic_right']:.1f}%  ({self.right}/{self.on_topic})",
            f"wrong answers: {f['wrong_answer_rate']:.1f}%  ({self.wrong}/{self.on_topic})",
            f"off-topic answered: {f['off_topic_answered_rate']:.1f}%  ({self.off_topic_answered}/{self.off_topic})",
            f"asked 'did you mean': {f['clarify_rate']:.1f}%  ({self.clarified}, "
            f"{self.clarified_with_right_option} offering the right entry); no answer: {self.missed}",
        ]
        if self.unknown_labels:
            lines.append(f"labels naming no entry: {dict(self.unknown_labels)}")
        if verbose and self.misses:
            lines += ["", "misses:", *self.misses]
        return "\n".join(lines)


def evaluate(engine, questions: list[Labelled]) -> Report:
    report = Report()
    for item in questions:
        result = engine.ask(item.question).result
        got = f"{result.status} {result.entry} {result.score:.0f}"
        if item.expect == OFF_TOPIC:
            report.off_topic += 1
            if result.status == "answer":
                report.off_topic_answered += 1
                report.misses.append(f"  OFF-TOPIC ANSWERED {item.question!r} -> {got}")
            continue
        report.on_topic += 1
        for label in item.acceptable - set(engine.kb.entries):
            report.unknown_labels[label] += 1
        if result.status == "answer" and result.entry in item.acceptable:
            report.right += 1
        elif result.status == "answer":
            report.wrong += 1
            report.misses.append(f"  WRONG {item.question!r} expected {item.expect} -> {got}")
        elif result.status == "clarify":
            report.clarified += 1
            options = {result.entry, *(alt.entry for alt in result.alternatives)}
            report.clarified_with_right_option += bool(options & item.acceptable)
            report.misses.append(f"  CLARIFY {item.question!r} expected {item.expect} -> {got} "
                                 f"{[a.entry for a in result.alternatives]}")
        else:
            report.missed += 1
            report.misses.append(f"  NONE {item.question!r} expected {item.expect} -> {got}")
    return report
