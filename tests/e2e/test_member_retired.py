"""Retired means gone for members everywhere: old answers' buttons, follow-ups, /myth and pick buttons say
"That entry is no longer available." (entries a guild's moderators retired, and curated `retired: true`)."""

import shutil

import pytest

from bot.storage.base import Actor
from bot.storage.operations import add_entry_op, remove_entry
from tests.conftest import FIXTURE_KB
from tests.e2e import member_support
from tests.e2e.member_support import custom_ids, embed_title, mention
from tests.storage.conftest import creatine_entry

make_bot = member_support.make_bot  # fixture

GONE = "That entry is no longer available."
CREATINE = creatine_entry()
CREATINE_ID = CREATINE.id
MODERATOR = Actor(1, "mod")


@pytest.fixture
def knowledge(tmp_path):
    target = tmp_path / "knowledge"
    shutil.copytree(FIXTURE_KB, target)
    return target


async def ask(fake, member, text):
    general = fake.guild.channel("general")
    mark = fake.mark()
    await fake.inject_message(general, member, mention(fake, text))
    return await fake.wait_for_message(general.id, since=mark)


async def said_after(fake, action):
    """The bot's reply to `action()` (an injected message), in #general."""
    mark = fake.mark()
    await action()
    return await fake.wait_for_message(fake.guild.channel("general").id, since=mark)


async def assert_gone_for_members(fake, member, answer, entry_id):
    sources = await fake.inject_component(f"mythbot:src:{entry_id}", int(answer["id"]), member)
    shown = await sources.response()
    assert shown.ephemeral and shown.content == GONE
    general = fake.guild.channel("general")
    for follow_up in ("why?", "sources?"):
        said = await said_after(fake, lambda text=follow_up: fake.inject_message(
            general, member, text, message_reference=int(answer["id"])))
        assert said["content"] == GONE and said["embeds"] == []
    myth = await (await fake.inject_slash_command("myth", {"name": entry_id}, user=member)).response()
    assert myth.ephemeral and myth.content == GONE


async def test_an_entry_moderators_retired_is_gone_for_members(fake_discord, start_bot, make_bot):
    bot = await start_bot(make_bot())
    alice = fake_discord.make_member("alice")
    await bot.faq.apply(fake_discord.guild.id, add_entry_op(CREATINE, MODERATOR))
    answer = await ask(fake_discord, alice, "does creatine make you bloated?")
    assert embed_title(answer) == CREATINE.title
    await bot.faq.apply(fake_discord.guild.id, remove_entry(CREATINE_ID, MODERATOR))
    await assert_gone_for_members(fake_discord, alice, answer, CREATINE_ID)
    assert bot.faq.state(fake_discord.guild.id).entries[CREATINE_ID].retired  # kept for the moderators


async def test_a_curated_entry_retired_in_the_knowledge_files_is_gone_for_members(fake_discord, start_bot, make_bot,
                                                                                 knowledge):
    bot = await start_bot(make_bot(knowledge_dir=knowledge, margin=15))  # so "squats" asks which one
    alice = fake_discord.make_member("alice")
    answer = await ask(fake_discord, alice, "does spot reduction work")
    prompt = await ask(fake_discord, alice, "squats")
    assert "mythbot:pick:squats-hip-dips" in str(custom_ids(prompt["components"]))
    myths = knowledge / "myths.yaml"
    text = myths.read_text()
    for entry_id in ("spot-reduction", "squats-hip-dips"):
        text = text.replace(f"  - id: {entry_id}\n", f"  - id: {entry_id}\n    retired: true\n")
    myths.write_text(text)
    assert await bot.reload_knowledge() == []
    await assert_gone_for_members(fake_discord, alice, answer, "spot-reduction")
    pick = next(cid for cid in custom_ids(prompt["components"]) if cid.startswith("mythbot:pick:squats-hip-dips"))
    picked = await (await fake_discord.inject_component(pick, int(prompt["id"]), alice)).response()
    assert picked.ephemeral and picked.content == GONE
