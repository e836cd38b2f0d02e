"""Teaching from gaps and undoing it, without Discord: `Teaching` over a real `FaqService` (file backend).
What it teaches reaches the server's matching at once; what it forgets stops answering."""

import json

import pytest

from bot.faq.service import FaqService, GapReport, Outcome
from bot.faq.teaching import Candidate, Teaching, candidates, group_key, group_questions, phrasing_key
from bot.storage.operations import add_entry_op, hide_entry, train
from tests.storage.conftest import ANA, BO, GUILD, OTHER_GUILD, myth

TUMMY = ("how to shrink my tummy fat only", "how can i shrink tummy fat only fast", "shrink my tummy fat quick")


@pytest.fixture
def teaching(service):
    return Teaching(service)


def answered(service, guild_id, question):
    result = service.engine.ask(question, scope=service.faq.scope_for(guild_id)).result
    return result.entry if result.status == "answer" else None


async def seeded_report(service, questions=TUMMY, guild_id=GUILD):
    for question in questions:
        await service.records.record_unanswered(guild_id, 10, question, best_entry="spot-reduction")
    report = await service.gaps(guild_id, 30)
    assert isinstance(report, GapReport)
    return report


async def test_a_group_taught_to_an_entry_answers_with_it_in_this_server_only(service, teaching):
    report = await seeded_report(service)
    gap = report.gaps[0]
    assert answered(service, GUILD, gap.example) is None
    outcome = await teaching.teach(GUILD, ANA, "spot-reduction", group_questions(gap))
    assert outcome.ok, outcome.text
    assert f"Taught {len(group_questions(gap))} questions" in outcome.text and "/faq untrain" in outcome.text
    for question in group_questions(gap):
        assert answered(service, GUILD, question) == "spot-reduction"
    assert answered(service, OTHER_GUILD, gap.example) is None
    assert set(teaching.taught(GUILD, "spot-reduction")) == set(group_questions(gap))


async def test_teaching_and_untraining_are_audited_with_the_phrasings(service, teaching):
    gap = (await seeded_report(service)).gaps[0]
    await teaching.teach(GUILD, ANA, "spot-reduction", group_questions(gap))
    await teaching.untrain(GUILD, BO, "spot-reduction", None)
    await service.workers.drain()
    log = await service.records.audit_log(GUILD)
    assert [(r.action, r.actor_name, r.entry_id) for r in log] == [("untrain", "Bo", "spot-reduction"),
                                                                   ("train", "Ana", "spot-reduction")]
    assert set(json.loads(log[1].detail)["phrasings"]) == set(group_questions(gap))


async def test_untrain_forgets_the_chosen_phrasings_or_all(service, teaching):
    await teaching.teach(GUILD, ANA, "spot-reduction", TUMMY[:3])
    first = teaching.taught(GUILD, "spot-reduction")[0]
    outcome = await teaching.untrain(GUILD, BO, "spot-reduction", [phrasing_key(first)])
    assert outcome.ok and "Forgot 1 taught phrasing" in outcome.text and "2 taught phrasings remain" in outcome.text
    assert first not in teaching.taught(GUILD, "spot-reduction")
    assert first not in service.faq.scope_for(GUILD).trained["spot-reduction"]  # what matching reads
    outcome = await teaching.untrain(GUILD, BO, "spot-reduction", None)
    assert outcome.ok and "Forgot 2" in outcome.text
    assert teaching.taught(GUILD, "spot-reduction") == ()
    assert all(answered(service, GUILD, question) is None for question in TUMMY[:3])
    again = await teaching.untrain(GUILD, BO, "spot-reduction", None)
    assert not again.ok and "nothing was changed" in again.text


async def test_questions_another_entry_has_are_left_out_and_the_rest_taught(service, teaching):
    await service.faq.apply(GUILD, train("protein-intake", ["how to shrink my tummy fat only"], ANA))
    asked = (*TUMMY, "How do I shrink my tummy fat only?")  # the last reads the same as the first
    outcome = await teaching.teach(GUILD, ANA, "spot-reduction", asked)
    assert outcome.ok, outcome.text
    assert "Taught 2 questions" in outcome.text and "Left out 2" in outcome.text
    assert set(teaching.taught(GUILD, "spot-reduction")) == set(TUMMY[1:])


