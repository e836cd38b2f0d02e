"""Proves the stand-in and harness with a tiny plain commands.Bot (not Mythbot itself)."""

from __future__ import annotations

import asyncio
import io

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from .fake import FakeDiscord
from .harness import DiscordLogCapture
from .limits import iter_components
from .records import CallbackType
from .world import FakeChannel, FakeUser, Intent

TOPICS = ["creatine", "cardio", "carbs at night", "spot reduction", "stretching"]
MESSAGES = "/channels/{channel_id}/messages"


class VoteView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=60)

    @discord.ui.button(label="Helpful", style=discord.ButtonStyle.success, custom_id="vote:helpful")
    async def helpful(self, interaction: discord.Interaction, _button: discord.ui.Button[VoteView]) -> None:
        await interaction.response.edit_message(content="Thanks for voting!", view=None)

    @discord.ui.select(
        custom_id="vote:topic",
        placeholder="Related myths",
        options=[discord.SelectOption(label=topic, value=topic) for topic in TOPICS],
    )
    async def related(self, interaction: discord.Interaction, select: discord.ui.Select[VoteView]) -> None:
        await interaction.response.send_message(f"You picked {select.values[0]}", ephemeral=True)


class FeedbackModal(discord.ui.Modal, title="Myth feedback"):
    comment: discord.ui.TextInput[FeedbackModal] = discord.ui.TextInput(
        label="Comment", custom_id="feedback:comment", style=discord.TextStyle.paragraph
    )

    def __init__(self) -> None:
        super().__init__(custom_id="feedback")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"Feedback received: {self.comment.value}", ephemeral=True)


