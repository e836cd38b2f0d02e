"""One view of the knowledge per server: what it hides, retires or adds is seen the same way by every lookup."""

from bot.engine.engine import Engine, Scope
from bot.engine.schema import ExerciseEntry, MythEntry
from tests.conftest import PROJECT_ROOT

SHIPPED = Engine.from_dir(PROJECT_ROOT / "knowledge")
OWN_MYTH = MythEntry(id="creatine-basics", title="Is creatine safe?", verdict="true", evidence="strong",
                     answer="Yes for healthy adults.", questions=["is creatine safe for healthy adults"])
OWN_EXERCISE = ExerciseEntry(id="frog-pump", title="Frog pump", questions=["how do i do frog pumps"],
                             evidence="limited", summary="A short-range glute bridge with the soles together.",
                             muscles=["glute max"], steps=["Lie on your back, soles together.", "Squeeze up."],
                             evidence_summary="No study measured it.")
RETIRED = OWN_MYTH.model_copy(update={"id": "old-myth", "title": "An old myth", "retired": True,
                                      "questions": ["an old retired question"]})


def server():
    hidden = frozenset({"clamshell", "spot-reduction", "side-plank-abduction"})
    scope = Scope.of({e.id: e for e in (OWN_MYTH, OWN_EXERCISE, RETIRED)}, hidden=hidden)
    return SHIPPED.for_guild(scope)


def test_every_lookup_agrees_on_what_the_server_sees():
    here = server()
    for gone in ("clamshell", "spot-reduction", "old-myth"):
        assert here.entry(gone) is None and here.view(gone) is None
        assert gone not in {e.id for e in here.entries()}
        assert gone not in {entry_id for entry_id, _ in here.myth_choices("")}
        assert gone not in {c.entry for c in here.exercise_choices("")}
        assert here.titles([gone]) == []
    assert here.find_exercise("clamshell") is None and SHIPPED.for_guild(None).find_exercise("clamshell") is not None
    assert here.ask("does spot reduction work").result.entry != "spot-reduction"
    for added in (OWN_MYTH.id, OWN_EXERCISE.id):
        assert here.entry(added) is not None and here.view(added) is not None
    assert ("creatine-basics", "Is creatine safe?") in here.myth_choices("creatine")
    assert here.exercise_choices("frog pump")[0].entry == "frog-pump"
    assert here.find_exercise("frog pump").id == "frog-pump" and here.find_exercise("frog-pump").id == "frog-pump"
    assert {e.id for e in here.exercises()} >= {"frog-pump", "hip-thrust"}


def test_other_servers_and_dms_see_only_the_curated_base():
    elsewhere = SHIPPED.for_guild(None)
    assert elsewhere.entry("creatine-basics") is None and elsewhere.entry("clamshell") is not None
    assert "creatine-basics" not in {entry_id for entry_id, _ in elsewhere.myth_choices("creatine")}


def test_autocomplete_reads_a_bounded_part_of_what_was_typed():
    typed = "creatine " * 700  # Discord sends up to 6,000 characters
    assert server().myth_choices(typed)[0][0] == "creatine-basics"
    assert len(server().exercise_choices(typed, limit=5)) <= 5


def test_related_exercises_follow_what_the_server_sees():
    view = SHIPPED.for_guild(None).view("squats-hip-dips")
    everywhere = SHIPPED.for_guild(None).related_exercises(view)
    here = server().related_exercises(view)
    assert "Side plank with hip abduction" in everywhere and "Side plank with hip abduction" not in here
    assert "Side-lying hip abduction" in here


def test_an_entrys_related_links_leave_out_what_the_server_hides():
    related = {entry_id for entry_id, _ in server().view("squats-hip-dips").related}
    assert "side-plank-abduction" not in related and "side-lying-hip-abduction" in related
    everywhere = SHIPPED.for_guild(None).view("squats-hip-dips").related
    assert "side-plank-abduction" in {entry_id for entry_id, _ in everywhere}


def test_hidden_and_retired_entries_are_gone_unknown_ones_are_not():
    here = server()
    assert here.gone("clamshell") and here.gone("old-myth")
    assert not here.gone("hip-thrust") and not here.gone("no-such-entry") and not here.gone("creatine-basics")


def test_did_you_mean_offers_only_what_the_server_shows():
    clarified = SHIPPED.for_guild(None).ask("clam").result
    assert clarified.status == "clarify" and clarified.entry == "clamshell"
    everywhere = [entry_id for entry_id, _ in SHIPPED.for_guild(None).did_you_mean(clarified)]
    assert everywhere[0] == "clamshell" and "glute-medius-function" in everywhere
    assert [entry_id for entry_id, _ in server().did_you_mean(clarified)] == everywhere[1:]  # clamshell is hidden
    assert server().exercise_suggestions("clamshel") and "Clamshell" not in server().exercise_suggestions("clamshel")
