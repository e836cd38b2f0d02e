"""`FakeDiscord`: the world, what tests inject into it and how they wait for the bot's answers.

It serves REST (rest.py) and the gateway (gateway.py) on 127.0.0.1 on an ephemeral port; the real
discord.py client talks to it once harness.py points discord.py here. See README.md.
"""

from __future__ import annotations

import asyncio
import copy
import secrets
import socket
from collections.abc import Callable, Iterable
from typing import Any

from aiohttp import web

from . import limits, records
from .gateway import FakeGateway
from .records import FLAG_EPHEMERAL, FakeInteraction, Mark, RecordedCall, RecordedFile, call_matches
from .rest import API_PREFIX, APPLICATION_FLAGS, FLAG_LOADING, Fault, RestApi
from .world import (
    DM,
    EVERYONE_PERMISSIONS,
    WAIT_TIMEOUT,
    FakeChannel,
    FakeGuild,
    FakeRole,
    FakeUser,
    Intent,
    Payload,
    Perm,
    SnowflakeFactory,
    iso_now,
    mentioned,
    mentions_everyone,
    replied_user_pinged,
    shard_of,
)

BOT_PERMISSIONS = (EVERYONE_PERMISSIONS & ~Perm.USE_APPLICATION_COMMANDS) | Perm.MENTION_EVERYONE
MESSAGE_TYPE_DEFAULT, MESSAGE_TYPE_REPLY = 0, 19
# Event-loop turns the bot gets, after its last REST response was written, to act on it
# (e.g. discord.py stores a View only once the callback's HTTP response is parsed).
SETTLE_ITERATIONS = 50


def redact_content(message: Payload) -> Payload:
    """What a bot without the MESSAGE_CONTENT intent receives."""
    return dict(message, content="", embeds=[], attachments=[], components=[])


