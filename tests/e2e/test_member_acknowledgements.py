"""A "thanks!" to the bot is not a question: no "I don't have a sourced answer", nothing recorded."""

import pytest

from bot.cogs.answering import is_acknowledgement
from tests.e2e import member_support
from tests.e2e.member_support import embed_title, mention

make_bot = member_support.make_bot  # fixture

THANKS = ["thanks!", "Thank you so much", "ty", "thx 🙏", "ok", "OK cool", "cool, makes sense", "👍", "🙏🙏",
          "<:pepe_thanks:123456789012345678>", "awesome thanks a lot", "got it, thanks", "nice one"]
NOT_THANKS = ["sources?", "why?", "what exercises then?", "ok so what exercises then?", "thanks, but why?",
              "does spot reduction work", "cool but do squats fix hip dips", "10", ""]


@pytest.mark.parametrize("text", THANKS)
def test_thanks_and_acknowledgements_are_not_questions(text):
    assert is_acknowledgement(text)


@pytest.mark.parametrize("text", NOT_THANKS)
def test_follow_ups_and_questions_are_not_acknowledgements(text):
    assert not is_acknowledgement(text)


async def test_thanks_in_reply_to_an_answer_gets_silence_and_is_not_recorded(fake_discord, start_bot, make_bot):
    bot = await start_bot(make_bot())
    general, alice = fake_discord.guild.channel("general"), fake_discord.make_member("alice")
    mark = fake_discord.mark()
    await fake_discord.inject_message(general, alice, mention(fake_discord, "does spot reduction work"))
    answer = await fake_discord.wait_for_message(general.id, since=mark)
    mark = fake_discord.mark()
    await fake_discord.inject_message(general, alice, "thanks!", message_reference=int(answer["id"]))
    await fake_discord.inject_message(general, alice, mention(fake_discord, "ok cool 👍"))
    await fake_discord.inject_dm(alice, "ty")
    await fake_discord.settle()
    await bot.workers.drain()
    assert fake_discord.messages_sent(since=mark) == []
    assert await bot.records.unanswered(fake_discord.guild.id) == [] and await bot.records.unanswered(None) == []
    await fake_discord.inject_message(general, alice, "why?", message_reference=int(answer["id"]))
    follow = await fake_discord.wait_for_message(general.id, since=mark)
    assert embed_title(follow) == "More: Can you burn fat from one spot?"
