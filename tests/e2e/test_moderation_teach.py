"""Moderators teach the bot from `/faq gaps` and undo it, through the real discord.py client and the stand-in:
members' unanswered questions, one pick in the report, and the next member asking gets that answer."""

import logging
import shutil

import pytest

from bot.cogs._errors import APOLOGY
from bot.cogs._ui import NO_ANSWER_TEXT
from bot.discord_app import create_bot
from bot.faq.teaching import key_of
from bot.settings import load_settings
from tests.conftest import FIXTURE_KB
from tests.e2e.test_moderation_journeys import ask, final_reply

# Spot reduction in words the fixture's entry does not know: each gets no answer (with the semantic scorer too).
LOVE = ("can side bends melt my love handles", "love handles side bends work?", "side bends for love handles")
SPOT = "spot-reduction"
SPOT_TITLE = "Can you burn fat from one spot?"
TEACH = f"mythbot:faq:teach:30:{key_of(LOVE[0])}"
UNTRAIN = f"mythbot:faq:untrain:{SPOT}"


@pytest.fixture
def settings(tmp_path):
    knowledge = tmp_path / "knowledge"
    shutil.copytree(FIXTURE_KB, knowledge)
    return load_settings(knowledge_dir=knowledge, data_dir=tmp_path / "data")


@pytest.fixture
async def running(fake_discord, start_bot, settings):
    return await start_bot(create_bot(settings))


async def shown(fake, interaction):
    """The private message the moderator finally sees, as stored (with its id, for clicking on it)."""
    message = await final_reply(interaction)
    return message if "id" in message else fake.messages[interaction.original_message_id]


def answered_title(message):
    return message["embeds"][0]["title"] if message["embeds"] else None


def components(message):
    return {c["custom_id"]: c for row in message["components"] for c in row["components"] if "custom_id" in c}


async def members_ask_unanswered(fake):
    member = fake.make_member("alice")
    for question in (LOVE[0], *LOVE):  # the first is asked most, so it leads the group
        assert (await ask(fake, member, question))["content"] == NO_ANSWER_TEXT


async def gaps_report(fake, moderator):
    report = await final_reply(await fake.inject_slash_command("faq gaps", {}, user=moderator))
    assert TEACH in components(report), components(report)
    return report


async def test_a_pick_in_the_gaps_report_answers_the_next_member_until_untrained(fake_discord, running):
    moderator, bob = fake_discord.make_moderator("mod"), fake_discord.make_member("bob")
    await members_ask_unanswered(fake_discord)
    report = await gaps_report(fake_discord, moderator)
    select = components(report)[TEACH]
    offered = [option["value"] for option in select["options"]]
    assert offered[0] == SPOT and offered[-1] == "+new"
    assert all(LOVE[0] not in custom_id for custom_id in components(report))  # members' words stay out

    picked = await fake_discord.inject_component(TEACH, int(report["id"]), moderator, values=[SPOT])
    done = await final_reply(picked)
    assert done["flags"] & 64 and done["content"].startswith(f"Taught 3 questions as phrasings of `{SPOT}`")
    assert f"/faq untrain id:{SPOT}" in done["content"]
    for question in LOVE:
        assert answered_title(await ask(fake_discord, bob, question)) == SPOT_TITLE

    suggested = await fake_discord.inject_autocomplete("faq untrain", {"id": ""}, "id", user=moderator)
    assert [choice["value"] for choice in (await suggested.response()).choices] == [SPOT]
    offer = await shown(fake_discord, await fake_discord.inject_slash_command("faq untrain", {"id": SPOT},
                                                                              user=moderator))
    assert {option["label"] for option in components(offer)[UNTRAIN]["options"]} >= set(LOVE)
    forgot = await fake_discord.inject_component(UNTRAIN, int(offer["id"]), moderator, values=["+all"])
    assert (await final_reply(forgot))["content"].startswith(f"Forgot 3 taught phrasings of `{SPOT}`")
    carol = fake_discord.make_member("carol")  # a member gets at most five replies a minute
    for question in LOVE:
        assert (await ask(fake_discord, carol, question))["content"] == NO_ANSWER_TEXT


async def test_a_member_pressing_the_select_is_refused_and_nothing_changes(fake_discord, running):
    moderator, member = fake_discord.make_moderator("mod"), fake_discord.make_member("mallory")
    await members_ask_unanswered(fake_discord)
    report = await gaps_report(fake_discord, moderator)
    attempt = await fake_discord.inject_component(TEACH, int(report["id"]), member, values=[SPOT])
    refusal = await attempt.response()
    assert refusal.type == 4 and refusal.ephemeral and "Only moderators" in refusal.content
    assert (await ask(fake_discord, member, LOVE[0]))["content"] == NO_ANSWER_TEXT
    assert running.faq.state(fake_discord.guild.id).trained == {}


async def test_write_a_new_entry_opens_the_form_with_the_groups_questions(fake_discord, running):
    moderator, bob = fake_discord.make_moderator("mod"), fake_discord.make_member("bob")
    await members_ask_unanswered(fake_discord)
    report = await gaps_report(fake_discord, moderator)
    opened = await fake_discord.inject_component(TEACH, int(report["id"]), moderator, values=["+new"])
    modal = await opened.response()
    assert modal.type == 9
    fields = {c["custom_id"]: c.get("value") for row in modal.data["components"] for c in row["components"]}
    assert fields["questions"].splitlines()[0] == LOVE[0] and set(fields["questions"].splitlines()) == set(LOVE)
    form = {"title": "Do side bends melt love handles?", "answer": "No: fat comes off the whole body, not one spot.",
            "verdict": "myth / moderate"}
    saved = await fake_discord.inject_modal_submit(modal.data["custom_id"], form, user=moderator)
    assert (await final_reply(saved))["content"].startswith("Added `do-side-bends-melt-love-handles`")
    assert answered_title(await ask(fake_discord, bob, LOVE[1])) == form["title"]