class FakeDiscord:
    """REST + gateway stand-in. Use `async with FakeDiscord() as fake:` (the fixtures do)."""

    def __init__(self, *, token: str = "fake-bot-token", bot_name: str = "Mythbot",
                 guild_name: str = "Mythbot Test Guild", interaction_ack_deadline: float = 3.0) -> None:
        self.token = token
        self.interaction_ack_deadline = interaction_ack_deadline
        self.snowflake = SnowflakeFactory()
        self.application_id = self.snowflake()
        self.bot_user = FakeUser(self.application_id, bot_name, bot=True)
        self.owner = FakeUser(self.snowflake(), "mythbot-owner")
        self.users: dict[int, FakeUser] = {user.id: user for user in (self.bot_user, self.owner)}
        self.channels: dict[int, FakeChannel] = {}
        self.dm_channels: dict[int, FakeChannel] = {}
        self.messages: dict[int, Payload] = {}
        self.bot_message_ids: list[int] = []
        self.interactions: dict[int, FakeInteraction] = {}
        self.opened_modals: dict[str, tuple[Payload, FakeInteraction]] = {}
        self.calls: list[RecordedCall] = []
        self.unknown_routes: list[RecordedCall] = []
        self.internal_errors: list[str] = []
        self.in_flight = 0
        self.gateway = FakeGateway(self)
        self.rest = RestApi(self)
        self.guilds: dict[int, FakeGuild] = {}
        self.guild = self.add_guild(guild_name)  # the main guild, where injectors act unless told otherwise
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Condition()

    # -- lifecycle ----------------------------------------------------------------------------------

    async def __aenter__(self) -> FakeDiscord:
        app = web.Application(middlewares=[self.rest.middleware], client_max_size=64 * 1024 * 1024)
        app.router.add_route("GET", "/", self.gateway.handle)
        app.router.add_route("GET", "/resume", self.gateway.handle)
        self.rest.add_routes(app.router)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self.gateway.resume_url = f"ws://127.0.0.1:{self.port}/resume"
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    # -- world building -----------------------------------------------------------------------------

    def add_guild(self, name: str, *, shard: tuple[int, int] | None = None) -> FakeGuild:
        """A guild the bot is in: #general and #myths; @everyone, Moderator (Manage Messages) and bot roles.
        `shard=(shard_id, shard_count)` gives it an id on that shard. Add it before the bot starts."""
        guild_id = self.snowflake() if shard is None else self.snowflake.on_shard(*shard)
        guild = FakeGuild(id=guild_id, name=name, owner_id=self.owner.id)
        self.guilds[guild.id] = guild
        guild.roles = [
            FakeRole(guild.id, "@everyone", int(EVERYONE_PERMISSIONS), position=0),
            FakeRole(self.snowflake(), "Moderator", int(Perm.MANAGE_MESSAGES), position=1),
            FakeRole(self.snowflake(), self.bot_user.username, int(BOT_PERMISSIONS), position=2, managed=True),
        ]
        for position, channel_name in enumerate(("general", "myths")):
            channel = FakeChannel(self.snowflake(), channel_name, guild.id, position=position)
            guild.channels.append(channel)
            self.channels[channel.id] = channel
        guild.add_member(self.owner)
        guild.add_member(self.bot_user, [guild.role(self.bot_user.username)])
        return guild

    def add_channel(self, name: str, *, guild: FakeGuild | None = None) -> FakeChannel:
        """A new text channel in the (main) guild. Add it before the bot starts: it learns them from GUILD_CREATE."""
        guild = guild or self.guild
        channel = FakeChannel(self.snowflake(), name, guild.id, position=len(guild.channels))
        guild.channels.append(channel)
        self.channels[channel.id] = channel
        return channel

    def add_role(self, name: str, permissions: int = 0, *, guild: FakeGuild | None = None) -> FakeRole:
        """A new role in the (main) guild. Add it before the bot starts: the bot learns roles from GUILD_CREATE."""
        guild = guild or self.guild
        role = FakeRole(self.snowflake(), name, int(permissions), position=len(guild.roles))
        guild.roles.append(role)
        return role

    def make_member(self, name: str, *, roles: Iterable[FakeRole] = (), bot: bool = False,
                    guild: FakeGuild | None = None) -> FakeUser:
        """A user who is a member of the (main) guild."""
        user = FakeUser(self.snowflake(), name, bot=bot, global_name=name.title())
        self.users[user.id] = user
        (guild or self.guild).add_member(user, roles)
        return user

    def make_moderator(self, name: str = "moderator", *, guild: FakeGuild | None = None) -> FakeUser:
        """A member of the (main) guild with its Moderator role, which grants Manage Messages."""
        guild = guild or self.guild
        return self.make_member(name, roles=[guild.role("Moderator")], guild=guild)

    def make_bot(self, name: str = "otherbot") -> FakeUser:
        """Another bot account in the guild."""
        return self.make_member(name, bot=True)

    def overwrite(self, channel: FakeChannel, user: FakeUser, *, allow: int = 0, deny: int = 0) -> None:
        """Give `user` extra (or fewer) permissions in `channel` only, like a channel's member overwrite.
        Interactions in that channel then carry the resolved permissions, as on Discord."""
        channel.overwrites[user.id] = (int(allow), int(deny))

    def dm_channel(self, user: FakeUser) -> FakeChannel:
        """The DM channel between the bot and `user` (created on first use)."""
        if user.id not in self.dm_channels:
            channel = FakeChannel(self.snowflake(), "", None, type=DM, recipients=[user])
            self.dm_channels[user.id] = self.channels[channel.id] = channel
        return self.dm_channels[user.id]

    def guild_of(self, channel: FakeChannel) -> FakeGuild | None:
        return None if channel.guild_id is None else self.guilds[channel.guild_id]

    # -- what the gateway sends at IDENTIFY ---------------------------------------------------------

    def guilds_of(self, shard: tuple[int, int] | None) -> list[FakeGuild]:
        """The guilds a session on `shard` carries (all of them without shards)."""
        return [guild for guild in self.guilds.values() if shard is None or shard_of(guild.id, shard[1]) == shard[0]]

    def ready_payload(self, session_id: str, resume_url: str, shard: tuple[int, int] | None = None) -> Payload:
        return {
            "v": 10, "user": self.bot_user.to_payload() | {"verified": True, "mfa_enabled": False},
            "guilds": [{"id": str(guild.id), "unavailable": True} for guild in self.guilds_of(shard)],
            "session_id": session_id, "session_type": "normal", "resume_gateway_url": resume_url,
            "application": {"id": str(self.application_id), "flags": APPLICATION_FLAGS}, "private_channels": [],
            "relationships": [], "presences": [], "_trace": ["fake-discord"],
        } | ({"shard": list(shard)} if shard else {})

    # -- faults -----------------------------------------------------------------------------------

    def fail_next(self, method: str, pattern: str, status: int, payload: Payload, *,
                  headers: dict[str, str] | None = None, times: int = 1) -> None:
        """Answer the next `times` calls matching e.g. ("POST", "/channels/{id}/messages") with `status`
        and the JSON `payload` (and `headers`) instead of handling them: a 429, a 503... The call is
        recorded with that status."""
        self.rest.faults.append(Fault(method.upper(), pattern, status, payload, headers or {}, times))

    # -- recording and waiting ----------------------------------------------------------------------

    def mark(self) -> Mark:
        """Remember 'now' so later waits and queries only look at what happened after it."""
        return Mark(calls=len(self.calls), messages=len(self.bot_message_ids))

    def calls_to(self, method: str, pattern: str, *, since: Mark | None = None) -> list[RecordedCall]:
        """Recorded calls matching e.g. ("POST", "/channels/{id}/messages") or a concrete path."""
        return [call for call in self.calls[since.calls if since else 0 :] if call_matches(call, method, pattern)]

    async def wait_for_call(self, method: str, pattern: str, *, predicate: Callable[[RecordedCall], bool] | None = None,
                            since: Mark | None = None, timeout: float = WAIT_TIMEOUT) -> RecordedCall:
        """The first call (after `since`) matching method, path pattern and predicate."""
        def matching() -> list[RecordedCall]:
            return [c for c in self.calls_to(method, pattern, since=since) if predicate is None or predicate(c)]

        await self._wait_or_fail(lambda: bool(matching()), timeout, f"no {method} {pattern}", since)
        return matching()[0]

    def messages_sent(self, channel_id: int | None = None, *, since: Mark | None = None) -> list[Payload]:
        """Current state of the messages the bot created (REST, interaction responses, follow-ups)."""
        found = (self.messages.get(message_id) for message_id in self.bot_message_ids[since.messages if since else 0 :])
        return [message for message in found
                if message is not None and (channel_id is None or int(message["channel_id"]) == channel_id)]

    async def wait_for_message(self, channel_id: int | None = None, *,
                               predicate: Callable[[Payload], bool] | None = None, since: Mark | None = None,
                               timeout: float = WAIT_TIMEOUT) -> Payload:
        """The first bot message (after `since`) in `channel_id` matching `predicate`."""
        def matching() -> list[Payload]:
            return [m for m in self.messages_sent(channel_id, since=since) if predicate is None or predicate(m)]

        await self._wait_or_fail(lambda: bool(matching()), timeout, "the bot sent no matching message", since)
        return matching()[0]

    async def wait_until(self, condition: Callable[[], bool], timeout: float = WAIT_TIMEOUT) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(condition)

    async def _wait_or_fail(self, condition: Callable[[], bool], timeout: float, what: str, since: Mark | None) -> None:
        try:
            await self.wait_until(condition, timeout)
        except TimeoutError:
            raise AssertionError(f"{what} within {timeout}s; calls so far:\n{self.describe_calls(since)}") from None

    async def settle(self, timeout: float = WAIT_TIMEOUT) -> None:
        """Let the bot finish digesting what the stand-in already told it, the way a human only clicks a
        button after seeing the message: no REST call in flight, then some loop turns."""
        async with asyncio.timeout(timeout):
            while True:
                await self.wait_until(lambda: self.in_flight == 0, timeout)
                for _ in range(SETTLE_ITERATIONS):
                    await asyncio.sleep(0)
                if self.in_flight == 0:
                    return

    def describe_calls(self, since: Mark | None = None) -> str:
        return "\n".join(f"  {call}" for call in self.calls[since.calls if since else 0 :]) or "  (none)"

    async def notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- messages: building, editing, dispatching ---------------------------------------------------

    def build_message(self, channel: FakeChannel, author: FakeUser, body: Payload, files: list[RecordedFile], *,
                      reference: Payload | None = None, mention_rules: Payload | None = None,
                      message_type: int | None = None, extra: Payload | None = None) -> Payload:
        """A message as Discord stores it; `mentions` lists only who is really pinged under `mention_rules`."""
        content = body.get("content") or ""
        pinged = mentioned(content, mention_rules, "users")
        if reference is not None and replied_user_pinged(mention_rules):
            pinged.append(int(reference["author"]["id"]))
        message: Payload = {
            "id": str(self.snowflake()), "channel_id": str(channel.id), "author": author.to_payload(),
            "type": message_type if message_type is not None else (MESSAGE_TYPE_REPLY if reference else 0),
            "content": content, "timestamp": iso_now(), "edited_timestamp": None, "tts": bool(body.get("tts")),
            "mention_everyone": mentions_everyone(content, mention_rules),
            "mentions": self._mention_payloads(channel, pinged),
            "mention_roles": [str(role_id) for role_id in mentioned(content, mention_rules, "roles")],
            "attachments": [self._attachment(file) for file in files],
            "embeds": [dict(embed, type=embed.get("type", "rich")) for embed in body.get("embeds") or []],
            "components": copy.deepcopy(body.get("components") or []), "pinned": False,
            "flags": body.get("flags") or 0,
        }
        if reference is not None:
            message["message_reference"] = {"type": 0, "message_id": reference["id"], "channel_id": str(channel.id)}
            if channel.guild_id:
                message["message_reference"]["guild_id"] = str(channel.guild_id)
            message["referenced_message"] = {k: v for k, v in reference.items() if k != "referenced_message"}
        return message | (extra or {})

    def _mention_payloads(self, channel: FakeChannel, user_ids: list[int]) -> list[Payload]:
        guild = self.guild_of(channel)
        mentions = []
        for user_id in dict.fromkeys(user_ids):
            if user_id in self.users:
                payload = self.users[user_id].to_payload()
                if guild is not None and user_id in guild.members:
                    payload["member"] = guild.members[user_id].to_payload(with_user=False)
                mentions.append(payload)
        return mentions

    def _attachment(self, file: RecordedFile) -> Payload:
        attachment_id = self.snowflake()
        url = f"http://127.0.0.1:{self.port}/attachments/{attachment_id}/{file.filename}"  # not served
        return {"id": str(attachment_id), "filename": file.filename, "size": len(file.data), "url": url,
                "proxy_url": url, "content_type": file.content_type}

    def apply_edit(self, message: Payload, body: Payload) -> None:
        for key in ("content", "embeds", "components"):
            if key in body:
                message[key] = copy.deepcopy(body[key]) or ("" if key == "content" else [])
        if "flags" in body:
            message["flags"] = (message["flags"] & FLAG_EPHEMERAL) | (body["flags"] or 0)
        message["flags"] &= ~FLAG_LOADING
        message["edited_timestamp"] = iso_now()

    async def store_and_dispatch(self, message: Payload) -> None:
        """Keep a message the bot created and echo it back to the bot, like Discord."""
        self.messages[int(message["id"])] = message
        self.bot_message_ids.append(int(message["id"]))
        await self.dispatch_message("MESSAGE_CREATE", message)

    async def dispatch_message(self, event: str, message: Payload) -> None:
        """MESSAGE_CREATE/UPDATE to sessions with the right intent; content blanked like Discord does for bots
        without MESSAGE_CONTENT (except in DMs, the bot's own messages and messages mentioning the bot)."""
        await self.notify()
        if message["flags"] & FLAG_EPHEMERAL:
            return
        channel = self.channels[int(message["channel_id"])]
        guild = self.guild_of(channel)
        data = dict(message)
        if guild is not None:
            data["guild_id"] = str(guild.id)
            member = guild.members.get(int(message["author"]["id"]))
            if member is not None and "webhook_id" not in message:
                data["member"] = member.to_payload(with_user=False)
        involved = {int(message["author"]["id"]), *(int(user["id"]) for user in message["mentions"])}
        exempt = channel.is_dm or self.bot_user.id in involved
        intent = Intent.GUILD_MESSAGES if guild else Intent.DIRECT_MESSAGES
        await self.gateway.dispatch(event, data, intent=intent, guild_id=guild.id if guild else None,
                                    redact=None if exempt else redact_content)

    # -- injecting what members do ------------------------------------------------------------------

    def _check_can_act(self, user: FakeUser, channel: FakeChannel) -> None:
        guild = self.guild_of(channel)
        if guild is not None and user.id not in guild.members:
            raise ValueError(f"{user.username} is not a member of {guild.name}; use make_member()")

    async def inject_message(self, channel: FakeChannel, author: FakeUser, content: str, *,
                             message_reference: int | None = None) -> Payload:
        """A user posts a message (replying to message id `message_reference`); it reaches the bot as
        MESSAGE_CREATE. `<@id>` in the content mentions that user. Returns the message."""
        await self.settle()
        self._check_can_act(author, channel)
        reference = self.messages[message_reference] if message_reference is not None else None
        message = self.build_message(channel, author, {"content": content}, [], reference=reference)
        self.messages[int(message["id"])] = message
        await self.dispatch_message("MESSAGE_CREATE", message)
        return message

    async def inject_dm(self, author: FakeUser, content: str, **kwargs: Any) -> Payload:
        """`author` sends the bot a direct message."""
        return await self.inject_message(self.dm_channel(author), author, content, **kwargs)

    async def inject_slash_command(self, name: str, options: dict[str, Any] | None = None, *, user: FakeUser,
                                   channel: FakeChannel | None = None) -> FakeInteraction:
        """A user runs `/name` in `channel` (default: the main guild's first channel; pass
        `fake.dm_channel(user)` for a DM). `name` may be "command sub" for a subcommand. Option types
        come from the Python values: str, int, float, bool."""
        data = _command_data(self.snowflake(), name, options or {}, focused=None)
        return await self._inject(records.APPLICATION_COMMAND, data, user, channel)

    async def inject_autocomplete(self, name: str, options: dict[str, Any], focused: str, *, user: FakeUser,
                                  channel: FakeChannel | None = None) -> FakeInteraction:
        """A user is typing option `focused` of `/name`; `options` holds what is typed so far."""
        data = _command_data(self.snowflake(), name, options, focused=focused)
        return await self._inject(records.AUTOCOMPLETE, data, user, channel)

    async def inject_component(self, custom_id: str, message_id: int, user: FakeUser,
                               values: list[str] | None = None) -> FakeInteraction:
        """A user clicks a button on a message the bot sent, or picks `values` in a string select."""
        message = self.messages.get(message_id)
        if message is None:
            raise ValueError(f"no message {message_id} in the stand-in")
        found = {c["custom_id"]: c for c in limits.iter_components(message["components"]) if c.get("custom_id")}
        if custom_id not in found:
            raise ValueError(f"no component {custom_id!r} on that message; it has {list(found)}")
        component = found[custom_id]
        data: Payload = {"custom_id": custom_id, "component_type": component["type"]}
        if component["type"] == 3:
            data["values"] = _picked(component, values)
        elif values is not None:
            raise ValueError(f"{custom_id!r} is not a select; only selects take values")
        channel = self.channels[int(message["channel_id"])]
        return await self._inject(records.MESSAGE_COMPONENT, data, user, channel, message=message)

    async def inject_modal_submit(self, custom_id: str, fields: dict[str, str], *, user: FakeUser) -> FakeInteraction:
        """A user submits the modal the bot opened with `custom_id`; `fields` maps input custom_ids to values,
        and inputs left out keep what the bot prefilled. The submission mirrors the modal's layout."""
        if custom_id not in self.opened_modals:
            raise ValueError(f"the bot never opened a modal with custom_id {custom_id!r}")
        modal, origin = self.opened_modals[custom_id]
        inputs = {c["custom_id"] for c in limits.iter_components(modal["components"]) if c.get("custom_id")}
        if set(fields) - inputs:
            raise ValueError(f"the modal has no inputs {sorted(set(fields) - inputs)}; it has {sorted(inputs)}")
        data = {"custom_id": custom_id, "components": [_submitted(c, fields) for c in modal["components"]]}
        channel = self.channels[origin.channel_id]
        return await self._inject(records.MODAL_SUBMIT, data, user, channel, message=origin.payload.get("message"))

    async def _inject(self, interaction_type: int, data: Payload, user: FakeUser, channel: FakeChannel | None,
                      message: Payload | None = None) -> FakeInteraction:
        await self.settle()
        channel = channel or self.guild.channels[0]
        self._check_can_act(user, channel)
        payload: Payload = {
            "id": str(self.snowflake()), "application_id": str(self.application_id), "type": interaction_type,
            "token": "itoken-" + secrets.token_urlsafe(24), "version": 1, "data": data,
            "channel_id": str(channel.id), "channel": channel.to_payload(), "locale": "en-US", "entitlements": [],
            "attachment_size_limit": 10 * 1024 * 1024,
        } | ({"message": message} if message is not None else {})
        if channel.is_dm:
            payload |= {"user": user.to_payload(), "app_permissions": str(int(EVERYONE_PERMISSIONS)),
                        "authorizing_integration_owners": {"0": "0"}, "context": 1}
        else:
            guild = self.guilds[channel.guild_id or 0]
            permissions = str(guild.permissions(user.id, channel))
            payload["channel"]["permissions"] = permissions
            payload |= {
                "guild_id": str(guild.id), "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
                "guild_locale": "en-US", "member": guild.members[user.id].to_payload() | {"permissions": permissions},
                "app_permissions": str(guild.permissions(self.bot_user.id)),
                "authorizing_integration_owners": {"0": str(guild.id)}, "context": 0,
            }
        interaction = self.interactions[int(payload["id"])] = FakeInteraction(payload, self)
        await self.gateway.dispatch("INTERACTION_CREATE", payload, intent=0, guild_id=channel.guild_id)
        return interaction

