"""Members under load, through the real discord.py client: a busy matching pool, a locked or unwritable
database, a raid in one channel. Nobody who asks is left without an acknowledgement or a reply."""

import asyncio
import logging
import sqlite3

import pytest

from bot.cogs.answering import (
    BUSY_TEXT,
    CHANNEL_REPLIES,
    FLOOD_REPLIES,
    GUILD_REPLIES,
    SERVER_BUSY_TEXT,
    SLOW_DOWN_TEXT,
    STALE_AFTER,
)
from bot.engine.engine import MAX_TYPED_CHARS
from bot.storage.operations import hide_entry
from tests.e2e import member_support
from tests.e2e.member_support import DEFERRED, embed_title, mention

make_bot, matching_gate = member_support.make_bot, member_support.matching_gate  # fixtures


async def test_ask_is_acknowledged_in_time_and_answered_while_matching_is_saturated(
        fake_discord, start_bot, make_bot, matching_gate):
    bot = make_bot()
    gate = matching_gate(bot)
    await start_bot(bot)
    alice = fake_discord.make_member("alice")
    await gate.hold()
    asked = await fake_discord.inject_slash_command("ask", {"question": "does spot reduction work"}, user=alice)
    acknowledged = await asked.response()  # the stand-in refuses callbacks after Discord's 3 s deadline
    assert acknowledged.type == DEFERRED
    await gate.release()
    answer = await asked.followup(0)
    assert embed_title(answer) == "Can you burn fat from one spot?"


