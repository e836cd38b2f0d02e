"""Proves what the stand-in adds beyond the journeys (tests/e2e, tests/cogs), with a tiny plain commands.Bot.

The journeys already prove messages, replies, DMs, slash commands, subcommands, autocomplete, buttons,
modals, deferrals, follow-ups, files in responses and a RECONNECT. These tests prove the rest: what the
stand-in checks on the bot's behalf and the failures the harness reports.
"""

from __future__ import annotations

import ast
import asyncio
import re
from pathlib import Path

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands

from . import limits
from .fake import FakeDiscord
from .world import FakeChannel, FakeUser, Intent, Perm

MESSAGES = "/channels/{channel_id}/messages"


class PingCog(commands.Cog):
    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot:
            return
        if message.content == "ping":
            await message.reply("pong", allowed_mentions=discord.AllowedMentions.none())
        elif message.content == "ping me":
            await message.reply(f"pong {message.author.mention}")  # discord.py's default pings

    @app_commands.command(name="myth", description="Bust a fitness myth")
    async def myth(self, interaction: discord.Interaction, topic: str) -> None:
        await interaction.response.send_message(f"Busting the {topic} myth")

    @app_commands.command(name="boom", description="Always fails")
    async def boom(self, _interaction: discord.Interaction) -> None:
        raise RuntimeError("boom")


async def make_bot(*, message_content: bool = True) -> commands.Bot:
    intents = discord.Intents.default()
    intents.message_content = message_content
    bot = commands.Bot(command_prefix="!", intents=intents)
    await bot.add_cog(PingCog())
    return bot


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


async def expect_pong(fake: FakeDiscord, channel: FakeChannel, author: FakeUser) -> dict:
    mark = fake.mark()
    await fake.inject_message(channel, author, "ping")
    return await fake.wait_for_message(channel.id, predicate=is_pong, since=mark)


# -- connecting -------------------------------------------------------------------------------------


async def test_bot_is_ready_with_its_guild_available(fake_discord, bot):
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


async def test_heartbeats_are_acknowledged(fake_discord, start_bot):
    fake_discord.gateway.heartbeat_interval_ms = 50
    bot = await start_bot(await make_bot())

    await fake_discord.wait_until(lambda: fake_discord.gateway.heartbeats >= 3)

    assert bot.latency != float("inf")  # discord.py measured a heartbeat's ACK


async def test_shards_each_carry_their_own_guilds(fake_discord, start_bot, alice):
    on_zero, on_one = fake_discord.add_guild("Zero", shard=(0, 2)), fake_discord.add_guild("One", shard=(1, 2))
    intents = discord.Intents.default()
    intents.message_content = True
    sharded = commands.AutoShardedBot(command_prefix="!", intents=intents, shard_count=2, shard_ids=[0, 1])
    await sharded.add_cog(PingCog())
    bot = await start_bot(sharded)
    sessions = {session.shard: session for session in fake_discord.gateway.sessions.values()}
    assert set(sessions) == {(0, 2), (1, 2)}  # one IDENTIFY per shard, each with its [shard_id, shard_count]
    for shard_id, session in sessions.items():
        created = {int(event["d"]["id"]) for event in session.events if event["t"] == "GUILD_CREATE"}
        assert created == {guild.id for guild in fake_discord.guilds.values() if (guild.id >> 22) % 2 == shard_id[0]}
    assert on_zero.id in {g.id for g in bot.guilds} and bot.get_guild(on_one.id).shard_id == 1
    for guild in (on_zero, on_one):
        member = fake_discord.make_member("bea", guild=guild)
        before = {shard: len(session.events) for shard, session in sessions.items()}
        await expect_pong(fake_discord, guild.channel("general"), member)
        heard = [shard for shard, session in sessions.items() if any(
            event["t"] == "MESSAGE_CREATE" and event["d"]["author"]["id"] == str(member.id)
            for event in session.events[before[shard]:])]
        assert heard == [((guild.id >> 22) % 2, 2)]  # only the guild's own shard got the message
    await fake_discord.inject_dm(alice, "ping")  # direct messages go to shard 0, as on Discord
    dm = await fake_discord.wait_for_message(fake_discord.dm_channel(alice).id, predicate=is_pong)
    assert dm is not None


