"""Moderators' journeys: /faq through the real discord.py client against the local stand-in."""

import shutil

import pytest

from bot.discord_app import create_bot
from bot.settings import load_settings
from tests.conftest import FIXTURE_KB

FORM = {
    "title": "Does creatine make you bloated?",
    "questions": "does creatine make you bloated\ncreatine water retention",
    "answer": "Some people hold a little extra water in the first week; it sits inside the muscle.",
    "verdict": "partly true / moderate",
    "sources": "10.1186/s12970-021-00412-w",
}
CREATINE_ID = "does-creatine-make-you-bloated"


@pytest.fixture
def knowledge(tmp_path):
    target = tmp_path / "knowledge"
    shutil.copytree(FIXTURE_KB, target)
    return target


@pytest.fixture
async def running(fake_discord, start_bot, knowledge, tmp_path):
    settings = load_settings(knowledge_dir=knowledge, data_dir=tmp_path / "data")
    return await start_bot(create_bot(settings))


def mention(fake, text):
    return f"<@{fake.bot_user.id}> {text}"


async def ask(fake, member, text):
    general = fake.guild.channel("general")
    mark = fake.mark()
    await fake.inject_message(general, member, mention(fake, text))
    return await fake.wait_for_message(general.id, since=mark)


DEFERRED = 5


async def final_reply(interaction) -> dict:
    """What the moderator finally sees: the reply itself, or the follow-up after a deferral."""
    callback = await interaction.response()
    if callback.type == DEFERRED:
        return await interaction.followup(0)
    return callback.data


def answered_title(message):
    return message["embeds"][0]["title"] if message["embeds"] else None


async def add_creatine(fake, moderator):
    opened = await fake.inject_slash_command("faq add", {}, user=moderator)
    modal = await opened.response()
    assert modal.type == 9  # the form
    submitted = await fake.inject_modal_submit(modal.data["custom_id"], FORM, user=moderator)
    done = await final_reply(submitted)
    assert done["content"].startswith(f"Added `{CREATINE_ID}`")
    return submitted


async def test_a_member_is_refused(fake_discord, running):
    member = fake_discord.make_member("alice")
    attempt = await fake_discord.inject_slash_command("faq add", {}, user=member)
    reply = await attempt.response()
    assert reply.type == 4 and reply.data["flags"] & 64
    assert "moderator" in reply.data["content"].lower()


async def test_added_entry_answers_at_once_in_this_guild(fake_discord, running):
    moderator, member = fake_discord.make_moderator("mod"), fake_discord.make_member("alice")
    before = await ask(fake_discord, member, "does creatine make you bloated?")
    assert answered_title(before) is None
    await add_creatine(fake_discord, moderator)
    after = await ask(fake_discord, member, "does creatine make you bloated?")
    assert answered_title(after) == FORM["title"]
    assert "https://doi.org/10.1186/s12970-021-00412-w" in str(after["embeds"][0]["fields"])
    assert running.faq.state(fake_discord.guild.id).entries[CREATINE_ID].stewardship.created_by.startswith("mod")


async def test_remove_then_restore(fake_discord, running):
    moderator, member = fake_discord.make_moderator("mod"), fake_discord.make_member("alice")
    await add_creatine(fake_discord, moderator)
    removing = await fake_discord.inject_slash_command("faq remove", {"id": CREATINE_ID}, user=moderator)
    prompt = await final_reply(removing)
    assert prompt["flags"] & 64
    confirm = await fake_discord.inject_component(f"mythbot:faq:remove:retire:{CREATINE_ID}",
                                                  int(prompt["id"]) if "id" in prompt else removing.original_message_id,
                                                  moderator)
    await final_reply(confirm)
    assert answered_title(await ask(fake_discord, member, "does creatine make you bloated?")) is None
    restoring = await fake_discord.inject_slash_command("faq restore", {"id": CREATINE_ID}, user=moderator)
    await final_reply(restoring)
    assert answered_title(await ask(fake_discord, member, "does creatine make you bloated?")) == FORM["title"]


async def test_gaps_list_what_went_unanswered(fake_discord, running):
    moderator, member = fake_discord.make_moderator("mod"), fake_discord.make_member("alice")
    for question in ("best running shoes for flat feet?", "running shoes for flat feet", "is yoga cardio?"):
        await ask(fake_discord, member, question)
    gaps = await fake_discord.inject_slash_command("faq gaps", {}, user=moderator)
    reply = await final_reply(gaps)
    assert "running shoes" in str(reply).lower()


async def test_reload_with_a_broken_file_keeps_answering(fake_discord, running, knowledge):
    moderator, member = fake_discord.make_moderator("mod"), fake_discord.make_member("alice")
    (knowledge / "broken.yaml").write_text("myths:\n  - id: Not A Slug\n")
    reloading = await fake_discord.inject_slash_command("faq reload", {}, user=moderator)
    said = await final_reply(reloading)
    assert "broken.yaml:2" in said["content"]
    assert answered_title(await ask(fake_discord, member, "does spot reduction work")) == \
        "Can you burn fat from one spot?"


async def test_edit_changes_what_members_are_told(fake_discord, running):
    moderator, member = fake_discord.make_moderator("mod"), fake_discord.make_member("alice")
    await add_creatine(fake_discord, moderator)
    opened = await fake_discord.inject_slash_command("faq edit", {"id": CREATINE_ID}, user=moderator)
    modal = await opened.response()
    assert modal.type == 9 and FORM["title"] in str(modal.data)  # prefilled
    new_answer = "Updated: any extra water is inside the muscle and settles within a few weeks."
    saved = await fake_discord.inject_modal_submit(modal.data["custom_id"], {**FORM, "answer": new_answer},
                                                   user=moderator)
    await final_reply(saved)
    after = await ask(fake_discord, member, "does creatine make you bloated?")
    assert after["embeds"][0]["description"] == new_answer
