"""The error policy (bot/cogs/_errors.py), through the real discord.py client: when something fails on the
bot's side in a slash command, an autocomplete, a button, a form or a message handler, the member gets one
short private apology and the operator exactly one ERROR line with the traceback, naming what failed and
where; discord.py logs nothing of its own. What Discord refuses on a reply to a message is one WARNING.
A database that fails where the bot expects it to (a record lost, a store that reports `StorageError`)
costs no reply and no apology."""

import asyncio
import logging
import sqlite3

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from bot.cogs._errors import APOLOGY, interaction_failed
from bot.discord_app import MythBot, create_bot
from bot.settings import load_settings
from bot.storage.base import RecordFailed
from bot.storage.factory import open_storage
from tests.cogs.conftest import DEFERRED, answered_in_full
from tests.conftest import FIXTURE_KB
from tests.e2e.member_support import embed_title, mention

MISSING_PERMISSIONS = {"message": "Missing Permissions", "code": 50013}
CREATINE_FORM = {
    "title": "Does creatine make you bloated?",
    "questions": "does creatine make you bloated",
    "answer": "A little extra water at first, inside the muscle.",
    "verdict": "partly true / moderate",
    "sources": "",
}


class Breakable:
    """A real store whose chosen methods fail as a broken database would, once `fail(...)` says so."""

    def __init__(self, real: object) -> None:
        self._real = real
        self.failing: dict[str, Exception] = {}

    def fail(self, error: Exception, *names: str) -> None:
        self.failing.update(dict.fromkeys(names, error))

    def __getattr__(self, name: str):
        real = getattr(self._real, name)
        if name not in self.failing:
            return real
        error = self.failing[name]
        if asyncio.iscoroutinefunction(real):
            async def broken(*args, **kwargs):
                raise error
        else:
            def broken(*args, **kwargs):
                raise error
        return broken


@pytest.fixture
async def stores(tmp_path, fixture_kb):
    faq, records = await open_storage(tmp_path / "data", None, lambda: fixture_kb)
    return Breakable(faq), Breakable(records)


@pytest.fixture
async def bot(fake_discord, start_bot, stores, tmp_path):
    settings = load_settings(knowledge_dir=FIXTURE_KB, data_dir=tmp_path / "data",
                             listen_channels=(fake_discord.guild.channel("general").id,))
    return await start_bot(create_bot(settings, storage=stores))


