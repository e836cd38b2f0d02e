"""Every member-facing command, button, follow-up and autocomplete reads one view of the knowledge per server
(`Engine.for_guild`): after moderators hide a curated myth and a curated exercise with `/faq hide`, and add
entries of their own, they all agree: nothing hidden is shown anywhere, the server's entries are."""

import pytest

from bot.cogs._ui import GONE_TEXT
from bot.engine.schema import ExerciseEntry
from bot.storage.base import Actor
from bot.storage.operations import add_entry_op
from tests.cogs.conftest import answered_in_full
from tests.e2e import member_support
from tests.e2e.member_support import custom_ids, embed_title, mention

make_bot = member_support.make_bot  # fixture

HIDDEN_MYTH, HIDDEN_MYTH_TITLE = "squats-glute-growth", "Do squats grow your glutes?"
HIDDEN_EXERCISE = "clamshell"
CREATINE_FORM = {
    "title": "Does creatine make you bloated?",
    "questions": "does creatine make you bloated\ncreatine water retention",
    "answer": "A little extra water at first, inside the muscle.",
    "verdict": "partly true / moderate",
    "sources": "10.1186/s12970-021-00412-w",
}
CREATINE_ID = "does-creatine-make-you-bloated"
FROG_PUMP = ExerciseEntry(id="frog-pump", title="Frog pump", questions=["how do i do frog pumps"],
                          evidence="limited", summary="A short-range glute bridge with the soles together.",
                          muscles=["glute max"], equipment=["floor"],
                          steps=["Lie on your back, soles together.", "Squeeze up."],
                          evidence_summary="No study measured it.")


class Member:
    """One member in #general; each asks a few times only (the flood limit is per member)."""

    def __init__(self, fake, name: str) -> None:
        self.fake, self.user, self.general = fake, fake.make_member(name), fake.guild.channel("general")

    async def say(self, text: str, *, replying_to: dict | None = None) -> dict:
        mark = self.fake.mark()
        reference = int(replying_to["id"]) if replying_to else None
        await self.fake.inject_message(self.general, self.user, text, message_reference=reference)
        return await self.fake.wait_for_message(self.general.id, since=mark)

    async def mention(self, text: str) -> dict:
        return await self.say(mention(self.fake, text))

    async def slash(self, name: str, options: dict | None = None):
        return await (await self.fake.inject_slash_command(name, options or {}, user=self.user)).response()

    async def click(self, custom_id: str, message_id: int):
        return await (await self.fake.inject_component(custom_id, message_id, self.user)).response()

    async def suggestions(self, command: str, option: str, typed: str) -> list[str]:
        typing = await self.fake.inject_autocomplete(command, {option: typed}, option, user=self.user)
        return [choice["value"] for choice in (await typing.response()).choices]


async def moderate(fake, moderator, command: str, entry_id: str) -> None:
    _, said = await answered_in_full(await fake.inject_slash_command(f"faq {command}", {"id": entry_id},
                                                                     user=moderator))
    assert entry_id in said["content"], said["content"]


async def add_own_entries(fake, bot, moderator) -> None:
    """A myth through the moderators' form, an exercise through the store (the form holds myths only)."""
    form = await (await fake.inject_slash_command("faq add", {}, user=moderator)).response()
    _, said = await answered_in_full(await fake.inject_modal_submit(form.custom_id, CREATINE_FORM, user=moderator))
    assert said["content"].startswith(f"Added `{CREATINE_ID}`")
    await bot.faq.apply(fake.guild.id, add_entry_op(FROG_PUMP, Actor(moderator.id, "bo")))


@pytest.fixture
async def bot(fake_discord, start_bot, make_bot):
    return await start_bot(make_bot())


