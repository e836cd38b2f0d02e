"""Discord refusing or failing the bot's replies: a deleted question, a channel the bot may not speak in,
a server error. Each is handled where it happens: no ERROR traceback a member could trigger at will."""

import logging

from tests.e2e import member_support
from tests.e2e.member_support import embed_title, mention
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