def _command_data(command_id: int, name: str, options: dict[str, Any], focused: str | None) -> Payload:
    """The `data` of a slash command or autocomplete interaction, with "command sub" nested like Discord."""
    if focused is not None and focused not in options:
        raise ValueError(f"focused option {focused!r} must be in options")
    option_types = {bool: 5, int: 4, float: 10, str: 3}
    leaf = [{"name": key, "type": option_types[type(value)], "value": value, "focused": key == focused}
            for key, value in options.items()]
    command, *subcommand = name.split()
    if len(subcommand) > 1:
        raise ValueError("subcommand groups are not implemented; nest another SUB_COMMAND_GROUP level here")
    options = [{"name": subcommand[0], "type": 1, "options": leaf}] if subcommand else leaf  # 1 = SUB_COMMAND
    return {"id": str(command_id), "name": command, "type": 1, "options": options}


def _submitted(component: Payload, fields: dict[str, str]) -> Payload:
    """One component of a modal submission: action rows (1) wrap text inputs."""
    kind = component.get("type")
    result: Payload = {"type": kind} | ({"id": component["id"]} if component.get("id") is not None else {})
    if kind == 1:
        result["components"] = [_submitted(child, fields) for child in component.get("components") or []]
    elif component.get("custom_id"):
        result["custom_id"] = component["custom_id"]
        # An input the test leaves out keeps what the bot prefilled, as when a person leaves it alone.
        result["value"] = fields.get(component["custom_id"], component.get("value") or "")
    return result


def _picked(select: Payload, values: list[str] | None) -> list[str]:
    """What a user picks in a string select: options it has, as many as it allows (as Discord checks)."""
    offered = [option["value"] for option in select.get("options") or []]
    picked = list(values or [])
    unknown = [value for value in picked if value not in offered]
    if unknown:
        raise ValueError(f"the select {select['custom_id']!r} has no options {unknown}; it has {offered}")
    low, high = select.get("min_values", 1), select.get("max_values", 1)
    if not low <= len(picked) <= high:
        raise ValueError(f"the select {select['custom_id']!r} takes {low} to {high} values, not {len(picked)}")
    return picked
