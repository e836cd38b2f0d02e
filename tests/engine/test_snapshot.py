"""A restart with unchanged knowledge loads the built engine from disk; any change rebuilds."""

import json
import logging
import shutil

from bot.engine import snapshot
from bot.engine.engine import Engine
from bot.engine.evaluate import load_eval_set
from bot.engine.knowledge import load_knowledge
from bot.engine.matcher import FUSED_DEFAULTS
from tests.conftest import FIXTURE_KB, PROJECT_ROOT
from tests.engine.test_prefilter import HashEmbedder

QUESTIONS = [item.question for item in load_eval_set(PROJECT_ROOT / "tests" / "eval" / "questions.yaml")]


def built_and_restored(knowledge, cache, embedder=None):
    key = snapshot.fingerprint(knowledge, "test" if embedder else None)
    built = Engine(load_knowledge(knowledge), FUSED_DEFAULTS if embedder else None, embedder)
    snapshot.save(built.kb, built.matcher.index, cache, key)
    kb, index = snapshot.load(cache, key, embedder)
    return built, Engine(kb, built.settings, embedder, index)


def test_a_restored_engine_answers_exactly_like_a_built_one(tmp_path):
    built, restored = built_and_restored(PROJECT_ROOT / "knowledge", tmp_path)
    assert [restored.ask(q).result for q in QUESTIONS] == [built.ask(q).result for q in QUESTIONS]
    assert restored.view("fat-grafting-bbl") == built.view("fat-grafting-bbl")
    assert restored.find_exercise("clams") == built.find_exercise("clams")


def test_a_restored_semantic_engine_ranks_exactly_like_a_built_one(tmp_path):
    built, restored = built_and_restored(FIXTURE_KB, tmp_path, HashEmbedder())
    questions = ["will squats fix my hip dips", "how much protein", "clamshell form"]
    assert [restored.matcher.rank(q) for q in questions] == [built.matcher.rank(q) for q in questions]


def test_an_entry_added_after_a_restore_is_indexed(tmp_path):
    _, restored = built_and_restored(FIXTURE_KB, tmp_path)
    protein = restored.kb.entries["protein-intake"]
    entry = protein.model_copy(update={"id": "protein-2", "questions": ["whey or casein"]})
    restored.matcher.index.add(entry)
    assert restored.matcher.match("whey or casein").entry == "protein-2"


def test_changing_a_knowledge_file_changes_the_key(tmp_path):
    knowledge = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, knowledge)
    before = snapshot.fingerprint(knowledge, None)
    assert snapshot.fingerprint(knowledge, None) == before
    assert snapshot.fingerprint(knowledge, "model") != before
    path = knowledge / "myths.yaml"
    path.write_text(path.read_text() + "\n", encoding="utf-8")
    assert snapshot.fingerprint(knowledge, None) != before


def test_a_damaged_or_foreign_snapshot_is_ignored(tmp_path, caplog):
    key = snapshot.fingerprint(FIXTURE_KB, None)
    built_and_restored(FIXTURE_KB, tmp_path)
    meta = tmp_path / f"engine-{key}.json"
    data = json.loads(meta.read_text())
    data["entries"][0]["evidence"] = "certain"
    meta.write_text(json.dumps(data))
    kb, _ = snapshot.load(tmp_path, key, None)
    try:  # entries are validated when first read, as any input is
        kb.entries[data["entries"][0]["id"]]
        raise AssertionError("a tampered entry was accepted")
    except ValueError:
        pass
    meta.write_text("{not json")
    with caplog.at_level(logging.WARNING):
        assert snapshot.load(tmp_path, key, None) is None
    assert "damaged engine snapshot" in caplog.text
    built_and_restored(FIXTURE_KB, tmp_path)
    assert snapshot.load(tmp_path, key, HashEmbedder()) is None  # made without the semantic scorer
