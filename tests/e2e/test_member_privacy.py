"""What members say is not republished by the bot, and what one member asked is theirs to pick from."""

import time
from types import SimpleNamespace

from bot.cogs._ui import CUSTOM_ID_MAX, PickButton
from bot.engine.knowledge import load_knowledge
from bot.storage.factory import open_storage
from tests.conftest import FIXTURE_KB
from tests.e2e import member_support
from tests.e2e.member_support import DEFERRED, custom_ids, embed_title, mention

make_bot, matching_gate = member_support.make_bot, member_support.matching_gate  # fixtures

GUILD = 111
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


async def test_what_members_wrote_is_forgotten_after_the_kept_days(fake_discord, start_bot, make_bot, tmp_path,
                                                                    monkeypatch):
    """Unanswered questions, suggestions and the question behind a vote older than
    MYTHBOT_KEEP_QUESTIONS_DAYS are gone once the bot has started; newer ones and all counts stay."""
    now = time.time()
    clock = SimpleNamespace(time=lambda: now - 31 * 86_400)
    monkeypatch.setattr("bot.storage.records.time", clock)
    faq, records = await open_storage(tmp_path / "data", None, lambda: load_knowledge(FIXTURE_KB))
    await records.record_unanswered(GUILD, 1, "an old question nobody answered")
    await records.record_suggestion(GUILD, "an old suggestion", "spot-reduction", "pick")
    await records.record_feedback(GUILD, 9, 7, entry_id="spot-reduction", helpful=True, question="an old vote")
    clock.time = lambda: now - 29 * 86_400
    await records.record_unanswered(GUILD, 1, "a newer question")
    await faq.close()
    await records.close()
    monkeypatch.undo()

    bot = await start_bot(make_bot(keep_questions_days=30))
    assert [u.question for u in await bot.records.unanswered(GUILD)] == ["a newer question"]
    assert await bot.records.suggestions(GUILD) == []
    assert await bot.records.feedback_counts("spot-reduction", GUILD) == (1, 0)
