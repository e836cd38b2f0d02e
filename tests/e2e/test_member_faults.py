"""Discord refusing or failing the bot's replies: a deleted question, a channel the bot may not speak in,
a server error. Each is handled where it happens: no ERROR traceback a member could trigger at will."""

import logging

from tests.e2e import member_support
from tests.e2e.member_support import embed_title, fail_next_messages, mention
from tests.standin.world import Perm

make_bot, matching_gate = member_support.make_bot, member_support.matching_gate  # fixtures


async def test_a_question_deleted_before_the_reply_is_answered_without_the_reply_link(
        fake_discord, start_bot, make_bot, matching_gate, caplog):
    bot = make_bot()
    gate = matching_gate(bot)
    await start_bot(bot)
    general, alice = fake_discord.guild.channel("general"), fake_discord.make_member("alice")
    await gate.hold()
    mark = fake_discord.mark()
    question = await fake_discord.inject_message(general, alice, mention(fake_discord, "does spot reduction work"))
    del fake_discord.messages[int(question["id"])]  # deleted while the bot was still matching
    await gate.release()
    answer = await fake_discord.wait_for_message(general.id, since=mark)
    assert embed_title(answer) == "Can you burn fat from one spot?"
    assert "message_reference" not in answer
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_channel_where_the_bot_cannot_speak_is_one_warning_not_a_traceback(fake_discord, start_bot, make_bot,
                                                                                   caplog):
    await start_bot(make_bot())
    for role in fake_discord.guild.roles:
        role.permissions &= ~Perm.SEND_MESSAGES
    general, alice = fake_discord.guild.channel("general"), fake_discord.make_member("alice")
    mark = fake_discord.mark()
    with caplog.at_level(logging.INFO, logger="mythbot"):
        await fake_discord.inject_message(general, alice, mention(fake_discord, "does spot reduction work"))
        refused = await fake_discord.wait_for_call("POST", f"/channels/{general.id}/messages", since=mark)
        await fake_discord.settle()
    assert refused.status == 403
    warnings = [r.getMessage() for r in caplog.records if r.name.startswith("mythbot") and r.levelno >= logging.WARNING]
    assert warnings == [f"cannot answer in guild={fake_discord.guild.id} channel={general.id}: Missing Permissions"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_single_503_on_the_reply_is_retried_once(fake_discord, start_bot, make_bot, monkeypatch):
    await start_bot(make_bot())
    general, alice = fake_discord.guild.channel("general"), fake_discord.make_member("alice")
    fail_next_messages(fake_discord, monkeypatch, [503])
    mark = fake_discord.mark()
    await fake_discord.inject_message(general, alice, mention(fake_discord, "does spot reduction work"))
    answer = await fake_discord.wait_for_message(general.id, since=mark)
    assert embed_title(answer) == "Can you burn fat from one spot?"
    assert [c.status for c in fake_discord.calls_to("POST", "/channels/{id}/messages", since=mark)] == [503, 200]


async def test_a_reply_that_finally_fails_is_one_warning_naming_guild_and_channel(fake_discord, start_bot, make_bot,
                                                                                  monkeypatch, caplog):
    await start_bot(make_bot())
    general, alice = fake_discord.guild.channel("general"), fake_discord.make_member("alice")
    fail_next_messages(fake_discord, monkeypatch, [503, 503])
    mark = fake_discord.mark()
    with caplog.at_level(logging.INFO, logger="mythbot"):
        await fake_discord.inject_message(general, alice, mention(fake_discord, "does spot reduction work"))
        await fake_discord.wait_until(lambda: len(fake_discord.calls_to("POST", "/channels/{id}/messages",
                                                                        since=mark)) == 2)
        await fake_discord.settle()
    warnings = [r.getMessage() for r in caplog.records if r.name.startswith("mythbot") and r.levelno >= logging.WARNING]
    assert warnings == [f"could not answer in guild={fake_discord.guild.id} channel={general.id}: "
                        "Discord said 503 Service Unavailable"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    mark = fake_discord.mark()
    await fake_discord.inject_message(general, alice, mention(fake_discord, "how much protein should i eat"))
    assert embed_title(await fake_discord.wait_for_message(general.id, since=mark)) == \
        "How much protein do I need to build muscle?"
