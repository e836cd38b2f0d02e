"""The semantic scorer: a faithful tokenizer, a pinned model, a disk cache for knowledge only, and
fusion that finds what members mean when they share no words with a phrasing."""

import hashlib
import json
import sqlite3

import numpy as np
import pytest

from bot.engine.embeddings import SemanticUnavailable, check_model, shared_embedder
from bot.engine.engine import Engine, Scope
from bot.engine.matcher import FUSED_DEFAULTS
from bot.engine.schema import MythEntry
from bot.engine.vector_cache import CachedEmbedder
from bot.engine.wordpiece import WordPiece
from tests.conftest import PROJECT_ROOT

GOLDEN = json.loads((PROJECT_ROOT / "tests" / "fixtures" / "wordpiece-golden.json").read_text(encoding="utf-8"))


def test_wordpiece_gives_the_reference_tokenizers_ids():
    # Recorded with tokenizers.BertWordPieceTokenizer(vocab, lowercase=True), truncation 256: accents,
    # CJK, emoji, zero-width and control characters, full-width letters, long input.
    tokenizer = WordPiece()
    assert [tokenizer.encode(case["text"]) for case in GOLDEN] == [case["ids"] for case in GOLDEN]


def test_a_model_file_that_is_not_the_pinned_one_is_refused(tmp_path):
    wrong_size = tmp_path / "small.onnx"
    wrong_size.write_bytes(b"not a model")
    with pytest.raises(SemanticUnavailable, match="bytes, expected"):
        check_model(wrong_size)
    tampered = tmp_path / "tampered.onnx"
    tampered.write_bytes(b"\0" * 64)
    with pytest.raises(SemanticUnavailable, match="sha256"):
        check_model(tampered, size=64)
    genuine = tmp_path / "genuine.onnx"
    genuine.write_bytes(b"\1" * 64)
    assert check_model(genuine, size=64, sha256=hashlib.sha256(b"\1" * 64).hexdigest()) == genuine


@pytest.fixture(scope="module")
def embedder():
    try:
        return shared_embedder()
    except SemanticUnavailable as exc:
        pytest.skip(f"semantic extra not installed: {exc}")


def test_embeddings_are_unit_vectors_that_put_paraphrases_close(embedder):
    vectors = embedder.embed(["will squats fix my hip dips", "can squatting get rid of hip dents",
                              "how much protein should I eat a day"])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


def test_batches_give_the_same_vectors_as_one_text_at_a_time(embedder):
    texts = ["short", "a somewhat longer question about glutes", "short", "another question of six words"]
    together = embedder.embed(texts)
    alone = np.stack([embedder.embed([text])[0] for text in texts])
    assert np.allclose(together, alone, atol=1e-5)


class Counting:
    def __init__(self, inner):
        self.inner, self.texts = inner, []

    def embed(self, texts):
        self.texts += list(texts)
        return self.inner.embed(texts)


def test_knowledge_is_embedded_once_and_members_questions_never_reach_the_cache(embedder, fixture_kb, tmp_path):
    counting = Counting(embedder)
    cache = tmp_path / "embeddings.sqlite3"
    Engine(fixture_kb, embedder=CachedEmbedder(counting, cache, "test-model"))
    embedded_first = len(counting.texts)
    engine = Engine(fixture_kb, embedder=CachedEmbedder(counting, cache, "test-model"))
    assert embedded_first > 0 and len(counting.texts) == embedded_first  # a restart embeds nothing again
    engine.ask("my private question about hip dips")
    assert counting.texts[-1] == "my private question about hip dips"  # embedded, but not stored
    stored = sqlite3.connect(cache).execute("SELECT COUNT(*) FROM vectors").fetchone()[0]
    assert stored == embedded_first


def test_fusion_finds_the_meaning_when_no_word_is_shared(embedder, fixture_kb):
    fused = Engine(fixture_kb, FUSED_DEFAULTS, embedder)
    question = "is it possible to slim down one particular body part by exercising it"
    assert fused.ask(question).result.entry == "spot-reduction"
    assert fused.ask("what's the best creatine brand").result.status != "answer"


def test_a_guild_entry_is_embedded_with_its_scope_and_answers_there_only(embedder, fixture_kb):
    fused = Engine(fixture_kb, FUSED_DEFAULTS, embedder)
    entry = MythEntry(id="creatine-basics", title="Is creatine safe?", verdict="true", evidence="strong",
                      answer="Yes for healthy adults.", questions=["is creatine safe", "should i take creatine"])
    scope = Scope.of({"creatine-basics": entry})
    assert fused.ask("would creatine harm a healthy adult", scope=scope).result.entry == "creatine-basics"
    assert fused.ask("would creatine harm a healthy adult").result.entry != "creatine-basics"


def test_a_broken_cache_file_only_costs_the_cache(embedder, tmp_path, caplog):
    bad = tmp_path / "embeddings.sqlite3"
    bad.write_bytes(b"this is not a database" * 100)
    cached = CachedEmbedder(embedder, bad, "test-model")
    assert cached.embed(["hip dips"]).shape == (1, 384)
    assert "embedding cache" in caplog.text