async def test_what_a_server_hides_no_member_command_button_or_follow_up_shows(fake_discord, bot):
    alice, bob, cy = (Member(fake_discord, name) for name in ("alice", "bob", "cy"))
    squats_fix = await alice.mention("will squats fix my hip dips")
    alternatives = next(cid for cid in custom_ids(squats_fix["components"]) if cid.startswith("mythbot:alt:"))
    assert HIDDEN_MYTH in alternatives
    offered = await fake_discord.inject_component(alternatives, int(squats_fix["id"]), alice.user)
    offered_callback = await offered.response()
    pick = f"mythbot:pick:{HIDDEN_MYTH}:{alice.user.id}"
    assert pick in str(offered_callback.components)
    grow = await alice.mention("will squats grow my hips")
    spot = await alice.mention("does spot reduction work")
    assert (embed_title(grow), embed_title(spot)) == (HIDDEN_MYTH_TITLE, "Can you burn fat from one spot?")

    moderator = fake_discord.make_moderator("bo")
    for entry_id in (HIDDEN_MYTH, HIDDEN_EXERCISE):
        await moderate(fake_discord, moderator, "hide", entry_id)

    # asking: /ask and a mention
    asked = await bob.slash("ask", {"question": "will squats grow my hips"})
    assert HIDDEN_MYTH_TITLE not in str(asked.embeds) + str(asked.content) and HIDDEN_MYTH not in str(asked.components)
    mentioned = await bob.mention("will squats grow my hips")
    assert embed_title(mentioned) != HIDDEN_MYTH_TITLE and HIDDEN_MYTH not in str(mentioned["components"])
    fixed = await bob.mention("will squats fix my hip dips")
    assert "Clamshell" not in str(fixed["embeds"]) and HIDDEN_MYTH not in str(fixed["components"])
    # buttons on answers given before the entries were hidden
    again = await alice.click(alternatives, int(squats_fix["id"]))
    assert HIDDEN_MYTH not in str(again.components) and HIDDEN_MYTH_TITLE not in str(again.content)
    assert (await alice.click(pick, offered.original_message_id)).content == GONE_TEXT
    assert (await alice.click(f"mythbot:src:{HIDDEN_MYTH}", int(grow["id"]))).content == GONE_TEXT
    # follow-ups to those answers
    for follow_up in ("why?", "sources?"):
        said = await cy.say(follow_up, replying_to=grow)
        assert said["content"] == GONE_TEXT and said["embeds"] == []
    exercises_then = await cy.say("what exercises then?", replying_to=spot)
    assert "Clamshell" not in exercises_then["content"] and "no linked exercises" in exercises_then["content"]
    # /myth and its autocomplete
    assert (await bob.slash("myth", {"name": HIDDEN_MYTH})).content == GONE_TEXT
    assert HIDDEN_MYTH not in await bob.suggestions("myth", "name", "squats")
    assert HIDDEN_MYTH not in await bob.suggestions("myth", "name", "")
    # /exercise, /exercises and their autocompletes
    shown = await bob.slash("exercise", {"name": HIDDEN_EXERCISE})
    assert shown.ephemeral and shown.embeds == [] and shown.content == GONE_TEXT
    typed = await bob.slash("exercise", {"name": "clamshel"})
    assert typed.embeds == [] and "Clamshell" not in typed.content
    assert HIDDEN_EXERCISE not in await bob.suggestions("exercise", "name", "clam")
    listed = await bob.slash("exercises")
    assert "Clamshell" not in str(listed.embeds) and "Hip thrust" in str(listed.embeds)
    assert "glute medius" not in await bob.suggestions("exercises", "muscle", "glute")
    assert "mat" not in await bob.suggestions("exercises", "equipment", "")


async def test_what_a_server_adds_every_member_command_button_and_follow_up_shows(fake_discord, bot):
    alice, bob = Member(fake_discord, "alice"), Member(fake_discord, "bob")
    await add_own_entries(fake_discord, bot, fake_discord.make_moderator("bo"))

    asked = await alice.slash("ask", {"question": "does creatine make you bloated"})
    assert asked.embeds[0]["title"] == CREATINE_FORM["title"]
    answer = await alice.mention("creatine water retention")
    assert embed_title(answer) == CREATINE_FORM["title"]
    sources = await alice.click(f"mythbot:src:{CREATINE_ID}", int(answer["id"]))
    assert sources.ephemeral and "10.1186/s12970-021-00412-w" in str(sources.embeds)
    why = await bob.say("why?", replying_to=answer)
    assert embed_title(why) == f"More: {CREATINE_FORM['title']}"
    assert CREATINE_ID in await bob.suggestions("myth", "name", "creatine")
    assert (await bob.slash("myth", {"name": CREATINE_ID})).embeds[0]["title"] == CREATINE_FORM["title"]
    assert (await bob.suggestions("exercise", "name", "frog"))[0] == FROG_PUMP.id
    assert (await bob.slash("exercise", {"name": "frog pump"})).embeds[0]["title"] == "Frog pump"
    assert "Frog pump" in str((await bob.slash("exercises", {"equipment": "floor"})).embeds)
    assert "floor" in await bob.suggestions("exercises", "equipment", "fl")
