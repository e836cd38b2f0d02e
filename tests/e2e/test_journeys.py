"""Members' journeys through the real discord.py client against the local Discord stand-in."""

import pytest

from bot.discord_app import create_bot
from bot.settings import load_settings
from tests.conftest import FIXTURE_KB


@pytest.fixture
def make_bot(tmp_path):
    def build(**overrides):
        settings = load_settings(knowledge_dir=FIXTURE_KB, data_dir=tmp_path / "data", **overrides)
        return create_bot(settings)

    return build


def mention(fake):
    return f"<@{fake.bot_user.id}>"


def embed_title(message):
    return message["embeds"][0]["title"] if message["embeds"] else None


def custom_ids(message):
    return [c["custom_id"] for row in message["components"] for c in row["components"] if "custom_id" in c]


async def test_mention_gets_an_answer_with_sources_and_no_pings(fake_discord, start_bot, make_bot):
    await start_bot(make_bot())
    general, alice = fake_discord.guild.channel("general"), fake_discord.make_member("alice")
    mark = fake_discord.mark()
    await fake_discord.inject_message(general, alice, f"{mention(fake_discord)} will squats fix my hip dips?")
    reply = await fake_discord.wait_for_message(general.id, since=mark)
    assert embed_title(reply) == "Will squats fix hip dips?"
    fields = {f["name"]: f["value"] for f in reply["embeds"][0]["fields"]}
    assert "https://doi.org/10.1519/JSC.0b013e3181fb4a46" in fields["Sources"]
    assert reply["mentions"] == [] and reply["mention_roles"] == []
    call = fake_discord.calls_to("POST", "/channels/{id}/messages", since=mark)[0]
    assert call.json["allowed_mentions"]["parse"] == []
    assert "mythbot:src:squats-hip-dips" in custom_ids(reply)


async def test_direct_message_is_answered(fake_discord, start_bot, make_bot):
    await start_bot(make_bot())
    alice = fake_discord.make_member("alice")
    mark = fake_discord.mark()
    await fake_discord.inject_dm(alice, "how much protein should i eat")
    reply = await fake_discord.wait_for_message(fake_discord.dm_channel(alice).id, since=mark)
    assert embed_title(reply) == "How much protein do I need to build muscle?"


async def test_passive_channel_answers_questions_and_ignores_chatter(fake_discord, start_bot, make_bot):
    general = fake_discord.guild.channel("general")
    await start_bot(make_bot(listen_channels=(general.id,)))
    alice = fake_discord.make_member("alice")
    mark = fake_discord.mark()
    await fake_discord.inject_message(general, alice, "lol squats today were brutal")
    await fake_discord.inject_message(general, alice, "how much protein should i eat?")
    reply = await fake_discord.wait_for_message(general.id, since=mark)
    assert embed_title(reply) == "How much protein do I need to build muscle?"
    assert len(fake_discord.messages_sent(general.id, since=mark)) == 1


async def test_passive_cooldown_keeps_the_channel_quiet(fake_discord, start_bot, make_bot):
    general = fake_discord.guild.channel("general")
    await start_bot(make_bot(listen_channels=(general.id,), channel_cooldown=60))
    alice, bob = fake_discord.make_member("alice"), fake_discord.make_member("bob")
    mark = fake_discord.mark()
    await fake_discord.inject_message(general, alice, "how much protein should i eat?")
    await fake_discord.wait_for_message(general.id, since=mark)
    await fake_discord.inject_message(general, bob, "does spot reduction work?")
    await fake_discord.settle()
    assert len(fake_discord.messages_sent(general.id, since=mark)) == 1


async def test_other_bots_and_mass_pings_are_ignored(fake_discord, start_bot, make_bot):
    await start_bot(make_bot())
    general = fake_discord.guild.channel("general")
    robot = fake_discord.make_bot("otherbot")
    alice = fake_discord.make_member("alice")
    mark = fake_discord.mark()
    await fake_discord.inject_message(general, robot, f"{mention(fake_discord)} will squats fix my hip dips?")
    await fake_discord.inject_message(general, alice, "@everyone")
    await fake_discord.settle()
    assert fake_discord.messages_sent(general.id, since=mark) == []


async def test_unknown_question_is_recorded_for_moderators(fake_discord, start_bot, make_bot):
    bot = await start_bot(make_bot())
    general, alice = fake_discord.guild.channel("general"), fake_discord.make_member("alice")
    mark = fake_discord.mark()
    await fake_discord.inject_message(general, alice, f"{mention(fake_discord)} best running shoes for flat feet?")
    reply = await fake_discord.wait_for_message(general.id, since=mark)
    assert "don't have a sourced answer" in reply["content"]
    await bot.workers.drain()  # the record is written in the background, after the reply
    unanswered = await bot.records.unanswered(fake_discord.guild.id)
    assert [u.question for u in unanswered] == ["best running shoes for flat feet?"]