async def test_an_identify_with_a_shard_out_of_range_is_a_protocol_error(fake_discord):
    before = fake_discord.gateway.identify_count
    url = fake_discord.gateway_url + "?v=10&encoding=json"
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        await ws.receive_json()  # HELLO
        await ws.send_json({"op": 2, "d": {"token": fake_discord.token, "intents": 0, "shard": [2, 2]}})
        closed = await ws.receive()
    assert closed.type is aiohttp.WSMsgType.CLOSE and closed.data == 4010
    assert fake_discord.gateway.identify_count == before
    [error] = fake_discord.gateway.protocol_errors
    assert error == "IDENTIFY with an invalid shard [2, 2] (expected [shard_id, shard_count])"
    fake_discord.gateway.protocol_errors.clear()  # provoked on purpose; otherwise the test would fail


# -- messages: what the stand-in records and checks ----------------------------------------------------


async def test_ping_gets_a_reply_that_pings_nobody(fake_discord, bot, general, alice):
    mark = fake_discord.mark()
    ping = await fake_discord.inject_message(general, alice, "ping")

    call = await fake_discord.wait_for_call("POST", MESSAGES, since=mark)

    assert call.path == f"/channels/{general.id}/messages"
    assert call.json["allowed_mentions"]["parse"] == []
    assert str(call.json["message_reference"]["message_id"]) == ping["id"]
    reply = fake_discord.messages_sent(general.id)[-1]
    assert (reply["type"], reply["content"], reply["mentions"]) == (19, "pong", [])


async def test_a_reply_that_may_ping_records_who_was_pinged(fake_discord, bot, general, alice):
    mark = fake_discord.mark()
    await fake_discord.inject_message(general, alice, "ping me")

    reply = await fake_discord.wait_for_message(general.id, since=mark)

    assert [user["id"] for user in reply["mentions"]] == [str(alice.id)]  # so `mentions == []` can fail


async def test_own_message_comes_back_and_is_not_answered(fake_discord, bot, general, alice):
    echoed = asyncio.ensure_future(bot.wait_for("message", check=lambda m: m.author == bot.user, timeout=5))
    await asyncio.sleep(0)
    channel = bot.get_channel(general.id)
    assert isinstance(channel, discord.TextChannel)

    await channel.send("ping")
    own = await echoed

    assert own.content == "ping"
    await expect_pong(fake_discord, general, alice)
    assert [message["content"] for message in fake_discord.messages_sent(general.id)] == ["ping", "pong"]


async def test_without_the_content_intent_content_is_blank_unless_mentioned(fake_discord, start_bot, general, alice):
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


async def test_discord_limits_are_enforced(fake_discord, bot, general):
    channel = bot.get_channel(general.id)
    assert isinstance(channel, discord.TextChannel)

    with pytest.raises(discord.HTTPException) as too_long:
        await channel.send("x" * 2001)

    assert too_long.value.code == 50035


async def test_without_send_messages_replies_are_forbidden(fake_discord, bot, general):
    for role in fake_discord.guild.roles:
        role.permissions &= ~Perm.SEND_MESSAGES
    channel = bot.get_channel(general.id)
    assert isinstance(channel, discord.TextChannel)

    with pytest.raises(discord.Forbidden) as refused:
        await channel.send("hello")

    assert refused.value.code == 50013


@pytest.mark.parametrize(("errors", "expected"), [
    (limits.message_errors({"content": "x" * 2001}), "content: must be 0-2000 long"),
    (limits.message_errors({"embeds": [{"title": "t" * 257}]}), "embeds[0].title"),
    (limits.message_errors({"embeds": [{"fields": [{"name": "n", "value": ""}]}]}), "embeds[0].fields[0].value"),
    (limits.message_errors({"embeds": [{"description": "d" * 4096}, {"description": "d" * 2000}]}), "combined"),
    (limits.message_errors({"components": [{"type": 2, "style": 1, "custom_id": "b"}]}), "must be action rows"),
    (limits.message_errors({"components": [{"type": 1, "components": [{"type": 2, "style": 1}]}]}), "custom_id"),
    (limits.choices_errors({"choices": [{"name": "n", "value": 1}] * 26}), "data.choices: must be 0-25"),
    (limits.modal_errors({"custom_id": "m", "title": "t" * 46, "components": [{}]}), "data.title"),
])
def test_each_limit_names_the_field(errors, expected):
    assert any(expected in error for error in errors), errors