class MythCog(commands.Cog):
    admin = app_commands.Group(name="mythadmin", description="Admin tools")
    cache = app_commands.Group(name="cache", description="Cache tools", parent=admin)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot:
            return
        if message.content.strip().lower() == "ping":
            await message.reply("pong", allowed_mentions=discord.AllowedMentions.none())

    @app_commands.command(name="myth", description="Bust a fitness myth")
    async def myth(self, interaction: discord.Interaction, topic: str) -> None:
        await interaction.response.send_message(f"Busting the {topic} myth", view=VoteView())

    @myth.autocomplete("topic")
    async def topic_autocomplete(
        self, _interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=topic, value=topic) for topic in TOPICS if current.lower() in topic]

    @app_commands.command(name="feedback", description="Tell us what you think")
    async def feedback(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(FeedbackModal())

    @app_commands.command(name="boom", description="Always fails")
    async def boom(self, _interaction: discord.Interaction) -> None:
        raise RuntimeError("boom")

    @cache.command(name="clear", description="Clear the myth cache")
    async def cache_clear(self, interaction: discord.Interaction, confirm: bool) -> None:
        if not interaction.permissions.manage_messages:
            await interaction.response.send_message("Moderators only", ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.edit_original_response(content="Cache cleared" if confirm else "Nothing done")
        await interaction.followup.send("Done", ephemeral=True)


async def make_bot(*, message_content: bool = True) -> commands.Bot:
    intents = discord.Intents.default()
    intents.message_content = message_content
    bot = commands.Bot(command_prefix="!", intents=intents)
    await bot.add_cog(MythCog())
    return bot


def custom_ids(components: list[dict]) -> set[str]:
    return {component["custom_id"] for component in iter_components(components) if "custom_id" in component}


def is_pong(message: dict) -> bool:
    return message["content"] == "pong"


@pytest.fixture
async def bot(start_bot) -> commands.Bot:
    return await start_bot(await make_bot())


@pytest.fixture
def general(fake_discord: FakeDiscord) -> FakeChannel:
    return fake_discord.guild.channel("general")


@pytest.fixture
def alice(fake_discord: FakeDiscord) -> FakeUser:
    return fake_discord.make_member("alice")


async def expect_pong(
    fake: FakeDiscord, channel_id: int, author: FakeUser, channel: FakeChannel | None = None
) -> dict:
    mark = fake.mark()
    await fake.inject_message(channel or fake.channels[channel_id], author, "ping")
    return await fake.wait_for_message(channel_id, predicate=is_pong, since=mark)


# -- connecting -------------------------------------------------------------------------------


async def test_bot_is_ready_with_its_guild_available(fake_discord: FakeDiscord, bot: commands.Bot) -> None:
    guild = bot.get_guild(fake_discord.guild.id)
    assert guild is not None and not guild.unavailable
    assert {channel.name for channel in guild.text_channels} == {"general", "myths"}
    assert guild.me.guild_permissions.send_messages
    assert bot.user is not None and bot.user.id == fake_discord.bot_user.id
    assert bot.application_id == fake_discord.application_id
    connection = fake_discord.gateway.connections[0]
    assert connection.compression == "zlib-stream"
    identify = next(sent["d"] for sent in connection.received if sent["op"] == 2)
    assert identify["intents"] & Intent.MESSAGE_CONTENT


async def test_heartbeats_are_acknowledged(fake_discord: FakeDiscord, start_bot) -> None:
    fake_discord.gateway.heartbeat_interval_ms = 50
    bot = await start_bot(await make_bot())

    await fake_discord.gateway.wait_until(lambda: fake_discord.gateway.heartbeats >= 3)

    assert bot.latency < 1


async def test_members_intent_fills_the_member_cache_by_chunking(
    fake_discord: FakeDiscord, start_bot, alice: FakeUser
) -> None:
    intents = discord.Intents.default()
    intents.members = True
    bot = await start_bot(commands.Bot(command_prefix="!", intents=intents))

    guild = bot.get_guild(fake_discord.guild.id)
    assert guild is not None and guild.chunked
    assert guild.get_member(alice.id) is not None
    assert any(sent["op"] == 8 for sent in fake_discord.gateway.connections[0].received)


# -- messages ---------------------------------------------------------------------------------


async def test_ping_gets_a_reply_that_pings_nobody(
    fake_discord: FakeDiscord, bot: commands.Bot, general: FakeChannel, alice: FakeUser
) -> None:
    mark = fake_discord.mark()
    ping = await fake_discord.inject_message(general, alice, "ping")

    call = await fake_discord.wait_for_call("POST", MESSAGES, since=mark)

    assert call.path == f"/channels/{general.id}/messages"
    assert call.json["content"] == "pong"
    assert call.json["allowed_mentions"]["parse"] == []
    assert str(call.json["message_reference"]["message_id"]) == ping["id"]
    reply = fake_discord.messages_sent(general.id)[-1]
    assert reply["type"] == 19
    assert reply["mentions"] == []


async def test_own_message_comes_back_and_is_not_answered(
    fake_discord: FakeDiscord, bot: commands.Bot, general: FakeChannel, alice: FakeUser
) -> None:
    echoed = asyncio.ensure_future(bot.wait_for("message", check=lambda m: m.author == bot.user, timeout=5))
    await asyncio.sleep(0)
    channel = bot.get_channel(general.id)
    assert isinstance(channel, discord.TextChannel)

    await channel.send("ping")
    own = await echoed

    assert own.content == "ping"
    await expect_pong(fake_discord, general.id, alice)
    assert [message["content"] for message in fake_discord.messages_sent(general.id)] == ["ping", "pong"]


async def test_other_bots_are_ignored(
    fake_discord: FakeDiscord, bot: commands.Bot, general: FakeChannel, alice: FakeUser
) -> None:
    mark = fake_discord.mark()
    await fake_discord.inject_message(general, fake_discord.make_bot("gymbro-bot"), "ping")

    await expect_pong(fake_discord, general.id, alice)

    assert len(fake_discord.messages_sent(general.id, since=mark)) == 1


async def test_direct_message_gets_a_reply_in_the_dm(fake_discord: FakeDiscord, bot: commands.Bot) -> None:
    stranger = fake_discord.make_user("stranger")

    reply = await expect_pong(fake_discord, fake_discord.dm_channel(stranger).id, stranger)

    assert "guild_id" not in reply


async def test_without_the_content_intent_content_is_blank_unless_mentioned(
    fake_discord: FakeDiscord, start_bot, general: FakeChannel, alice: FakeUser
) -> None:
    bot = await start_bot(await make_bot(message_content=False))
    received: asyncio.Queue[discord.Message] = asyncio.Queue()

    async def record(message: discord.Message) -> None:
        received.put_nowait(message)

    bot.add_listener(record, "on_message")

    await fake_discord.inject_message(general, alice, "ping")
    await fake_discord.inject_message(general, alice, f"{fake_discord.bot_user.mention} ping")

    async with asyncio.timeout(5):
        contents = [(await received.get()).content, (await received.get()).content]
    assert contents == ["", f"<@{fake_discord.bot_user.id}> ping"]
    assert not fake_discord.messages_sent()


async def test_files_and_reactions_are_recorded(
    fake_discord: FakeDiscord, bot: commands.Bot, general: FakeChannel
) -> None:
    channel = bot.get_channel(general.id)
    assert isinstance(channel, discord.TextChannel)

    sent = await channel.send("The study", file=discord.File(io.BytesIO(b"abstract"), filename="study.txt"))
    await sent.add_reaction("\N{THUMBS UP SIGN}")

    upload = fake_discord.calls_to("POST", MESSAGES)[-1]
    assert upload.json["content"] == "The study"
    assert [(file.filename, file.data) for file in upload.files] == [("study.txt", b"abstract")]
    assert sent.attachments[0].filename == "study.txt"
    assert await sent.attachments[0].read() == b"abstract"
    reaction = await fake_discord.wait_for_call("PUT", MESSAGES + "/{message_id}/reactions/{emoji}/@me")
    assert reaction.path.endswith("/\N{THUMBS UP SIGN}/@me")


async def test_common_rest_calls_round_trip(
    fake_discord: FakeDiscord, bot: commands.Bot, general: FakeChannel, alice: FakeUser
) -> None:
    channel = await bot.fetch_channel(general.id)
    guild = await bot.fetch_guild(fake_discord.guild.id)
    member = await guild.fetch_member(alice.id)
    user = await bot.fetch_user(alice.id)
    assert (channel.name, guild.name, member.name, user.name) == (
        "general",
        fake_discord.guild.name,
        "alice",
        "alice",
    )
    assert isinstance(channel, discord.TextChannel)

    async with channel.typing():
        sent = await channel.send("Myth: you can spot-reduce fat")
    edited = await sent.edit(content="Myth busted: you cannot spot-reduce fat")
    fetched = await channel.fetch_message(sent.id)
    history = [message.id async for message in channel.history(limit=10)]
    await edited.delete()
    dm = await user.send("Thanks for asking!")

    assert fetched.content == "Myth busted: you cannot spot-reduce fat"
    assert fetched.edited_at is not None
    assert history == [sent.id]
    assert fake_discord.messages_sent(general.id) == []
    assert dm.channel.id == fake_discord.dm_channel(alice).id
    assert {command.name for command in await bot.tree.sync()} == {"myth", "feedback", "boom", "mythadmin"}
    assert len(await bot.tree.fetch_commands()) == 4


async def test_discord_limits_are_enforced(
    fake_discord: FakeDiscord, bot: commands.Bot, general: FakeChannel
) -> None:
    channel = bot.get_channel(general.id)
    assert isinstance(channel, discord.TextChannel)

    with pytest.raises(discord.HTTPException) as failure:
        await channel.send("x" * 2001)

    assert failure.value.code == 50035


# -- application commands and components -----------------------------------------------------


async def test_slash_command_gets_a_callback(
    fake_discord: FakeDiscord, bot: commands.Bot, alice: FakeUser
) -> None:
    interaction = await fake_discord.inject_slash_command("myth", {"topic": "creatine"}, user=alice)

    callback = await interaction.response()

    assert callback.type == CallbackType.CHANNEL_MESSAGE
    assert callback.content == "Busting the creatine myth"
    assert callback.call.query == {"with_response": "1"}
    assert custom_ids(callback.components) == {"vote:helpful", "vote:topic"}
    assert interaction.original is not None and interaction.original["type"] == 20


async def test_slash_command_in_a_dm(fake_discord: FakeDiscord, bot: commands.Bot) -> None:
    stranger = fake_discord.make_user("stranger")

    interaction = await fake_discord.inject_slash_command(
        "myth", {"topic": "stretching"}, user=stranger, channel=fake_discord.dm_channel(stranger)
    )

    assert interaction.payload["context"] == 1
    assert (await interaction.response()).content == "Busting the stretching myth"


async def test_autocomplete_returns_choices(
    fake_discord: FakeDiscord, bot: commands.Bot, alice: FakeUser
) -> None:
    interaction = await fake_discord.inject_autocomplete(
        "myth", {"topic": "car"}, focused="topic", user=alice
    )

    callback = await interaction.response()

    assert callback.type == CallbackType.AUTOCOMPLETE_RESULT
    assert [choice["value"] for choice in callback.choices] == ["cardio", "carbs at night"]


async def test_button_click_updates_the_message(
    fake_discord: FakeDiscord, bot: commands.Bot, alice: FakeUser
) -> None:
    command = await fake_discord.inject_slash_command("myth", {"topic": "cardio"}, user=alice)
    await command.response()
    assert command.original_message_id is not None

    click = await fake_discord.inject_component(
        "vote:helpful", message_id=command.original_message_id, user=alice
    )
    callback = await click.response()

    assert callback.type == CallbackType.UPDATE_MESSAGE
    assert callback.components == []
    assert command.original is not None and command.original["content"] == "Thanks for voting!"


async def test_select_menu_values_reach_the_view(
    fake_discord: FakeDiscord, bot: commands.Bot, alice: FakeUser
) -> None:
    command = await fake_discord.inject_slash_command("myth", {"topic": "cardio"}, user=alice)
    await command.response()
    assert command.original_message_id is not None

    pick = await fake_discord.inject_component(
        "vote:topic", message_id=command.original_message_id, user=alice, values=["stretching"]
    )
    callback = await pick.response()

    assert callback.ephemeral
    assert callback.content == "You picked stretching"


async def test_modal_submit_reaches_on_submit(
    fake_discord: FakeDiscord, bot: commands.Bot, alice: FakeUser
) -> None:
    opener = await fake_discord.inject_slash_command("feedback", user=alice)
    opened = await opener.response()
    assert opened.type == CallbackType.MODAL
    assert opened.custom_id == "feedback"

    submit = await fake_discord.inject_modal_submit("feedback", {"feedback:comment": "Great bot"}, user=alice)
    callback = await submit.response()

    assert callback.ephemeral
    assert callback.content == "Feedback received: Great bot"


async def test_subcommand_group_defer_edit_and_followup(
    fake_discord: FakeDiscord, bot: commands.Bot, alice: FakeUser
) -> None:
    moderator = fake_discord.make_moderator("mod")

    refused = await fake_discord.inject_slash_command("mythadmin cache clear", {"confirm": True}, user=alice)
    allowed = await fake_discord.inject_slash_command(
        "mythadmin cache clear", {"confirm": True}, user=moderator
    )

    assert (await refused.response()).content == "Moderators only"
    deferred = await allowed.response()
    assert deferred.type == CallbackType.DEFERRED_CHANNEL_MESSAGE
    assert deferred.ephemeral
    await allowed.wait_original(lambda message: message["content"] == "Cache cleared")
    followup = await allowed.followup(0)
    assert followup["content"] == "Done"
    assert followup["flags"] & 64


async def test_tree_sync_to_a_guild_registers_commands(
    fake_discord: FakeDiscord, bot: commands.Bot, alice: FakeUser
) -> None:
    guild = discord.Object(fake_discord.guild.id)
    bot.tree.copy_global_to(guild=guild)

    synced = await bot.tree.sync(guild=guild)

    route = f"/applications/{fake_discord.application_id}/guilds/{fake_discord.guild.id}/commands"
    call = await fake_discord.wait_for_call("PUT", route)
    assert {command["name"] for command in call.json} == {"myth", "feedback", "boom", "mythadmin"}
    assert all(command.id for command in synced)
    interaction = await fake_discord.inject_slash_command("myth", {"topic": "carbs at night"}, user=alice)
    assert interaction.payload["data"]["guild_id"] == str(fake_discord.guild.id)
    assert (await interaction.response()).content == "Busting the carbs at night myth"


# -- gateway resilience -------------------------------------------------------------------------


async def test_reconnect_request_resumes_and_bot_still_replies(
    fake_discord: FakeDiscord, bot: commands.Bot, general: FakeChannel, alice: FakeUser
) -> None:
    await fake_discord.gateway.request_reconnect()
    await fake_discord.gateway.wait_for_resume()

    await expect_pong(fake_discord, general.id, alice)
    assert fake_discord.gateway.identify_count == 1
    assert fake_discord.gateway.connections[-1].path == "/resume"


async def test_dropped_connection_resumes_and_replays_missed_events(
    fake_discord: FakeDiscord, bot: commands.Bot, general: FakeChannel, alice: FakeUser
) -> None:
    mark = fake_discord.mark()
    with fake_discord.gateway.resumes_held():
        await fake_discord.gateway.drop_connections()
        await fake_discord.inject_message(general, alice, "ping")

    await fake_discord.gateway.wait_for_resume()

    await fake_discord.wait_for_message(general.id, predicate=is_pong, since=mark)
    assert fake_discord.gateway.replayed_events >= 1
    assert fake_discord.gateway.identify_count == 1


async def test_invalid_session_makes_the_bot_identify_again(
    fake_discord: FakeDiscord, bot: commands.Bot, general: FakeChannel, alice: FakeUser
) -> None:
    await fake_discord.gateway.invalidate_sessions()
    await fake_discord.gateway.wait_for_identify(2)

    await expect_pong(fake_discord, general.id, alice)


# -- the harness catches problems ---------------------------------------------------------------


async def test_unknown_routes_are_recorded(fake_discord: FakeDiscord, bot: commands.Bot) -> None:
    with pytest.raises(discord.NotFound):
        await bot.fetch_invite("fitness")

    assert [call.path for call in fake_discord.unknown_routes] == ["/invites/fitness"]
    fake_discord.unknown_routes.clear()  # provoked on purpose; otherwise the test would fail


async def test_errors_logged_by_discord_py_are_captured(
    fake_discord: FakeDiscord, bot: commands.Bot, alice: FakeUser, discord_log: DiscordLogCapture
) -> None:
    await fake_discord.inject_slash_command("boom", user=alice)

    error = await discord_log.wait_for_error()

    assert "boom" in discord_log.format(error)
    discord_log.clear()  # provoked on purpose; otherwise the test would fail


async def test_late_interaction_response_is_rejected_like_discord(
    fake_discord: FakeDiscord, bot: commands.Bot, alice: FakeUser, discord_log: DiscordLogCapture
) -> None:
    fake_discord.interaction_ack_deadline = 0.0

    interaction = await fake_discord.inject_slash_command("myth", {"topic": "cardio"}, user=alice)
    call = await fake_discord.wait_for_call("POST", f"/interactions/{interaction.id}/{{token}}/callback")

    assert call.status == 404
    assert call.response["code"] == 10062
    await discord_log.wait_for_error()
    discord_log.clear()