async def test_teaching_what_the_store_refuses_changes_nothing(service, teaching, tmp_path):
    await service.faq.apply(GUILD, hide_entry("spot-reduction"))
    saved = (tmp_path / "data" / "guilds" / f"{GUILD}.yaml").read_bytes()
    for entry_id, why in (("spot-reduction", "is hidden in this server"), ("nope", "no entry with id 'nope'")):
        outcome = await teaching.teach(GUILD, ANA, entry_id, TUMMY[:2])
        assert not outcome.ok and why in outcome.text
    assert (tmp_path / "data" / "guilds" / f"{GUILD}.yaml").read_bytes() == saved


async def test_candidates_are_entries_this_server_may_be_shown(service, teaching):
    await service.faq.apply(GUILD, add_entry_op(myth("Tummy fat", "how to lose tummy fat only"), ANA))
    gap = (await seeded_report(service)).gaps[0]
    offered = candidates(service.engine, service.faq.scope_for(GUILD), gap)
    assert offered[0] == Candidate("spot-reduction", "Can you burn fat from one spot?", "closest")
    assert Candidate("tummy-fat", "Tummy fat", "server") in offered
    await service.faq.apply(GUILD, hide_entry("spot-reduction"))
    offered = candidates(service.engine, service.faq.scope_for(GUILD), gap)
    assert "spot-reduction" not in {c.entry_id for c in offered}
    assert "tummy-fat" not in {c.entry_id for c in candidates(service.engine, service.faq.scope_for(OTHER_GUILD), gap)}


async def test_a_group_is_found_by_its_key_in_the_latest_report_or_a_new_one(service, tmp_path, fixture_engine):
    report = await seeded_report(service)
    key = group_key(report.gaps[0])
    assert Teaching(service).cached_group(GUILD, 30, key) == report.gaps[0]
    assert len(key) == 12 and key not in "".join(TUMMY)
    restarted = FaqService(lambda: fixture_engine, service.faq, service.records, service.workers,
                           service._reload_curated)
    teaching = Teaching(restarted)
    assert teaching.cached_group(GUILD, 30, key) is None  # nothing survives a restart in memory ...
    assert await teaching.group(GUILD, 30, key) == report.gaps[0]  # ... so the report is built again
    await teaching.teach(GUILD, ANA, "spot-reduction", group_questions(report.gaps[0]))
    gone = await Teaching(restarted).group(GUILD, 7, key)
    assert isinstance(gone, Outcome) and "no longer open" in gone.text


async def test_untrain_suggests_only_entries_with_taught_phrasings(service, teaching):
    assert teaching.untrain_choices(GUILD, "") == []
    await teaching.teach(GUILD, ANA, "spot-reduction", TUMMY[:1])
    await teaching.teach(GUILD, ANA, "protein-intake", ["how many eggs a day for muscle"])
    assert teaching.untrain_choices(GUILD, "") == [("spot-reduction", "Can you burn fat from one spot?"),
                                                   ("protein-intake", "How much protein do I need to build muscle?")]
    protein = ("protein-intake", "How much protein do I need to build muscle?")
    assert teaching.untrain_choices(GUILD, "prot") == [protein]
    assert teaching.untrain_choices(OTHER_GUILD, "") == []


async def test_the_card_lists_the_taught_phrasings(service, teaching):
    await teaching.teach(GUILD, ANA, "spot-reduction", TUMMY[:1])
    card = await service.card(GUILD, "spot-reduction")
    assert card is not None and card.taught == (TUMMY[0],)
    other = await service.card(OTHER_GUILD, "spot-reduction")
    assert other is not None and other.taught == ()


async def test_a_question_too_long_for_a_phrasing_is_left_out(service, teaching):
    long = "can i melt " + "fat " * 80
    outcome = await teaching.teach(GUILD, ANA, "spot-reduction", (TUMMY[0], long))
    assert outcome.ok and "Taught 1 question" in outcome.text and "Left out 1" in outcome.text
    assert teaching.taught(GUILD, "spot-reduction") == (TUMMY[0],)
