"""Members suggest, moderators decide: "Not what I asked" + a pick, or asking again, records a suggestion;
`/faq suggestions` teaches or dismisses it. Through the real discord.py client and the stand-in."""

import asyncio
import re
import shutil

import pytest

from bot.discord_app import create_bot
from bot.settings import load_settings
from bot.storage.base import Actor
from bot.storage.operations import train
from tests.conftest import FIXTURE_KB
from tests.e2e.member_support import custom_ids, embed_title, mention

GROW, FIX, SPOT = "Do squats grow your glutes?", "Will squats fix hip dips?", "Can you burn fat from one spot?"
DEFERRED = 5
TEACH = re.compile(r"mythbot:faq:sug:ok:(\d+):(\d+)")


@pytest.fixture
async def bot(fake_discord, start_bot, tmp_path):
    knowledge = tmp_path / "knowledge"
    shutil.copytree(FIXTURE_KB, knowledge)
    return await start_bot(create_bot(load_settings(knowledge_dir=knowledge, data_dir=tmp_path / "data")))


async def ask(fake, member, text, channel="general"):
    where = fake.guild.channel(channel)
    mark = fake.mark()
    await fake.inject_message(where, member, mention(fake, text))
    return await fake.wait_for_message(where.id, since=mark)


async def click(fake, custom_id, message_id, user):
    interaction = await fake.inject_component(custom_id, message_id, user)
    return interaction, await interaction.response()


async def not_what_i_asked_then_pick(fake, member, answer, entry_id):
    """The member presses "Not what I asked" under `answer`, then picks `entry_id` from what it offers."""
    alternatives = next(cid for cid in custom_ids(answer["components"]) if cid.startswith("mythbot:alt:"))
    offered, _ = await click(fake, alternatives, int(answer["id"]), member)
    await click(fake, f"mythbot:pick:{entry_id}:{member.id}", offered.original_message_id, member)
    return fake.messages[offered.original_message_id]


async def pending(bot, guild_id, count):
    """The guild's pending suggestions once there are `count` (they are recorded in the background, within
    10 s), checked again a moment later: no more arrived."""
    for _ in range(500):
        if len(await bot.records.suggestions(guild_id)) >= count:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.1)
    found = await bot.records.suggestions(guild_id)
    assert len(found) == count, found
    return found


async def suggestions_page(fake, moderator):
    listing = await fake.inject_slash_command("faq suggestions", {}, user=moderator)
    callback = await listing.response()
    assert callback.type == DEFERRED and callback.ephemeral
    return await listing.followup(0)


async def test_a_pick_waits_for_a_moderator_then_teaches_exactly_that_phrasing(fake_discord, bot):
    alice, bob, cy = (fake_discord.make_member(name) for name in ("alice", "bob", "cy"))
    moderator = fake_discord.make_moderator("mod")
    answer = await ask(fake_discord, alice, "squats")
    assert embed_title(answer) == GROW
    shown = await not_what_i_asked_then_pick(fake_discord, alice, answer, "squats-hip-dips")
    assert embed_title(shown) == FIX
    [suggestion] = await pending(bot, fake_discord.guild.id, 1)
    assert (suggestion.question, suggestion.entry_id, suggestion.source) == ("squats", "squats-hip-dips", "pick")
    assert embed_title(await ask(fake_discord, bob, "squats")) == GROW  # waiting changes nothing

    page = await suggestions_page(fake_discord, moderator)
    description = page["embeds"][0]["description"]
    assert "“squats” · 1 member (picked)" in description and "`squats-hip-dips`" in description
    teach = f"mythbot:faq:sug:ok:{suggestion.id}:0"
    assert teach in custom_ids(page["components"]) and f"mythbot:faq:sug:no:{suggestion.id}:0" in custom_ids(
        page["components"])
    assert all(len(cid) <= 100 and "squats" not in cid.split(":sug:")[-1] for cid in custom_ids(page["components"]))

    _, said = await click(fake_discord, teach, int(page["id"]), alice)  # a member cannot approve
    assert said.ephemeral and "Only moderators" in said.content
    assert bot.faq.state(fake_discord.guild.id).trained == {}

    _, taught = await click(fake_discord, teach, int(page["id"]), moderator)
    assert taught.type == 7 and taught.content.startswith("✅ Taught it to `squats-hip-dips`")
    assert "No suggestions waiting" in taught.embeds[0]["description"]
    assert bot.faq.state(fake_discord.guild.id).trained == {"squats-hip-dips": ("squats",)}
    assert embed_title(await ask(fake_discord, cy, "squats")) == FIX
    assert [s.id for s in await bot.records.suggestions(fake_discord.guild.id, "approved")] == [suggestion.id]
    await bot.workers.drain()
    [audit] = await bot.records.audit_log(fake_discord.guild.id)
    assert (audit.action, audit.entry_id, audit.actor_id) == ("train", "squats-hip-dips", moderator.id)


