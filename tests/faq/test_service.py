"""The moderators' actions without Discord: `FaqService` over real stores (the file backend). What a
confirmation or an autocomplete offers is the store's own operation run without saving, so it agrees
with what the command then does."""

import asyncio
from dataclasses import replace

import pytest

from bot.faq.drafts import Draft
from bot.faq.service import DRY_RUNS, Card, EditForm, Outcome, Prompt
from bot.storage.operations import add_entry_op, hide_entry, remove_entry
from tests.storage.conftest import ANA, BO, GUILD, creatine_entry, myth

CREATINE_ID = "does-creatine-make-you-bloated"


def guild_file(tmp_path):
    return tmp_path / "data" / "guilds" / f"{GUILD}.yaml"


async def test_the_remove_prompt_is_a_dry_run_of_remove(service, tmp_path):
    await service.faq.apply(GUILD, add_entry_op(creatine_entry(), ANA))
    saved = guild_file(tmp_path).read_bytes()
    assert service.removal(GUILD, CREATINE_ID) == Prompt("retire", CREATINE_ID, "Does creatine make you bloated?")
    spot = service.engine.kb.entries["spot-reduction"]
    assert service.removal(GUILD, spot.id) == Prompt("hide", spot.id, spot.title)
    assert guild_file(tmp_path).read_bytes() == saved  # asking saved nothing
    await service.faq.apply(GUILD, remove_entry(CREATINE_ID, ANA))
    await service.faq.apply(GUILD, hide_entry("spot-reduction"))
    for entry_id, why in ((CREATINE_ID, "is already retired"), ("spot-reduction", "is already hidden"),
                          ("nope", "no entry with id 'nope'")):
        refused = service.removal(GUILD, entry_id)
        assert isinstance(refused, Outcome) and not refused.ok and why in refused.text


async def test_the_edit_form_opens_only_what_the_edit_would_accept(service):
    added = await service.faq.apply(GUILD, add_entry_op(creatine_entry(), ANA))
    form = service.edit_form(GUILD, CREATINE_ID)
    assert isinstance(form, EditForm) and form.revision == added.revision
    assert form.draft.verdict == "partly true / moderate"
    assert "is a curated entry: it is read-only" in service.edit_form(GUILD, "spot-reduction").text
    assert "no entry with id 'nope'" in service.edit_form(GUILD, "nope").text


@pytest.mark.parametrize("purpose", sorted(DRY_RUNS))
async def test_autocomplete_offers_exactly_what_the_command_accepts(service, purpose):
    await service.faq.apply(GUILD, add_entry_op(creatine_entry(), ANA))
    await service.faq.apply(GUILD, add_entry_op(myth("Gone", "gone q"), ANA))
    await service.faq.apply(GUILD, remove_entry("gone", ANA))
    await service.faq.apply(GUILD, hide_entry("spot-reduction"))
    offered = {entry_id for entry_id, _ in service.choices(GUILD, purpose, "")}
    every = {*service.engine.kb.entries, *service.faq.state(GUILD).entries}
    for entry_id in sorted(every):
        outcome = await {"remove": service.remove, "restore": service.restore, "hide": service.hide,
                         "unhide": service.unhide}[purpose](GUILD, BO, entry_id)
        assert outcome.ok == (entry_id in offered), (purpose, entry_id, outcome.text)
        if outcome.ok:  # undo, so the next entry meets the same server
            await {"remove": service.restore, "restore": service.remove, "hide": service.unhide,
                   "unhide": service.hide}[purpose](GUILD, BO, entry_id)


async def test_the_card_of_a_retired_entry_shows_it_with_its_history(service):
    await service.save(GUILD, ANA, Draft(title="Does creatine make you bloated?", questions="is creatine bloating",
                                         answer="First.", verdict="myth / limited"))
    form = service.edit_form(GUILD, CREATINE_ID)
    edited = await service.save(GUILD, BO, replace(form.draft, answer="Second."),
                                entry_id=CREATINE_ID, revision=form.revision)
    assert edited.ok, edited.text
    await service.remove(GUILD, ANA, CREATINE_ID)
    assert service.engine.view(CREATINE_ID, service.faq.scope_for(GUILD)) is None  # gone for members
    card = await service.card(GUILD, CREATINE_ID)
    assert isinstance(card, Card) and card.own.retired and card.view.body.startswith("Second.")
    assert [(v.entry.answer, v.entry.retired) for v in card.history] == [
        ("Second.", True), ("Second.", False), ("First.", False)]
    assert [v.saved_by for v in card.history] == ["Ana (5)", "Bo (6)", "Ana (5)"]


async def test_the_card_of_a_curated_entry_hidden_here_still_shows(service):
    await service.hide(GUILD, ANA, "spot-reduction")
    card = await service.card(GUILD, "spot-reduction")
    assert card.hidden_here and card.own is None and card.history == ()
    assert await service.card(GUILD, "nope") is None


async def test_asking_for_a_report_while_it_is_built_shares_that_build(service):
    await service.records.record_unanswered(GUILD, 1, "can side bends melt my love handles")
    first, second = await asyncio.gather(service.gaps(GUILD, 30), service.gaps(GUILD, 30))
    assert first is second and first.gaps  # one report, built once, for the command and a teach menu alike
    assert await service.gaps(GUILD, 30) is not first  # a later ask builds afresh