async def test_the_show_card_lists_taught_phrasings_and_forgets_them(fake_discord, running):
    moderator, bob = fake_discord.make_moderator("mod"), fake_discord.make_member("bob")
    await members_ask_unanswered(fake_discord)
    report = await gaps_report(fake_discord, moderator)
    await final_reply(await fake_discord.inject_component(TEACH, int(report["id"]), moderator, values=[SPOT]))
    card = await final_reply(await fake_discord.inject_slash_command("faq show", {"id": SPOT}, user=moderator))
    taught = next(field for field in card["embeds"][0]["fields"] if field["name"].startswith("Taught here"))
    assert all(question in taught["value"] for question in LOVE)
    forget = f"mythbot:faq:forget:{SPOT}"
    offer = await shown(fake_discord, await fake_discord.inject_component(forget, int(card["id"]), moderator))
    options = {option["label"]: option["value"] for option in components(offer)[UNTRAIN]["options"]}
    picked = await fake_discord.inject_component(UNTRAIN, int(offer["id"]), moderator, values=[options[LOVE[2]]])
    assert "Forgot 1 taught phrasing" in (await final_reply(picked))["content"]
    assert LOVE[2] not in running.faq.state(fake_discord.guild.id).trained[SPOT]
    assert answered_title(await ask(fake_discord, bob, LOVE[0])) == SPOT_TITLE


async def test_the_selects_work_after_a_restart(fake_discord, start_bot, settings):
    before = await start_bot(create_bot(settings))
    moderator, bob = fake_discord.make_moderator("mod"), fake_discord.make_member("bob")
    await members_ask_unanswered(fake_discord)
    report = await gaps_report(fake_discord, moderator)
    await before.close()
    after = await start_bot(create_bot(settings))  # the report is not in its memory: it is built again

    opened = await fake_discord.inject_component(TEACH, int(report["id"]), moderator, values=["+new"])
    restarted = await final_reply(opened)  # a form must answer the click itself, so one more click opens it
    assert "restarted" in restarted["content"]
    button = f"mythbot:faq:teachnew:30:{key_of(LOVE[0])}"
    form = await (await fake_discord.inject_component(button, int(restarted["id"]), moderator)).response()
    assert form.type == 9 and LOVE[0] in str(form.data)

    picked = await fake_discord.inject_component(TEACH, int(report["id"]), moderator, values=[SPOT])
    assert (await final_reply(picked))["content"].startswith("Taught 3 questions")
    assert answered_title(await ask(fake_discord, bob, LOVE[1])) == SPOT_TITLE
    assert set(after.faq.state(fake_discord.guild.id).trained[SPOT]) == set(LOVE)


async def test_members_cannot_forget_taught_phrasings(fake_discord, running):
    moderator, member = fake_discord.make_moderator("mod"), fake_discord.make_member("mallory")
    await members_ask_unanswered(fake_discord)
    report = await gaps_report(fake_discord, moderator)
    await final_reply(await fake_discord.inject_component(TEACH, int(report["id"]), moderator, values=[SPOT]))
    card = await final_reply(await fake_discord.inject_slash_command("faq show", {"id": SPOT}, user=moderator))
    offer = await shown(fake_discord, await fake_discord.inject_component(f"mythbot:faq:forget:{SPOT}",
                                                                          int(card["id"]), moderator))
    for custom_id, message, values in ((f"mythbot:faq:forget:{SPOT}", card, None), (UNTRAIN, offer, ["+all"])):
        attempt = await fake_discord.inject_component(custom_id, int(message["id"]), member, values=values)
        assert (await attempt.response()).content.startswith("Only moderators")
    assert set(running.faq.state(fake_discord.guild.id).trained[SPOT]) == set(LOVE)
    nothing = await fake_discord.inject_slash_command("faq untrain", {"id": "protein-intake"}, user=moderator)
    assert (await final_reply(nothing))["content"] == "Nothing was taught for `protein-intake` in this server."


async def test_the_five_most_asked_groups_get_a_select(fake_discord, running):
    moderator = fake_discord.make_moderator("mod")
    topics = ("running shoes flat feet", "yoga count as cardio", "nap after training", "sauna after lifting",
              "cold plunge recovery", "standing desk posture", "barefoot walking knees")
    for times, topic in enumerate(topics, 1):  # the last is asked most
        for _ in range(times):
            await running.records.record_unanswered(fake_discord.guild.id, 10, f"is {topic} worth it")
    report = await final_reply(await fake_discord.inject_slash_command("faq gaps", {}, user=moderator))
    selects = [c for row in report["components"] for c in row["components"] if c["type"] == 3]
    assert [s["custom_id"] for s in selects] == [f"mythbot:faq:teach:30:{key_of(f'is {topic} worth it')}"
                                                 for topic in reversed(topics[2:])]
    assert all(len(s["custom_id"]) <= 100 and s["options"][-1]["value"] == "+new" for s in selects)


async def test_a_menu_that_fails_apologises_and_logs_one_line_naming_it(fake_discord, running, caplog):
    moderator = fake_discord.make_moderator("mod")
    await members_ask_unanswered(fake_discord)
    report = await gaps_report(fake_discord, moderator)
    fake_discord.fail_next("POST", "/interactions/{id}/{token}/callback", 403,
                           {"message": "Missing Permissions", "code": 50013})
    picked = await fake_discord.inject_component(TEACH, int(report["id"]), moderator, values=[SPOT])
    said = await picked.response()
    assert said.content == APOLOGY and said.ephemeral
    [failure] = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert failure.getMessage().startswith(f"menu {TEACH} failed") and failure.exc_info
