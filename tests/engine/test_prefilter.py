"""The inverted-index prefilter changes no decision: it skips only phrasings that share no word."""

from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.generate import generate
from bot.engine.engine import Engine
from bot.engine.evaluate import load_eval_set
from bot.engine.knowledge import load_knowledge
from tests.conftest import PROJECT_ROOT

QUESTIONS = [item.question for item in load_eval_set(PROJECT_ROOT / "tests" / "eval" / "questions.yaml")]


def decisions(engine, questions, exhaustive):
    engine.matcher.index.exhaustive = exhaustive
    try:
        return [engine.ask(q).result for q in questions]
    finally:
        engine.matcher.index.exhaustive = False


def test_same_decisions_on_the_shipped_base_and_eval_questions():
    engine = Engine.from_dir(PROJECT_ROOT / "knowledge")
    assert decisions(engine, QUESTIONS, exhaustive=False) == decisions(engine, QUESTIONS, exhaustive=True)


def test_same_decisions_on_a_generated_base(tmp_path):
    engine = Engine(load_knowledge(generate(tmp_path / "kb", phrasings=3000)))
    probes = QUESTIONS[:80] + [text for text in engine.matcher.index.texts[:200:5]]
    assert decisions(engine, probes, exhaustive=False) == decisions(engine, probes, exhaustive=True)


SHIPPED = Engine.from_dir(PROJECT_ROOT / "knowledge")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from([*sorted(SHIPPED.matcher.index.vocabulary), "keto", "creatin", "xyz"]), max_size=8))
def test_same_decisions_on_any_mix_of_known_words(words):
    question = " ".join(words)
    assert decisions(SHIPPED, [question], False) == decisions(SHIPPED, [question], True)


class HashEmbedder:
    """Deterministic stand-in vectors: the pruning logic is under test here, not the model."""

    def embed(self, texts):
        import hashlib

        import numpy as np

        rows = []
        for text in texts:
            rng = np.random.default_rng(int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big"))
            vector = rng.normal(size=384).astype(np.float32)
            rows.append(vector / np.linalg.norm(vector))
        return np.stack(rows) if rows else np.zeros((0, 384), np.float32)


def test_fused_ranking_equals_an_exhaustive_scan_on_a_zipf_like_base(tmp_path):
    from bot.engine.matcher import FUSED_DEFAULTS

    base = load_knowledge(generate(tmp_path / "kb", phrasings=3000, zipf=True))
    engine = Engine(base, FUSED_DEFAULTS, HashEmbedder())
    probes = QUESTIONS[:60] + [text for text in engine.matcher.index.texts[:300:10]]

    def rankings(exhaustive):
        engine.matcher.index.exhaustive = exhaustive
        try:
            return [engine.matcher.rank(q) for q in probes]
        finally:
            engine.matcher.index.exhaustive = False

    assert rankings(False) == rankings(True)
