"""Two moderators editing one entry: the first to save wins, the second is told in private that it changed
since they opened it, sees the version now stored, and loses nothing they typed ("Fix and resubmit").
On both backends: files, and PostgreSQL (as several processes would share it)."""

import pytest

from bot.discord_app import create_bot
from bot.settings import load_settings
from tests.cogs.conftest import MODAL, answered_in_full, form_values, slash
from tests.cogs.test_moderation import CREATINE_FORM, CREATINE_ID, add_creatine

CONFLICT = "was changed by someone else since you opened it; nothing was saved"


@pytest.fixture(params=["file", "postgres"])
async def settings(request, roles, kb_copy, tmp_path):
    url = request.getfixturevalue("pg_database") if request.param == "postgres" else None
    return load_settings(knowledge_dir=kb_copy, data_dir=tmp_path / "data", moderator_role_ids=(roles["faq"].id,),
                         database_url=url)


async def open_edit(fake, user):
    form = await (await slash(fake, "edit", {"id": CREATINE_ID}, user=user)).response()
    assert form.type == MODAL
    return form


async def test_the_second_of_two_moderators_is_told_and_keeps_what_they_typed(fake_discord, settings, start_bot,
                                                                              guild_id, role_moderator, moderator):
    bot = await start_bot(create_bot(settings))
    await answered_in_full(await add_creatine(fake_discord, role_moderator))
    anas, bos = await open_edit(fake_discord, role_moderator), await open_edit(fake_discord, moderator)
    assert anas.custom_id != bos.custom_id and len(anas.custom_id) <= 100
    _, saved = await answered_in_full(await fake_discord.inject_modal_submit(
        anas.custom_id, {"answer": "Ana's answer."}, user=role_moderator))
    assert saved["content"] == f"Saved `{CREATINE_ID}`."
    bo_typed = {"answer": "Bo's answer.", "verdict": "true / strong"}
    _, told = await answered_in_full(await fake_discord.inject_modal_submit(bos.custom_id, bo_typed, user=moderator))
    assert CONFLICT in told["content"] and told["embeds"][0]["description"].startswith("Ana's answer.")  # theirs
    assert bot.faq.state(guild_id).entries[CREATINE_ID].answer == "Ana's answer."
    retry = told["components"][0]["components"][0]
    assert retry["label"] == "Fix and resubmit"
    reopened = await (await fake_discord.inject_component(retry["custom_id"], int(told["id"]), moderator)).response()
    assert form_values(reopened.data) == {**form_values(bos.data), **bo_typed}  # nothing Bo typed is lost
    _, resaved = await answered_in_full(await fake_discord.inject_modal_submit(reopened.custom_id, {}, user=moderator))
    assert resaved["content"] == f"Saved `{CREATINE_ID}`."  # over the version Bo was shown
    history = await bot.faq.history(guild_id, CREATINE_ID)
    assert [r.entry.answer for r in history] == ["Bo's answer.", "Ana's answer.", CREATINE_FORM["answer"].replace(
        "[here](https://example.org/review)", "here (https://example.org/review)")]


async def test_a_form_open_across_a_restart_still_finds_a_change_made_meanwhile(fake_discord, settings, start_bot,
                                                                                guild_id, role_moderator, moderator):
    before = await start_bot(create_bot(settings))
    await answered_in_full(await add_creatine(fake_discord, role_moderator))
    stale = await open_edit(fake_discord, moderator)
    await before.close()
    after = await start_bot(create_bot(settings))
    fresh = await open_edit(fake_discord, role_moderator)
    await answered_in_full(await fake_discord.inject_modal_submit(fresh.custom_id, {"answer": "Ana's answer."},
                                                                  user=role_moderator))
    # No live form owns the old one: it is saved from its custom_id, which carries the revision it opened.
    _, told = await answered_in_full(await fake_discord.inject_modal_submit(stale.custom_id, {"answer": "Bo's."},
                                                                            user=moderator))
    assert CONFLICT in told["content"]
    assert after.faq.state(guild_id).entries[CREATINE_ID].answer == "Ana's answer."
