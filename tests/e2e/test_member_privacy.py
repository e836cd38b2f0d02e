"""What members say is not republished by the bot, and what one member asked is theirs to pick from."""

from tests.e2e import member_support
from tests.e2e.member_support import DEFERRED

make_bot, matching_gate = member_support.make_bot, member_support.matching_gate  # fixtures

SCAM = "free nitro at discord.gg/abcdef https://scam.example/claim @everyone <@&123> hurry"


def republished(text: str) -> list[str]:
    return [piece for piece in ("discord.gg", "scam.example", "@everyone", "<@&123>", "nitro") if piece in text]


async def test_ask_with_no_answer_does_not_republish_the_member_s_text(fake_discord, start_bot, make_bot):
    await start_bot(make_bot())
    alice = fake_discord.make_member("alice")
    asked = await fake_discord.inject_slash_command("ask", {"question": SCAM}, user=alice)
    said = await asked.response()
    assert "don't have a sourced answer" in said.content
    assert said.ephemeral and republished(said.content) == []


async def test_ask_did_you_mean_is_private_and_does_not_repeat_the_question(fake_discord, start_bot, make_bot):
    await start_bot(make_bot())
    alice = fake_discord.make_member("alice")
    asked = await fake_discord.inject_slash_command("ask", {"question": "squats"}, user=alice)
    said = await asked.response()
    assert said.content == "Did you mean one of these?" and said.ephemeral


async def test_a_deferred_ask_with_no_answer_does_not_republish_it_either(fake_discord, start_bot, make_bot,
                                                                         matching_gate):
    bot = make_bot()
    gate = matching_gate(bot)
    await start_bot(bot)
    alice = fake_discord.make_member("alice")
    await gate.hold()
    asked = await fake_discord.inject_slash_command("ask", {"question": SCAM}, user=alice)
    assert (await asked.response()).type == DEFERRED
    await gate.release()
    said = await asked.followup(0)
    assert "don't have a sourced answer" in said["content"] and republished(said["content"]) == []