@pytest.fixture
def database_held(make_bot):
    """Another connection holding the bot's database, as an admin's sqlite3 shell or a backup tool would."""
    holders = []

    def hold(bot):
        holder = sqlite3.connect(bot.settings.data_dir / "mythbot.sqlite3", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        holders.append(holder)

    yield hold
    for holder in holders:
        holder.close()


async def reply_to(fake, question, since):
    return await fake.wait_for_message(
        int(question["channel_id"]), since=since,
        predicate=lambda m: (m.get("message_reference") or {}).get("message_id") == question["id"])


async def unanswerable_then_answerable(fake):
    """Alice asks what no entry answers, then Bob asks what one does; both replies."""
    general, alice, bob = fake.guild.channel("general"), fake.make_member("alice"), fake.make_member("bob")
    mark = fake.mark()
    unanswerable = await fake.inject_message(general, alice, mention(fake, "best running shoes for flat feet?"))
    answerable = await fake.inject_message(general, bob, mention(fake, "does spot reduction work"))
    return await reply_to(fake, unanswerable, mark), await reply_to(fake, answerable, mark)


async def test_a_locked_database_costs_no_reply_and_never_freezes_the_bot(fake_discord, start_bot, make_bot,
                                                                          database_held, caplog):
    bot = await start_bot(make_bot())
    database_held(bot)
    with caplog.at_level(logging.WARNING, logger="bot.workers"):
        no_answer, answer = await unanswerable_then_answerable(fake_discord)
        await bot.workers.drain()
    assert "don't have a sourced answer" in no_answer["content"]
    assert embed_title(answer) == "Can you burn fat from one spot?"
    # Each write gives up by itself (SQLite's wait is shorter than the workers' timeout), or, queued behind
    # the reply's decision record on the one database thread, at the timeout: lost, never waited for.
    assert "could not record an unanswered question: " in caplog.text
    assert "RecordFailed: the records database did not answer (database is locked)" in caplog.text


async def test_an_unwritable_database_costs_no_reply(fake_discord, start_bot, make_bot, caplog):
    bot = await start_bot(make_bot())
    # SQLite's own refusal to write, as for a file on a read-only mount (as root, chmod would not stop us).
    bot.records._records._db.execute("PRAGMA query_only = ON")
    with caplog.at_level(logging.WARNING, logger="bot.workers"):
        no_answer, answer = await unanswerable_then_answerable(fake_discord)
        await bot.workers.drain()
    assert "don't have a sourced answer" in no_answer["content"]
    assert embed_title(answer) == "Can you burn fat from one spot?"
    assert "could not record an unanswered question: RecordFailed: the records database did not answer (" \
        in caplog.text


async def test_a_vote_on_a_locked_database_is_still_acknowledged(fake_discord, start_bot, make_bot, database_held):
    bot = await start_bot(make_bot())
    general, alice = fake_discord.guild.channel("general"), fake_discord.make_member("alice")
    mark = fake_discord.mark()
    await fake_discord.inject_message(general, alice, mention(fake_discord, "does spot reduction work"))
    answer = await fake_discord.wait_for_message(general.id, since=mark)
    database_held(bot)
    vote = await fake_discord.inject_component("mythbot:vote:1:spot-reduction", int(answer["id"]), alice)
    thanks = await vote.response()  # within Discord's 3 s, or the stand-in refuses it
    assert thanks.ephemeral and "couldn't save your vote" in thanks.content


async def test_a_raid_in_one_channel_gets_at_most_the_cap_and_one_busy_notice(fake_discord, start_bot, make_bot):
    await start_bot(make_bot())
    general, myths = fake_discord.guild.channel("general"), fake_discord.guild.channel("myths")
    raiders = [fake_discord.make_member(f"raider{n}") for n in range(20)]
    mark = fake_discord.mark()
    for n in range(100):
        await fake_discord.inject_message(general, raiders[n % 20], mention(fake_discord, "does spot reduction work"))
    await fake_discord.settle()
    sent = fake_discord.messages_sent(general.id, since=mark)
    assert len(sent) <= CHANNEL_REPLIES + 1
    assert [m["content"] for m in sent].count(BUSY_TEXT) == 1
    bystander = fake_discord.make_member("bystander")
    await fake_discord.inject_message(myths, bystander, mention(fake_discord, "how much protein should i eat"))
    answer = await fake_discord.wait_for_message(myths.id, since=mark)
    assert embed_title(answer) == "How much protein do I need to build muscle?"


async def test_a_raid_spread_over_channels_gets_at_most_the_server_cap(fake_discord, start_bot, make_bot):
    channels = [fake_discord.guild.channel("general"), fake_discord.guild.channel("myths"),
                *(fake_discord.add_channel(f"raid-{n}") for n in range(2))]
    await start_bot(make_bot())
    raiders = [fake_discord.make_member(f"raider{n}") for n in range(40)]
    mark = fake_discord.mark()
    for n in range(120):  # 30 a channel: each channel alone would answer its cap of 10, 40 in all
        await fake_discord.inject_message(channels[n % 4], raiders[n % 40], mention(fake_discord, "spot reduction?"))
    await fake_discord.settle()
    sent = [m for channel in channels for m in fake_discord.messages_sent(channel.id, since=mark)]
    notices = [m for m in sent if m["content"] in (BUSY_TEXT, SERVER_BUSY_TEXT)]
    assert len(sent) - len(notices) == GUILD_REPLIES < 4 * CHANNEL_REPLIES
    assert len(notices) <= len(channels)  # at most one notice a channel in the window
    assert any(m["content"] == SERVER_BUSY_TEXT for m in notices)


async def test_ask_in_a_busy_channel_answers_privately_and_a_fast_asker_is_slowed(fake_discord, start_bot, make_bot):
    await start_bot(make_bot())
    general = fake_discord.guild.channel("general")
    raiders = [fake_discord.make_member(f"raider{n}") for n in range(CHANNEL_REPLIES)]
    for raider in raiders:  # fill the channel's cap
        await fake_discord.inject_message(general, raider, mention(fake_discord, "does spot reduction work"))
    await fake_discord.settle()
    alice = fake_discord.make_member("alice")
    asked = await fake_discord.inject_slash_command("ask", {"question": "does spot reduction work"}, user=alice,
                                                    channel=general)
    said = await asked.response()
    assert embed_title(said) == "Can you burn fat from one spot?" and said.ephemeral

    bo = fake_discord.make_member("bo")
    replies = []
    for _ in range(FLOOD_REPLIES + 1):
        asked = await fake_discord.inject_slash_command("ask", {"question": "how much protein"}, user=bo,
                                                        channel=fake_discord.guild.channel("myths"))
        replies.append(await asked.response())
    assert all(reply.content != SLOW_DOWN_TEXT for reply in replies[:FLOOD_REPLIES])
    assert replies[-1].content == SLOW_DOWN_TEXT and replies[-1].ephemeral


class SteppedClock:
    """A clock the test moves; `read` is set once the bot has read it (first when a message arrives)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.read = asyncio.Event()

    def __call__(self) -> float:
        self.read.set()
        return self.now


async def test_an_answer_that_waited_too_long_is_dropped_not_sent_late(fake_discord, start_bot, make_bot,
                                                                        matching_gate):
    bot = make_bot()
    gate = matching_gate(bot)
    await start_bot(bot)
    clock = bot.get_cog("Answering").clock = SteppedClock()
    general, alice, bob = fake_discord.guild.channel("general"), *map(fake_discord.make_member, ("alice", "bob"))
    await gate.hold()
    mark = fake_discord.mark()
    await fake_discord.inject_message(general, alice, mention(fake_discord, "does spot reduction work"))
    await asyncio.wait_for(clock.read.wait(), 10)  # the bot has alice's question
    clock.now += STALE_AFTER + 1  # alice's question waited behind a saturated matching pool
    await gate.release()
    # Questions are matched in turn, so by the time bob's arrives, alice's has been decided.
    await fake_discord.inject_message(general, bob, mention(fake_discord, "how much protein should i eat"))
    await fake_discord.wait_for_message(general.id, since=mark)
    await fake_discord.settle()
    assert [embed_title(m) for m in fake_discord.messages_sent(general.id, since=mark)] == \
        ["How much protein do I need to build muscle?"]


LONG_TYPED = "will squats fix hip dips".ljust(MAX_TYPED_CHARS, ".") + "can you burn fat from one spot " * 190


def test_myth_suggestions_read_only_the_start_of_what_is_typed(fixture_engine):
    knowledge = fixture_engine.for_guild(None)
    assert len(LONG_TYPED) <= 6000  # what Discord sends at most
    assert knowledge.myth_choices(LONG_TYPED) == knowledge.myth_choices(LONG_TYPED[:MAX_TYPED_CHARS])
    assert knowledge.myth_choices(LONG_TYPED)[0][0] == "squats-hip-dips"


async def test_myth_autocomplete_on_a_6000_character_value_suggests_what_this_server_may_see(
        fake_discord, start_bot, make_bot):
    bot = await start_bot(make_bot())
    alice = fake_discord.make_member("alice")
    await bot.faq.apply(fake_discord.guild.id, hide_entry("spot-reduction"))
    typed = await fake_discord.inject_autocomplete("myth", {"name": LONG_TYPED}, "name", user=alice)
    choices = [c["value"] for c in (await typed.response()).choices]
    assert choices[0] == "squats-hip-dips" and "spot-reduction" not in choices
