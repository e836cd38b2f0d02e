"""A bot with the moderation cog, and interactions that go through discord.py's real dispatch.

Nothing reaches the network: discord.py sends interaction responses and follow-ups through a
webhook adapter taken from a context variable, and `FakeDiscord` takes its place, recording what
the bot sent.
"""

import asyncio
import json
import logging
from types import SimpleNamespace

import discord
import pytest
from discord.ext import commands
from discord.webhook.async_ import async_context

from bot.cogs.moderation import Moderation
from bot.engine.engine import Engine
from bot.settings import Settings
from bot.storage.guild_store import GuildStore
from bot.storage.records import Records

GUILD = 111
MOD_ROLE = 77
MANAGE_MESSAGES = discord.Permissions(manage_messages=True).value


class FakeDiscord:
    """Stands in for discord.py's webhook adapter and records every response the bot sends."""

    def __init__(self) -> None:
        self.sent: list[SimpleNamespace] = []

    async def create_interaction_response(self, interaction_id, token, *, session, proxy=None, proxy_auth=None,
                                          params):
        payload = params.payload or json.loads(params.multipart[0]["value"])
        self.sent.append(SimpleNamespace(kind="response", type=payload["type"], data=payload.get("data") or {},
                                         files=params.files or []))
        return {"interaction": {"id": str(interaction_id), "type": 2}}

    async def execute_webhook(self, webhook_id, token, *, session, proxy=None, proxy_auth=None, payload=None,
                              multipart=None, files=None, thread_id=None, wait=False, with_components=False):
        data = payload or json.loads(multipart[0]["value"])
        message_id = str(900 + len(self.sent))
        self.sent.append(SimpleNamespace(kind="followup", type=None, data=data, files=files or [],
                                         message_id=message_id))
        return {"id": message_id, "channel_id": "10", "type": 0, "content": data.get("content", ""),
                "author": {"id": "2", "username": "mythbot", "discriminator": "0", "avatar": None, "bot": True},
                "embeds": data.get("embeds", []), "attachments": [], "mentions": [], "mention_roles": [],
                "pinned": False, "tts": False, "timestamp": "2025-01-01T00:00:00+00:00", "edited_timestamp": None,
                "flags": 64, "components": []}

    @property
    def last(self) -> SimpleNamespace:
        return self.sent[-1]


@pytest.fixture
def fake_discord():
    fake = FakeDiscord()
    token = async_context.set(fake)
    yield fake
    async_context.reset(token)


@pytest.fixture
async def faq_bot(tmp_path, fixture_kb):
    bot = commands.Bot(command_prefix="!", intents=discord.Intents.default())
    await bot._async_setup_hook()  # what login() does first: bind the client to the running loop
    bot.settings = Settings(_env_file=None, moderator_role_ids=(MOD_ROLE,), data_dir=tmp_path)
    bot.engine = Engine(fixture_kb)
    bot.records = Records(tmp_path / "mythbot.sqlite3")
    bot.scopes = GuildStore(tmp_path, lambda: bot.engine.kb)
    bot.reload_results = []

    async def reload_knowledge():
        return list(bot.reload_results)

    bot.reload_knowledge = reload_knowledge
    state = bot._connection
    state.user = discord.ClientUser(state=state, data={"id": "2", "username": "mythbot", "discriminator": "0",
                                                       "avatar": None, "bot": True})
    role = {"permissions": "0", "position": 1, "color": 0, "hoist": False, "managed": False, "mentionable": False}
    guild = discord.Guild(data={"id": str(GUILD), "name": "Gym", "roles": [
        {**role, "id": str(GUILD), "name": "@everyone", "position": 0},
        {**role, "id": str(MOD_ROLE), "name": "FAQ moderator"},
        {**role, "id": "78", "name": "Regular"},
    ]}, state=state)
    state._add_guild(guild)
    await bot.add_cog(Moderation(bot))
    yield bot
    bot.records.close()


@pytest.fixture(autouse=True)
def no_errors_logged(caplog):
    """A test fails when discord.py (or the bot) logs an error: that is a crash a user would see."""
    yield
    errors = [r for r in caplog.get_records("call") if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


def payload(*, data: dict, kind: int, permissions: int = 0, roles=(), guild_id: int | None = GUILD,
            user_id: int = 42) -> dict:
    """An INTERACTION_CREATE event as Discord sends it."""
    event = {
        "id": "5001", "application_id": "2", "type": kind, "token": "token", "version": 1, "data": data,
        "channel_id": "10", "locale": "en-US", "app_permissions": "0", "attachment_size_limit": 8_000_000,
        "entitlements": [],
    }
    user = {"id": str(user_id), "username": "ana", "discriminator": "0", "avatar": None, "global_name": "Ana"}
    if guild_id is None:
        event["user"] = user
        return event
    event["guild_id"] = str(guild_id)
    event["channel"] = {"id": "10", "type": 0, "guild_id": str(guild_id), "name": "general", "position": 0}
    event["member"] = {"user": user, "roles": [str(r) for r in roles], "permissions": str(permissions),
                       "joined_at": "2024-01-01T00:00:00+00:00", "deaf": False, "mute": False, "flags": 0}
    return event


def slash(command: str, options: dict | None = None, **member) -> dict:
    opts = [{"type": 3 if isinstance(v, str) else 4, "name": k, "value": v} for k, v in (options or {}).items()]
    data = {"id": "3", "name": "faq", "type": 1, "options": [{"type": 1, "name": command, "options": opts}]}
    return payload(data=data, kind=2, **member)


def autocomplete(command: str, typed: str, **member) -> dict:
    data = {"id": "3", "name": "faq", "type": 1, "options": [
        {"type": 1, "name": command, "options": [{"type": 3, "name": "id", "value": typed, "focused": True}]}]}
    return payload(data=data, kind=4, **member)


def click(custom_id: str, components: list | None = None, message_id: str = "950", **member) -> dict:
    """A button press on a message of the bot's that carries `components` (by default just that button)."""
    event = payload(data={"custom_id": custom_id, "component_type": 2}, kind=3, **member)
    if components is None:
        components = [{"type": 1, "components": [{"type": 2, "style": 2, "label": "x", "custom_id": custom_id}]}]
    event["message"] = {
        "id": message_id, "channel_id": "10", "type": 0, "content": "", "flags": 64, "embeds": [], "attachments": [],
        "mentions": [], "mention_roles": [], "pinned": False, "tts": False, "components": components,
        "timestamp": "2025-01-01T00:00:00+00:00", "edited_timestamp": None,
        "author": {"id": "2", "username": "mythbot", "discriminator": "0", "avatar": None, "bot": True},
    }
    return event


def submit(modal: dict, values: dict[str, str], **member) -> dict:
    """The MODAL_SUBMIT for a form the bot sent (`modal` is its recorded data), keyed by input label."""
    rows = []
    for row in modal["components"]:
        text_input = row["components"][0]
        value = values.get(text_input["label"], text_input.get("value", ""))
        rows.append({"type": 1, "components": [{"type": 4, "custom_id": text_input["custom_id"], "value": value}]})
    return payload(data={"custom_id": modal["custom_id"], "components": rows}, kind=5, **member)


async def deliver(bot, fake: FakeDiscord, event: dict, replies: int = 1) -> list[SimpleNamespace]:
    """Feed an event to the bot as the gateway would, and wait for its replies."""
    before = len(fake.sent)
    bot._connection.parse_interaction_create(event)
    for _ in range(500):
        if len(fake.sent) >= before + replies:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.02)  # catch replies beyond those expected
    return fake.sent[before:]