async def test_a_flood_of_bogus_picks_changes_nothing_until_a_moderator_decides(fake_discord, bot):
    guild_id = fake_discord.guild.id
    flooders = [fake_discord.make_member(f"troll{n}") for n in range(6)]
    for number, troll in enumerate(flooders):
        answer = await ask(fake_discord, troll, "squats", channel="general" if number % 2 else "myths")
        await not_what_i_asked_then_pick(fake_discord, troll, answer, "spot-reduction")
    suggestions = await pending(bot, guild_id, len(flooders))
    assert {(s.question, s.entry_id) for s in suggestions} == {("squats", "spot-reduction")}

    newcomer = fake_discord.make_member("newcomer")
    assert embed_title(await ask(fake_discord, newcomer, "squats")) == GROW
    assert bot.faq.state(guild_id).trained == {}

    moderator = fake_discord.make_moderator("mod")
    page = await suggestions_page(fake_discord, moderator)
    assert "“squats” · 6 members (picked)" in page["embeds"][0]["description"]
    [dismiss] = [cid for cid in custom_ids(page["components"]) if cid.startswith("mythbot:faq:sug:no:")]
    _, dismissed = await click(fake_discord, dismiss, int(page["id"]), moderator)
    assert dismissed.content.startswith("✅ Dismissed")
    assert await bot.records.suggestions(guild_id) == []
    assert len(await bot.records.suggestions(guild_id, "rejected")) == len(flooders)
    assert bot.faq.state(guild_id).trained == {}
    assert embed_title(await ask(fake_discord, fake_discord.make_member("later"), "squats", "myths")) == GROW


async def test_asking_again_and_getting_an_answer_suggests_the_first_question(fake_discord, bot):
    guild_id = fake_discord.guild.id
    alice = fake_discord.make_member("alice")
    helper_bot = fake_discord.make_bot("otherbot")
    first = await ask(fake_discord, alice, "wtf is a hipdip")
    assert embed_title(first) is None  # no answer, or a "did you mean"
    await fake_discord.inject_message(fake_discord.guild.channel("general"), helper_bot,
                                      mention(fake_discord, "wtf is a hipdip"))  # bots are never heard
    assert embed_title(await ask(fake_discord, alice, "will squats fix my hip dips")) == FIX
    [suggestion] = await pending(bot, guild_id, 1)
    assert (suggestion.question, suggestion.entry_id, suggestion.source) == ("wtf is a hipdip", "squats-hip-dips",
                                                                             "reask")
    # A good answer, then another question: nothing to learn; and the same member suggests a phrasing once.
    assert embed_title(await ask(fake_discord, alice, "does spot reduction work")) == SPOT
    await ask(fake_discord, alice, "wtf is a hipdip")
    assert embed_title(await ask(fake_discord, alice, "will squats fix my hip dips")) == FIX
    await pending(bot, guild_id, 1)


async def test_a_question_the_picked_entry_already_answers_is_not_suggested(fake_discord, bot):
    guild_id = fake_discord.guild.id
    alice, bob = fake_discord.make_member("alice"), fake_discord.make_member("bob")
    prompt = await ask(fake_discord, alice, "how do i shrink my hips")
    assert prompt["content"].startswith("Did you mean")
    # Meanwhile a moderator teaches that very question to the entry alice is about to pick.
    await bot.faq.apply(guild_id, train("squats-glute-growth", ["how do i shrink my hips"], Actor(1, "mod")))
    await click(fake_discord, f"mythbot:pick:squats-glute-growth:{alice.id}", int(prompt["id"]), alice)
    answer = await ask(fake_discord, bob, "squats")
    await not_what_i_asked_then_pick(fake_discord, bob, answer, "squats-hip-dips")
    [only] = await pending(bot, guild_id, 1)
    assert (only.question, only.entry_id) == ("squats", "squats-hip-dips")


async def test_the_suggestions_pages_and_buttons_work_after_a_restart(fake_discord, start_bot, bot, tmp_path):
    guild_id = fake_discord.guild.id
    questions = ["melt my love handles", "lose belly fat only", "burn arm fat with curls",
                 "slim thighs with leg raises", "crunches for a flat stomach"]
    ids = [await bot.records.record_suggestion(guild_id, q, "spot-reduction", "reask") for q in questions]
    moderator = fake_discord.make_moderator("mod")
    page = await suggestions_page(fake_discord, moderator)
    assert "Page 1 of 2" in page["embeds"][0]["footer"]["text"]
    following = "mythbot:sugg:list:pending:1:next"
    assert following in custom_ids(page["components"])
    settings = bot.settings
    await bot.close()
    restarted = await start_bot(create_bot(settings))

    _, second = await click(fake_discord, following, int(page["id"]), moderator)
    assert second.type == 7 and "crunches for a flat stomach" in second.embeds[0]["description"]
    assert "Page 2 of 2" in second.embeds[0]["footer"]["text"]
    teach = f"mythbot:faq:sug:ok:{ids[4]}:1"
    assert teach in custom_ids(second.components)
    _, taught = await click(fake_discord, teach, int(page["id"]), moderator)
    assert taught.content.startswith("✅ Taught it to `spot-reduction`")
    assert "Page 1 of 1" not in taught.embeds[0]["description"] and "lose belly fat only" in taught.embeds[0][
        "description"]  # the last page was emptied: the one before is shown
    assert restarted.faq.state(guild_id).trained == {"spot-reduction": ("crunches for a flat stomach",)}
    assert [s.id for s in await restarted.records.suggestions(guild_id)] == ids[:4]


async def test_a_thumbs_down_then_a_better_answer_suggests_the_first_question(fake_discord, bot):
    guild_id = fake_discord.guild.id
    alice, bob = fake_discord.make_member("alice"), fake_discord.make_member("bob")
    answer = await ask(fake_discord, alice, "squats")
    await click(fake_discord, "mythbot:vote:0:squats-glute-growth", int(answer["id"]), bob)  # not bob's answer
    assert embed_title(await ask(fake_discord, bob, "will squats fix my hip dips")) == FIX
    await click(fake_discord, "mythbot:vote:0:squats-glute-growth", int(answer["id"]), alice)
    assert embed_title(await ask(fake_discord, alice, "will squats fix my hip dips")) == FIX
    [suggestion] = await pending(bot, guild_id, 1)
    assert (suggestion.question, suggestion.entry_id, suggestion.source) == ("squats", "squats-hip-dips", "reask")
