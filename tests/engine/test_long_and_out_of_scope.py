"""Long messages cost bounded work and are read sentence by sentence; known near misses stay unanswered."""

import random

from bot.engine.engine import Engine, Scope
from bot.engine.evaluate import _Compiled, load_eval_set, rank_all, score
from bot.engine.knowledge import validate_paths
from bot.engine.matcher import MAX_FUZZY_CHARS, MAX_QUERY_TOKENS, MAX_SENTENCES, MatchSettings, _parts
from bot.engine.schema import MythEntry
from tests.conftest import PROJECT_ROOT

SHIPPED = Engine.from_dir(PROJECT_ROOT / "knowledge")


def test_a_long_message_is_cut_to_a_bounded_amount_of_work():
    words = [w for text in SHIPPED.matcher.index.texts for w in text.split()]
    rng = random.Random(3)
    message = ". ".join(" ".join(rng.choices(words, k=12)) + "?" for _ in range(40))[:2000]
    parts = _parts(message)
    assert len(parts) <= 1 + MAX_SENTENCES
    for part in parts:
        query = SHIPPED.matcher.index.correct(part.lower(), 85.0)
        assert len(SHIPPED.matcher._query_tokens(query)) <= MAX_QUERY_TOKENS
    assert MAX_FUZZY_CHARS <= 300 and SHIPPED.ask(message).result.status in {"answer", "clarify", "none"}


def test_the_asking_sentence_of_a_story_is_heard():
    story = ("I've been going to the gym for a year and I love it. My friends all say different things. "
             "Everyone at work is on some diet. Does spot reduction actually work?")
    assert SHIPPED.ask(story).result.entry == "spot-reduction"


def test_a_question_closest_to_a_known_near_miss_gets_no_answer():
    result = SHIPPED.ask("when is the best time to take creatine")
    assert result.result.status == "none" and result.result.out_of_scope == "creatine"
    assert SHIPPED.ask("will squats fix my hip dips").result.out_of_scope is None


def test_a_guild_entry_on_a_near_miss_subject_answers_in_that_guild():
    entry = MythEntry(id="creatine-basics", title="When should I take creatine?", verdict="depends",
                      evidence="moderate", answer="Any time of day; consistency matters more than timing.",
                      questions=["when is the best time to take creatine", "creatine before or after workout"])
    result = SHIPPED.ask("when is the best time to take creatine", scope=Scope.of({entry.id: entry})).result
    assert (result.status, result.entry) == ("answer", "creatine-basics")


def test_an_out_of_scope_phrasing_that_an_entry_answers_is_refused(tmp_path):
    (tmp_path / "oos.yaml").write_text("out_of_scope:\n  - id: squatting\n    title: Squats\n    questions:\n"
                                       "      - will squats fix my hip dips\n", encoding="utf-8")
    _, problems = validate_paths([tmp_path / "oos.yaml"], base=SHIPPED.kb)
    assert [(p.line, "squats-hip-dips" in p.message) for p in problems] == [(5, True)]


def test_fast_threshold_scoring_agrees_with_the_decisions():
    questions = load_eval_set(PROJECT_ROOT / "tests" / "eval" / "questions.yaml")
    ranked = rank_all(SHIPPED, questions)
    compiled = _Compiled(ranked)
    rng = random.Random(5)
    for _ in range(40):
        answer = rng.uniform(40, 90)
        cfg = MatchSettings(answer_threshold=answer, clarify_threshold=answer - rng.uniform(5, 20),
                            margin=rng.choice([0, 2, 5, 8]), agreement_threshold=rng.choice([60, 70, 101]))
        slow = score(ranked, cfg).figures
        fast = compiled.figures(cfg)
        assert {k: round(v, 6) for k, v in fast.items()} == {k: round(slow[k], 6) for k in fast}


def test_phrasings_taught_in_a_guild_answer_there_for_curated_and_own_entries():
    question = "wtf is a hipdip exactly and why me"
    own = MythEntry(id="creatine-basics", title="Is creatine safe?", verdict="true", evidence="strong",
                    answer="Yes for healthy adults.", questions=["is creatine safe"])
    scope = Scope.of({own.id: own}, trained={"hip-dips-anatomy": [question],
                                             "creatine-basics": ["creatine kidneys worry"]})
    assert SHIPPED.ask(question).result.status != "answer"  # untaught, it only asks which entry
    assert SHIPPED.ask(question, scope=scope).result.entry == "hip-dips-anatomy"
    assert SHIPPED.ask("creatine kidneys worry", scope=scope).result.entry == "creatine-basics"
    hidden = Scope.of({}, hidden=frozenset({"hip-dips-anatomy"}), trained={"hip-dips-anatomy": [question]})
    assert SHIPPED.ask(question, scope=hidden).result.entry != "hip-dips-anatomy"
