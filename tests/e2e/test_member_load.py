"""Members under load, through the real discord.py client: a busy matching pool, a locked or unwritable
database, a raid in one channel. Nobody who asks is left without an acknowledgement or a reply."""

from tests.e2e import member_support
from tests.e2e.member_support import DEFERRED, embed_title

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