# -- gateway resilience -----------------------------------------------------------------------------


async def test_dropped_connection_resumes_and_replays_missed_events(fake_discord, bot, general, alice):
    mark = fake_discord.mark()
    with fake_discord.gateway.resumes_held():
        await fake_discord.gateway.drop_connections()
        await fake_discord.inject_message(general, alice, "ping")

    await fake_discord.gateway.wait_for_resume()

    await fake_discord.wait_for_message(general.id, predicate=is_pong, since=mark)
    assert fake_discord.gateway.replayed_events >= 1
    assert fake_discord.gateway.identify_count == 1


# -- the harness catches problems ---------------------------------------------------------------------


async def test_unknown_routes_are_recorded(fake_discord, bot):
    with pytest.raises(discord.NotFound):
        await bot.fetch_invite("fitness")

    assert [call.path for call in fake_discord.unknown_routes] == ["/invites/fitness"]
    fake_discord.unknown_routes.clear()  # provoked on purpose; otherwise the test would fail


async def test_errors_logged_by_discord_py_are_captured(fake_discord, bot, alice, discord_log):
    await fake_discord.inject_slash_command("boom", user=alice)

    error = await discord_log.wait_for_error()

    assert "boom" in discord_log.format(error)
    discord_log.clear()  # provoked on purpose; otherwise the test would fail


async def test_late_interaction_response_is_rejected_like_discord(fake_discord, bot, alice, discord_log):
    fake_discord.interaction_ack_deadline = 0.0

    interaction = await fake_discord.inject_slash_command("myth", {"topic": "cardio"}, user=alice)
    call = await fake_discord.wait_for_call("POST", f"/interactions/{interaction.id}/{{token}}/callback")

    assert call.status == 404
    assert call.response["code"] == 10062
    await discord_log.wait_for_error()
    discord_log.clear()


async def test_a_string_select_takes_only_what_it_offers(fake_discord, general, alice):
    select = {"type": 3, "custom_id": "pick", "min_values": 1, "max_values": 2,
              "options": [{"label": "A", "value": "a"}, {"label": "B", "value": "b"}, {"label": "C", "value": "c"}]}
    button = {"type": 2, "style": 1, "label": "Go", "custom_id": "go"}
    fake_discord.messages[1] = {"id": "1", "channel_id": str(general.id),
                                "components": [{"type": 1, "components": [select]},
                                               {"type": 1, "components": [button]}]}
    for custom_id, values, why in (("pick", ["z"], "has no options ['z']"), ("pick", ["a", "b", "c"], "takes 1 to 2"),
                                   ("pick", None, "takes 1 to 2"), ("go", ["a"], "is not a select")):
        with pytest.raises(ValueError, match=re.escape(why)):
            await fake_discord.inject_component(custom_id, 1, alice, values=values)


# -- the README stays true ----------------------------------------------------------------------------

README = Path(__file__).with_name("README.md").read_text()


def test_the_readme_example_is_a_real_journey():
    example = re.search(r"```python\n(.*?)```", README, re.DOTALL)
    source = re.search(r"copied from `(tests/[\w/]+\.py)`", README)
    assert example and source
    test_file = Path(__file__).parents[2] / source[1]
    assert example[1] in test_file.read_text(), f"the README example is no longer in {source[1]}"


def test_every_name_the_readme_documents_exists():
    api = README[README.index("## Public API") : README.index("## How the stand-in behaves")]
    documented = set(re.findall(r"`\.?(\w+)[`(]", api))
    defined: set[str] = set()
    for path in Path(__file__).parent.glob("[!t]*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                defined.add(node.name)
            if isinstance(node, ast.arg):
                defined.add(node.arg)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
                defined.add(node.attr)
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                defined.add(node.target.id)
    assert not documented - defined, f"README.md documents names the stand-in lacks: {sorted(documented - defined)}"
