"""What the bot replied with is recorded where the answering cog decides, for `/faq stats`: every answer,
did-you-mean and "no answer" a member got, and nothing for the passive messages it stayed silent on."""

from tests.e2e import member_support
from tests.e2e.member_support import mention

make_bot = member_support.make_bot  # fixture


async def said(fake, channel, member, text):
    mark = fake.mark()
    await fake.inject_message(channel, member, text)
    return await fake.wait_for_message(channel.id, since=mark)


async def test_every_reply_is_one_decision_and_passive_silence_is_none(fake_discord, start_bot, make_bot):
    general, myths = fake_discord.guild.channel("general"), fake_discord.guild.channel("myths")
    bot = await start_bot(make_bot(margin=15, listen_channels=(myths.id,)))  # a wide margin: "squats" asks
    alice = fake_discord.make_member("alice")
    await said(fake_discord, general, alice, mention(fake_discord, "does spot reduction work"))
    await said(fake_discord, general, alice, mention(fake_discord, "squats"))
    await said(fake_discord, general, alice, mention(fake_discord, "best running shoes for flat feet?"))
    asked = await fake_discord.inject_slash_command("ask", {"question": "can you burn fat from one spot"}, user=alice)
    await asked.response()
    mark = fake_discord.mark()
    await fake_discord.inject_message(myths, alice, "what running shoes are best for flat feet?")
    await fake_discord.settle()
    assert fake_discord.messages_sent(myths.id, since=mark) == []  # passive, and nothing fits: silence
    await bot.workers.drain()
    decided = await bot.records.decisions(fake_discord.guild.id, 0)
    assert [d.status for d in decided] == ["answer", "clarify", "none", "answer"]
    assert [decided[0].entry_id, decided[3].entry_id] == ["spot-reduction", "spot-reduction"]
    assert decided[1].entry_id in {"squats-hip-dips", "squats-glute-growth"}  # the first of those it offered
