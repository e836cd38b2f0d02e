"""The matching quality floor reached on tests/eval (see README): it may rise, never fall."""

from pathlib import Path

from bot.engine.engine import Engine
from bot.engine.evaluate import evaluate, load_eval_set
from tests.conftest import PROJECT_ROOT

EVAL_SET = PROJECT_ROOT / "tests" / "eval" / "questions.yaml"


def test_shipped_knowledge_meets_the_floor_on_the_eval_set():
    report = evaluate(Engine.from_dir(Path(PROJECT_ROOT / "knowledge")), load_eval_set(EVAL_SET))
    figures = report.figures
    assert report.on_topic >= 140 and report.off_topic >= 60
    assert figures["on_topic_right"] >= 84.0, report.summary(verbose=True)
    assert figures["wrong_answer_rate"] <= 2.0, report.summary(verbose=True)
    assert figures["off_topic_answered_rate"] <= 5.0, report.summary(verbose=True)


def test_every_entry_is_covered_by_the_eval_set():
    labels = {item.expect for item in load_eval_set(EVAL_SET)}
    shipped = set(Engine.from_dir(PROJECT_ROOT / "knowledge").kb.entries)
    assert shipped <= labels, f"entries with no eval question: {sorted(shipped - labels)}"
