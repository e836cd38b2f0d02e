"""The matching quality floors (see README "Matching quality"): they may rise, never fall.

The product matches with fused fuzzy + semantic scores; fuzzy alone is what runs without the
`semantic` extra. Real questions come from ../shared/eval (read in place, never copied)."""

import pytest
import yaml

from bot.engine.evaluate import cross_validate, load_eval_set, rank_all, score
from bot.engine.question_shape import looks_like_question
from bot.engine_setup import build_engine
from bot.settings import load_settings
from tests.conftest import PROJECT_ROOT

OWN = PROJECT_ROOT / "tests" / "eval" / "questions.yaml"
REAL = PROJECT_ROOT.parent / "shared" / "eval" / "real-questions.yaml"
CHATTER = PROJECT_ROOT / "tests" / "eval" / "chatter.yaml"


@pytest.fixture(scope="module")
def fused(tmp_path_factory):
    engine = build_engine(load_settings(data_dir=tmp_path_factory.mktemp("data")))
    if not engine.matcher.semantic:
        pytest.fail("the semantic extra is part of the test install; the product's matcher must be tested")
    return engine


@pytest.fixture(scope="module")
def fuzzy(tmp_path_factory):
    return build_engine(load_settings(data_dir=tmp_path_factory.mktemp("data"), semantic=False))


def figures(engine, path):
    ranked = rank_all(engine, load_eval_set(path))
    return score(ranked, engine.settings, str(path), engine.kb.entries)


def test_own_eval_set_floor(fused):
    report = figures(fused, OWN)
    f = report.figures
    assert report.clear >= 140 and report.off_topic >= 60
    assert f["direct_right"] >= 92.0 and f["wrong"] <= 1.5 and f["off_topic_answered"] <= 5.0, report.summary(True)


def test_real_questions_floor_cross_validated(fused):
    if not REAL.exists():
        pytest.skip("../shared/eval is not beside this checkout")
    own, real = rank_all(fused, load_eval_set(OWN)), rank_all(fused, load_eval_set(REAL))
    direct = score(real, fused.settings, "real", fused.kb.entries)
    assert not direct.unknown_labels, direct.unknown_labels
    assert direct.figures["direct_right"] >= 70.0, direct.summary(True)
    assert direct.figures["wrong"] <= 3.0 and direct.figures["off_topic_answered"] <= 5.0, direct.summary(True)
    crossed = cross_validate({"own": own, "real": real}, fused.settings)["real"].figures
    assert crossed["direct_right"] >= 70.0 and crossed["wrong"] <= 3.0 and crossed["off_topic_answered"] <= 5.0


def test_fuzzy_alone_keeps_its_floor(fuzzy):
    f = figures(fuzzy, OWN).figures
    assert f["direct_right"] >= 84.0 and f["wrong"] <= 2.0 and f["off_topic_answered"] <= 5.0


def test_passive_listening_stays_quiet_on_chatter_and_off_topic_questions(fused):
    quiet = yaml.safe_load(CHATTER.read_text(encoding="utf-8"))["chatter"]
    quiet += [item.question for item in load_eval_set(OWN) if item.off_topic]
    if REAL.exists():
        quiet += [item.question for item in load_eval_set(REAL) if item.off_topic]
    heard = [q for q in quiet if looks_like_question(q)]
    spoke = [q for q in heard if fused.ask(q, passive=True).result.status == "answer"]
    assert len(heard) >= 140
    assert len(spoke) * 200 <= len(heard), spoke  # at most 1 reply in 200


def test_passive_listening_still_answers_clear_questions(fused):
    clear = [i for i in load_eval_set(OWN) if not i.off_topic and looks_like_question(i.question)]
    right = [i for i in clear if (r := fused.ask(i.question, passive=True).result).status == "answer"
             and r.entry in i.accept]
    assert len(right) >= len(clear) // 2


def test_every_entry_is_covered_by_the_eval_set(fused):
    labels = {label for item in load_eval_set(OWN) for label in item.accept}
    assert set(fused.kb.entries) <= labels, f"entries with no eval question: {sorted(set(fused.kb.entries) - labels)}"
