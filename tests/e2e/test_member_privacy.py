"""What members say is not republished by the bot, and what one member asked is theirs to pick from."""

from bot.cogs._ui import CUSTOM_ID_MAX, PickButton
from tests.e2e import member_support
from tests.e2e.member_support import DEFERRED, custom_ids, embed_title, mention

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
    await start_bot(make_bot(margin=15))  # a wide margin makes "squats" a sure "did you mean"
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


async def test_only_the_member_who_asked_can_pick_from_did_you_mean(fake_discord, start_bot, make_bot):
    await start_bot(make_bot(margin=15))  # a wide margin makes "squats" a sure "did you mean"
    general = fake_discord.guild.channel("general")
    alice, mallory = fake_discord.make_member("alice"), fake_discord.make_member("mallory")
    mark = fake_discord.mark()
    await fake_discord.inject_message(general, alice, mention(fake_discord, "squats"))
    prompt = await fake_discord.wait_for_message(general.id, since=mark)
    pick = f"mythbot:pick:squats-hip-dips:{alice.id}"
    assert pick in custom_ids(prompt["components"])
    refused = await (await fake_discord.inject_component(pick, int(prompt["id"]), mallory)).response()
    assert refused.ephemeral and refused.content.startswith("Only the member who asked can pick")
    assert fake_discord.messages[int(prompt["id"])]["content"] == "Did you mean one of these?"  # untouched
    await (await fake_discord.inject_component(pick, int(prompt["id"]), alice)).response()
    assert embed_title(fake_discord.messages[int(prompt["id"])]) == "Will squats fix hip dips?"


def test_pick_ids_carry_the_asker_within_discord_s_limit_and_old_ids_still_work():
    longest_entry, largest_snowflake = "a" * 64, 2**64 - 1
    button = PickButton(longest_entry, asker_id=largest_snowflake)
    assert len(button.custom_id) <= CUSTOM_ID_MAX
    assert button.template.fullmatch(button.custom_id)["asker"] == str(largest_snowflake)
    assert button.template.fullmatch("mythbot:pick:spot-reduction")["asker"] is None