class BotLog(logging.Handler):
    """The bot's own WARNING+ lines (its mythbot.* and bot.* loggers) as (level, message, has a traceback)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []
        self.changed = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(("mythbot", "bot.")):
            self.records.append(record)
            self.changed.set()

    def __call__(self) -> list[tuple[int, str, bool]]:
        return [(r.levelno, r.getMessage(), r.exc_info is not None) for r in self.records]

    async def wait_for(self, count: int) -> None:
        async with asyncio.timeout(10):
            while len(self.records) < count:
                self.changed.clear()
                await self.changed.wait()


@pytest.fixture
def policy_log():
    lines = BotLog()
    logging.getLogger().addHandler(lines)
    yield lines
    logging.getLogger().removeHandler(lines)


def one_error(policy_log, starting: str) -> str:
    [(level, message, traced)] = policy_log()
    assert level == logging.ERROR and traced and message.startswith(starting), message
    return message


def where(fake, user, channel=None) -> str:
    channel = channel or fake.guild.channel("general")
    return f"(guild={fake.guild.id} channel={channel.id} user={user.id})"


# --- slash commands -----------------------------------------------------------------------------------------

async def test_a_slash_command_whose_database_read_breaks_apologises_after_its_deferral(
        fake_discord, bot, stores, policy_log, discord_log):
    _, records = stores
    records.fail(sqlite3.DatabaseError("database disk image is malformed"), "unanswered")  # not wrapped: a bug
    moderator = fake_discord.make_moderator("bo")
    deferred, said = await answered_in_full(await fake_discord.inject_slash_command("faq gaps", {}, user=moderator))
    assert said["content"] == APOLOGY and deferred.ephemeral
    message = one_error(policy_log, "/faq gaps failed ")
    assert message == f"/faq gaps failed {where(fake_discord, moderator)}"
    assert discord_log.errors == []


async def test_a_database_read_the_store_reports_is_told_plainly_not_apologised_for(fake_discord, bot, stores,
                                                                                     policy_log):
    _, records = stores
    records.fail(RecordFailed("the records database did not answer (locked)"), "unanswered")
    moderator = fake_discord.make_moderator("bo")
    _, said = await answered_in_full(await fake_discord.inject_slash_command("faq gaps", {}, user=moderator))
    assert said["content"].startswith("Could not read the unanswered questions: the records database did not")
    assert policy_log() == []


async def test_a_slash_command_whose_reply_is_forbidden_apologises_once(fake_discord, bot, policy_log):
    alice = fake_discord.make_member("alice")
    fake_discord.fail_next("POST", "/interactions/{id}/{token}/callback", 403, MISSING_PERMISSIONS)
    shown = await (await fake_discord.inject_slash_command("exercise", {"name": "clamshell"}, user=alice)).response()
    assert shown.content == APOLOGY and shown.ephemeral
    assert "Forbidden" not in one_error(policy_log, f"/exercise failed {where(fake_discord, alice)}")


async def test_an_autocomplete_that_breaks_offers_nothing_and_logs_one_line(fake_discord, bot, stores, policy_log,
                                                                            discord_log):
    faq, _ = stores
    faq.fail(RuntimeError("the store lost its copy"), "scope_for")
    alice = fake_discord.make_member("alice")
    typing = await fake_discord.inject_autocomplete("myth", {"name": "squats"}, "name", user=alice)
    assert (await typing.response()).choices == []
    one_error(policy_log, f"autocomplete of /myth failed {where(fake_discord, alice)}")
    assert discord_log.errors == []  # discord.py would log "Ignoring exception in autocomplete"


# --- buttons ------------------------------------------------------------------------------------------------

async def test_a_button_whose_database_write_breaks_apologises(fake_discord, bot, stores, policy_log, discord_log):
    faq, _ = stores
    moderator = fake_discord.make_moderator("bo")
    removing = await fake_discord.inject_slash_command("faq remove", {"id": "spot-reduction"}, user=moderator)
    await removing.response()
    faq.fail(OSError(28, "No space left on device"), "apply")
    button = "mythbot:faq:remove:hide:spot-reduction"
    clicked = await (await fake_discord.inject_component(button, removing.original_message_id, moderator)).response()
    assert clicked.content == APOLOGY and clicked.ephemeral
    one_error(policy_log, f"button {button} failed {where(fake_discord, moderator)}")
    assert discord_log.errors == []


async def test_a_button_whose_reply_is_forbidden_apologises(fake_discord, bot, policy_log):
    alice = fake_discord.make_member("alice")
    general = fake_discord.guild.channel("general")
    mark = fake_discord.mark()
    await fake_discord.inject_message(general, alice, mention(fake_discord, "does spot reduction work"))
    answer = await fake_discord.wait_for_message(general.id, since=mark)
    fake_discord.fail_next("POST", "/interactions/{id}/{token}/callback", 403, MISSING_PERMISSIONS)
    sources = await (await fake_discord.inject_component("mythbot:src:spot-reduction", int(answer["id"]),
                                                         alice)).response()
    assert sources.content == APOLOGY and sources.ephemeral
    one_error(policy_log, f"button mythbot:src:spot-reduction failed {where(fake_discord, alice)}")


async def test_a_vote_the_database_cannot_save_is_thanked_with_an_excuse_not_an_apology(fake_discord, bot, stores,
                                                                                        policy_log):
    _, records = stores
    records.fail(sqlite3.OperationalError("disk I/O error"), "record_feedback", "record_decision")
    alice = fake_discord.make_member("alice")
    general = fake_discord.guild.channel("general")
    mark = fake_discord.mark()
    await fake_discord.inject_message(general, alice, mention(fake_discord, "does spot reduction work"))
    answer = await fake_discord.wait_for_message(general.id, since=mark)
    assert embed_title(answer) == "Can you burn fat from one spot?"  # a lost record never costs the reply
    vote = await (await fake_discord.inject_component("mythbot:vote:1:spot-reduction", int(answer["id"]),
                                                      alice)).response()
    assert vote.content.startswith("Thanks! I couldn't save your vote just now")
    await bot.workers.drain()
    assert sorted(level for level, _, _ in policy_log()) == [logging.WARNING, logging.WARNING]


# --- forms --------------------------------------------------------------------------------------------------

async def open_form(fake, moderator):
    return (await (await fake.inject_slash_command("faq add", {}, user=moderator)).response()).custom_id


async def test_a_form_whose_database_write_breaks_apologises_after_its_deferral(fake_discord, bot, stores,
                                                                               policy_log, discord_log):
    faq, _ = stores
    moderator = fake_discord.make_moderator("bo")
    form = await open_form(fake_discord, moderator)
    faq.fail(sqlite3.OperationalError("database is locked"), "apply")
    deferred, said = await answered_in_full(await fake_discord.inject_modal_submit(form, CREATINE_FORM,
                                                                                   user=moderator))
    assert said["content"] == APOLOGY and deferred.type == DEFERRED
    one_error(policy_log, f"form {form} failed {where(fake_discord, moderator)}")
    assert discord_log.errors == []


async def test_a_form_whose_reply_is_forbidden_apologises_in_the_next_follow_up(fake_discord, bot, policy_log):
    moderator = fake_discord.make_moderator("bo")
    form = await open_form(fake_discord, moderator)
    fake_discord.fail_next("POST", "/webhooks/{app}/{token}", 403, MISSING_PERMISSIONS)
    submitted = await fake_discord.inject_modal_submit(form, CREATINE_FORM, user=moderator)
    assert (await submitted.followup(0))["content"] == APOLOGY
    one_error(policy_log, f"form {form} failed {where(fake_discord, moderator)}")
    assert bot.faq.state(fake_discord.guild.id).entries  # saved before the reply failed: the apology says no more


# --- message handlers ---------------------------------------------------------------------------------------

async def test_a_message_whose_handling_breaks_gets_an_apology_only_if_it_addressed_the_bot(
        fake_discord, bot, stores, policy_log, discord_log):
    faq, _ = stores
    faq.fail(RuntimeError("the store lost its copy"), "scope_for")
    alice = fake_discord.make_member("alice")
    general = fake_discord.guild.channel("general")
    mark = fake_discord.mark()
    await fake_discord.inject_message(general, alice, mention(fake_discord, "does spot reduction work"))
    said = await fake_discord.wait_for_message(general.id, since=mark)
    assert said["content"] == APOLOGY and said["mentions"] == []
    expected = f"answering a message failed (guild={fake_discord.guild.id} channel={general.id} author={alice.id})"
    assert one_error(policy_log, "answering a message failed") == expected
    mark = fake_discord.mark()
    await fake_discord.inject_message(general, alice, "how much protein should i eat?")  # passive listening
    await policy_log.wait_for(2)
    await fake_discord.settle()
    assert policy_log()[1][:2] == (logging.ERROR, expected)  # logged, and nobody was talking to the bot
    assert fake_discord.messages_sent(general.id, since=mark) == []
    assert discord_log.errors == []


async def test_a_reply_to_a_message_that_is_forbidden_is_one_warning_and_no_apology(fake_discord, bot, policy_log):
    alice = fake_discord.make_member("alice")
    general = fake_discord.guild.channel("general")
    fake_discord.fail_next("POST", "/channels/{id}/messages", 403, MISSING_PERMISSIONS)
    mark = fake_discord.mark()
    await fake_discord.inject_message(general, alice, mention(fake_discord, "does spot reduction work"))
    await fake_discord.wait_for_call("POST", "/channels/{id}/messages", since=mark)
    await fake_discord.settle()
    assert policy_log() == [(logging.WARNING, f"cannot answer in guild={fake_discord.guild.id} "
                                              f"channel={general.id}: Missing Permissions", False)]
    assert len(fake_discord.calls_to("POST", "/channels/{id}/messages", since=mark)) == 1  # no apology attempt


# --- nothing repeats ----------------------------------------------------------------------------------------

class Faulty(commands.Cog):
    """A command that reports its own failure under the policy and then raises anyway."""

    @app_commands.command(name="faulty", description="fails twice over")
    async def faulty(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("Working on it…", ephemeral=True)
        error = RuntimeError("first")
        await interaction_failed(interaction, error)
        raise RuntimeError("second")


async def test_a_failure_reported_twice_is_one_line_and_one_apology(fake_discord, start_bot, tmp_path, policy_log):
    bot = create_bot(load_settings(knowledge_dir=FIXTURE_KB, data_dir=tmp_path / "data"))
    await bot.add_cog(Faulty())
    await start_bot(bot)
    alice = fake_discord.make_member("alice")
    faulty = await fake_discord.inject_slash_command("faulty", {}, user=alice)
    assert (await faulty.response()).content == "Working on it…"
    assert (await faulty.followup(0))["content"] == APOLOGY
    await fake_discord.settle()
    assert len(faulty.followup_ids) == 1
    one_error(policy_log, "/faulty failed")


def test_the_services_come_from_a_mythbot_or_fail_loudly():
    class Reached:
        client = discord.Client(intents=discord.Intents.none())

    with pytest.raises(TypeError, match="not a MythBot"):
        MythBot.of(Reached())

