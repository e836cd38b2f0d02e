"""L7, moderators: a `/faq add` or `/faq edit` form open across a restart (or past its timeout) is
saved when submitted: nothing the moderator typed is lost, and nothing fails silently."""

import pytest

from bot.discord_app import create_bot
from bot.settings import load_settings
from tests.cogs.conftest import MODAL, answered_in_full, slash
from tests.cogs.test_moderation import CREATINE_FORM, CREATINE_ID, answered


@pytest.fixture
def settings(kb_copy, tmp_path, roles):
    return load_settings(knowledge_dir=kb_copy, data_dir=tmp_path / "data", moderator_role_ids=(roles["faq"].id,))


async def restart(bot, start_bot, settings):
    """Stop `bot` and start a new one on the same stand-in and data dir, as after a deploy."""
    await bot.close()
    return await start_bot(create_bot(settings))


async def test_a_form_opened_before_a_restart_is_saved_when_submitted(fake_discord, start_bot, settings, guild_id,
                                                                      role_moderator):
    before = await start_bot(create_bot(settings))
    form = await (await slash(fake_discord, "add", user=role_moderator)).response()
    assert form.type == MODAL
    after = await restart(before, start_bot, settings)
    submitted = await fake_discord.inject_modal_submit(form.custom_id, CREATINE_FORM, user=role_moderator)
    _, done = await answered_in_full(submitted)
    assert done["content"] == f"Added `{CREATINE_ID}`. It answers in this server now."
    assert done["embeds"][0]["title"] == CREATINE_FORM["title"]
    assert answered(after, guild_id, "does creatine cause bloating") == CREATINE_ID
    await after.workers.drain()
    [record] = await after.records.audit_log(guild_id)
    assert (record.actor_id, record.action) == (role_moderator.id, "add")


async def test_an_edit_form_across_a_restart_saves_that_entry_and_a_refusal_keeps_the_text(
        fake_discord, start_bot, settings, guild_id, role_moderator, regular):
    before = await start_bot(create_bot(settings))
    added = await fake_discord.inject_modal_submit(
        (await (await slash(fake_discord, "add", user=role_moderator)).response()).custom_id, CREATINE_FORM,
        user=role_moderator)
    await answered_in_full(added)
    form = await (await slash(fake_discord, "edit", {"id": CREATINE_ID}, user=role_moderator)).response()
    after = await restart(before, start_bot, settings)
    forged = await fake_discord.inject_modal_submit(form.custom_id, {"verdict": "true / strong"}, user=regular)
    assert (await forged.response()).content.startswith("Only moderators")  # the fallback checks too
    wrong = await fake_discord.inject_modal_submit(form.custom_id, {"verdict": "true / very strong"},
                                                   user=role_moderator)
    _, refused = await answered_in_full(wrong)
    assert "'very strong' is not an evidence grade" in refused["content"]
    retry = refused["components"][0]["components"][0]
    reopened = await (await fake_discord.inject_component(retry["custom_id"], int(refused["id"]),
                                                          role_moderator)).response()
    assert reopened.type == MODAL  # everything typed comes back in the form
    fixed = await fake_discord.inject_modal_submit(reopened.custom_id, {"verdict": "true / strong"},
                                                   user=role_moderator)
    _, saved = await answered_in_full(fixed)
    assert saved["content"] == f"Saved `{CREATINE_ID}`."
    assert after.faq.state(guild_id).entries[CREATINE_ID].verdict == "true"


async def test_a_fix_and_resubmit_button_from_before_a_restart_says_it_expired(fake_discord, start_bot, settings,
                                                                                role_moderator):
    before = await start_bot(create_bot(settings))
    form = await (await slash(fake_discord, "add", user=role_moderator)).response()
    wrong = await fake_discord.inject_modal_submit(form.custom_id, {**CREATINE_FORM, "verdict": "maybe"},
                                                   user=role_moderator)
    _, refused = await answered_in_full(wrong)
    retry = refused["components"][0]["components"][0]
    await restart(before, start_bot, settings)
    click = await fake_discord.inject_component(retry["custom_id"], int(refused["id"]), role_moderator)
    expired = await click.response()
    assert expired.ephemeral and expired.content.startswith("This form expired")
    assert "`/faq add`" in expired.content
