from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine.engine import Scope
from bot.engine.matcher import Matcher, MatchSettings, Scored
from bot.engine.schema import MythEntry


def test_answers_a_close_phrasing_with_score_and_alternatives(fixture_engine):
    result = fixture_engine.ask("Will squats FIX my hipdips??").result
    assert (result.status, result.entry) == ("answer", "squats-hip-dips")
    assert result.score >= 90
    assert all(alt.entry != "squats-hip-dips" for alt in result.alternatives)


def test_tolerates_typos_slang_and_extra_words(fixture_engine):
    assert fixture_engine.ask("how much protien do u need a day to grow ur booty").result.entry == "protein-intake"
    assert fixture_engine.ask("clams form").result.entry == "clamshell"


def test_two_close_entries_ask_which_one(fixture_engine):
    result = fixture_engine.ask("squats").result
    assert result.status == "clarify"
    assert {result.entry, *(a.entry for a in result.alternatives)} == {"squats-hip-dips", "squats-glute-growth"}


def test_off_topic_and_empty_questions_get_none(fixture_engine):
    for question in ("what's the best creatine brand", "", "   ", "🔥🔥🔥", "hi"):
        result = fixture_engine.ask(question).result
        assert result.status == "none" and result.entry is None


def test_keyword_evidence_lifts_an_entry(fixture_kb):
    entries = list(fixture_kb.entries.values())
    with_bonus = Matcher(entries, MatchSettings(keyword_bonus=20)).match("spot reduction is it real")
    without = Matcher(entries, MatchSettings(keyword_bonus=0)).match("spot reduction is it real")
    assert with_bonus.entry == "spot-reduction" and with_bonus.score > without.score


def test_passive_listening_needs_a_higher_bar(fixture_kb):
    matcher = Matcher(fixture_kb.entries.values(), MatchSettings(answer_threshold=70, passive_threshold=99))
    question = "squats bigger hips"
    assert matcher.match(question).status == "answer"
    assert matcher.match(question, passive=True).status == "none"


def test_decision_thresholds_and_margin():
    matcher = Matcher([], MatchSettings(answer_threshold=70, clarify_threshold=50, margin=10))
    assert matcher.decide("q", [Scored("a", 90), Scored("b", 75)]).status == "answer"
    assert matcher.decide("q", [Scored("a", 90), Scored("b", 85)]).status == "clarify"
    assert matcher.decide("q", [Scored("a", 60)]).status == "clarify"
    assert matcher.decide("q", [Scored("a", 45)]).status == "none"
    assert matcher.decide("q", []).status == "none"


def test_retired_entries_are_never_answered(fixture_kb):
    retired = fixture_kb.entries["protein-intake"].model_copy(update={"retired": True})
    others = [e for e in fixture_kb.entries.values() if e.id != "protein-intake"]
    assert Matcher([*others, retired]).match("how much protein should i eat").entry != "protein-intake"


def test_a_guild_scope_adds_its_entries_and_hides_curated_ones(fixture_engine):
    guild_entry = MythEntry(id="creatine-basics", title="Is creatine safe?", verdict="true", evidence="strong",
                            answer="Yes for healthy adults.", questions=["is creatine safe", "should i take creatine"])
    scope = Scope.of({"creatine-basics": guild_entry}, hidden=frozenset({"protein-intake"}))
    reply = fixture_engine.ask("should I take creatine?", scope=scope)
    assert reply.result.entry == "creatine-basics" and reply.view.title == "Is creatine safe?"
    assert fixture_engine.ask("should I take creatine?").result.status == "none"  # other guilds don't see it
    assert fixture_engine.ask("how much protein should i eat", scope=scope).result.entry != "protein-intake"


def test_json_shape(fixture_engine):
    data = fixture_engine.ask("will squats fix my hip dips").result.to_dict()
    assert set(data) == {"question", "status", "entry", "score", "alternatives"}
    assert all(set(alt) == {"entry", "score"} for alt in data["alternatives"])


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=500))
def test_matching_is_total_and_deterministic(fixture_engine, text):
    first = fixture_engine.ask(text).result
    assert first == fixture_engine.ask(text).result
    assert first.status in {"answer", "clarify", "none"} and 0 <= first.score <= 100