async def test_clarify_then_pick_shows_the_answer(fake_discord, start_bot, make_bot):
    await start_bot(make_bot(margin=15))  # the fixture's two squat entries: a wide margin makes "squats" ask
    general, alice = fake_discord.guild.channel("general"), fake_discord.make_member("alice")
    mark = fake_discord.mark()
    await fake_discord.inject_message(general, alice, f"{mention(fake_discord)} squats")
    prompt = await fake_discord.wait_for_message(general.id, since=mark)
    assert prompt["content"].startswith("Did you mean")
    pick = f"mythbot:pick:squats-hip-dips:{alice.id}"  # only alice, who asked, may pick
    assert pick in custom_ids(prompt)
    click = await fake_discord.inject_component(pick, int(prompt["id"]), alice)
    await click.response()
    shown = fake_discord.messages[int(prompt["id"])]
    assert embed_title(shown) == "Will squats fix hip dips?"


async def test_reply_sources_continues_the_topic(fake_discord, start_bot, make_bot):
    await start_bot(make_bot())
    general, alice = fake_discord.guild.channel("general"), fake_discord.make_member("alice")
    mark = fake_discord.mark()
    await fake_discord.inject_message(general, alice, f"{mention(fake_discord)} does spot reduction work")
    answer = await fake_discord.wait_for_message(general.id, since=mark)
    mark = fake_discord.mark()
    await fake_discord.inject_message(general, alice, "sources?", message_reference=int(answer["id"]))
    follow = await fake_discord.wait_for_message(general.id, since=mark)
    assert embed_title(follow) == "Sources: Can you burn fat from one spot?"
    assert "https://doi.org/" in follow["embeds"][0]["description"]


async def test_buttons_sources_and_helpful_vote(fake_discord, start_bot, make_bot):
    bot = await start_bot(make_bot())
    general, alice = fake_discord.guild.channel("general"), fake_discord.make_member("alice")
    mark = fake_discord.mark()
    await fake_discord.inject_message(general, alice, f"{mention(fake_discord)} does spot reduction work")
    answer = await fake_discord.wait_for_message(general.id, since=mark)
    sources = await fake_discord.inject_component("mythbot:src:spot-reduction", int(answer["id"]), alice)
    assert (await sources.response()).data["flags"] & 64  # ephemeral
    vote = await fake_discord.inject_component("mythbot:vote:1:spot-reduction", int(answer["id"]), alice)
    await vote.response()
    assert await bot.records.feedback_counts("spot-reduction") == (1, 0)


async def test_slash_ask_exercise_autocomplete_help_and_myth(fake_discord, start_bot, make_bot):
    await start_bot(make_bot())
    alice = fake_discord.make_member("alice")
    asked = await fake_discord.inject_slash_command("ask", {"question": "does spot reduction work"}, user=alice)
    assert (await asked.response()).data["embeds"][0]["title"] == "Can you burn fat from one spot?"
    typed = await fake_discord.inject_autocomplete("exercise", {"name": "clam"}, "name", user=alice)
    choices = (await typed.response()).data["choices"]
    assert choices[0] == {"name": "Clamshell", "value": "clamshell"} and len(choices) <= 25
    shown = await fake_discord.inject_slash_command("exercise", {"name": "clamshell"}, user=alice)
    assert (await shown.response()).data["embeds"][0]["title"] == "Clamshell"
    helped = await fake_discord.inject_slash_command("help", {}, user=alice)
    told = (await helped.response()).data["embeds"][0]["description"]
    assert "Ask me about training myths" in told
    assert "Questions I miss are kept a while for this server's moderators" in told  # members know what is kept
    myth = await fake_discord.inject_slash_command("myth", {"name": "protein-intake"}, user=alice)
    assert (await myth.response()).data["embeds"][0]["title"] == "How much protein do I need to build muscle?"


async def test_still_answers_after_a_gateway_reconnect(fake_discord, start_bot, make_bot):
    await start_bot(make_bot())
    general, alice = fake_discord.guild.channel("general"), fake_discord.make_member("alice")
    await fake_discord.gateway.request_reconnect()
    await fake_discord.gateway.wait_for_resume()
    mark = fake_discord.mark()
    await fake_discord.inject_message(general, alice, f"{mention(fake_discord)} does spot reduction work")
    assert embed_title(await fake_discord.wait_for_message(general.id, since=mark)) == "Can you burn fat from one spot?"
    assert fake_discord.gateway.identify_count == 1  # resumed, not a new session
    assert fake_discord.gateway.connections[-1].path == "/resume"


async def test_not_what_i_asked_offers_the_alternatives(fake_discord, start_bot, make_bot):
    await start_bot(make_bot())
    general, alice = fake_discord.guild.channel("general"), fake_discord.make_member("alice")
    mark = fake_discord.mark()
    await fake_discord.inject_message(general, alice, f"{mention(fake_discord)} will squats fix my hip dips")
    answer = await fake_discord.wait_for_message(general.id, since=mark)
    alt_id = next(cid for cid in custom_ids(answer) if cid.startswith("mythbot:alt:"))
    assert "squats-glute-growth" in alt_id
    click = await fake_discord.inject_component(alt_id, int(answer["id"]), alice)
    offered = await click.response()
    assert offered.ephemeral and "mythbot:pick:squats-glute-growth" in str(offered.components)
