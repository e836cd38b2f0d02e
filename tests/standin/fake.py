"""A local stand-in for Discord's REST API (v10) and gateway, for end-to-end tests.

It runs on 127.0.0.1 on an ephemeral port. The real discord.py client talks to it over real
sockets once `discord.http.Route.BASE` and `DiscordWebSocket.DEFAULT_GATEWAY` point here (see
harness.py). Every REST call is recorded; routes it does not know answer 404 and land in
`unknown_routes`. See README.md for the model and the discord.py facts it is built on.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import secrets
import socket
import traceback
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiohttp import BodyPartReader, web

from . import limits
from .gateway import FakeGateway
from .records import (
    FLAG_EPHEMERAL,
    CallbackType,
    FakeInteraction,
    InteractionCallback,
    InteractionType,
    Mark,
    RecordedCall,
    RecordedFile,
    call_matches,
)
from .world import (
    EVERYONE_PERMISSIONS,
    ChannelType,
    FakeChannel,
    FakeGuild,
    FakeRole,
    FakeUser,
    Intent,
    Payload,
    Perm,
    SnowflakeFactory,
    allowed_mention_ids,
    chain_unique,
    iso_now,
    mentions_everyone,
    parse_role_mentions,
    parse_user_mentions,
    replied_user_pinged,
)

log = logging.getLogger("tests.standin.discord")

API_PREFIX = "/api/v10"
FLAG_LOADING = 1 << 7
APPLICATION_FLAGS = (1 << 19) | (1 << 23)  # GATEWAY_MESSAGE_CONTENT_LIMITED | APPLICATION_COMMAND_BADGE
BOT_PERMISSIONS = (EVERYONE_PERMISSIONS & ~Perm.USE_APPLICATION_COMMANDS) | Perm.MENTION_EVERYONE
MODERATOR_PERMISSIONS = Perm.MANAGE_MESSAGES
DM_APP_PERMISSIONS = EVERYONE_PERMISSIONS
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024
MESSAGE_TYPE_DEFAULT = 0
MESSAGE_TYPE_REPLY = 19
MESSAGE_TYPE_CHAT_INPUT_COMMAND = 20
SELECT_TYPES = {3, 5, 6, 7, 8}
CALLBACKS_ALLOWED = {
    InteractionType.APPLICATION_COMMAND: {4, 5, 9},
    InteractionType.MESSAGE_COMPONENT: {4, 5, 6, 7, 9},
    InteractionType.AUTOCOMPLETE: {8},
    InteractionType.MODAL_SUBMIT: {4, 5, 6, 7},
}
# Event-loop turns the bot gets, after its last REST response was written, to act on it
# (e.g. discord.py stores a View only once the callback's HTTP response is parsed).
SETTLE_ITERATIONS = 50
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CALL = web.RequestKey("call", RecordedCall)
PAYLOAD = web.ResponseKey("payload", object)


class ApiError(Exception):
    """Raised by route handlers; becomes a Discord-style JSON error response."""

    def __init__(self, status: int, code: int, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors or []

    def payload(self) -> Payload:
        payload: Payload = {"message": self.message, "code": self.code}
        if self.errors:
            payload["errors"] = {"_errors": [{"code": "INVALID", "message": error} for error in self.errors]}
        return payload


def invalid_form(errors: list[str]) -> ApiError:
    return ApiError(400, 50035, "Invalid Form Body", errors)


def json_reply(payload: Any, status: int = 200) -> web.Response:
    # discord.py only decodes JSON when Content-Type is exactly "application/json" (no charset).
    response = web.Response(
        body=json.dumps(payload).encode(), status=status, headers={"Content-Type": "application/json"}
    )
    response[PAYLOAD] = payload
    return response


def no_content() -> web.Response:
    return web.Response(status=204)


def redact_content(message: Payload) -> Payload:
    """What a bot without the MESSAGE_CONTENT intent receives."""
    redacted = dict(message, content="", embeds=[], attachments=[], components=[])
    redacted.pop("poll", None)
    return redacted


class FakeDiscord:
    """REST + gateway stand-in. Use `async with FakeDiscord() as fake:`."""

    def __init__(
        self,
        *,
        token: str = "fake-bot-token",
        bot_name: str = "Mythbot",
        guild_name: str = "Mythbot Test Guild",
        heartbeat_interval_ms: int = 41_250,
        interaction_ack_deadline: float = 3.0,
    ) -> None:
        self.token = token
        self.interaction_ack_deadline = interaction_ack_deadline
        self.snowflake = SnowflakeFactory()
        self.application_id = self.snowflake()
        self.bot_user = FakeUser(self.application_id, bot_name, bot=True)
        self.owner = FakeUser(self.snowflake(), "mythbot-owner")
        self.users: dict[int, FakeUser] = {user.id: user for user in (self.bot_user, self.owner)}
        self.guilds: dict[int, FakeGuild] = {}
        self.channels: dict[int, FakeChannel] = {}
        self.dm_channels: dict[int, FakeChannel] = {}
        self.messages: dict[int, Payload] = {}
        self.bot_message_ids: list[int] = []
        self.reactions: dict[int, dict[str, list[int]]] = {}
        self.attachment_files: dict[int, RecordedFile] = {}
        self.interactions: dict[int, FakeInteraction] = {}
        self.commands: dict[int | None, list[Payload]] = {}
        self.opened_modals: dict[str, tuple[Payload, FakeInteraction]] = {}
        self.calls: list[RecordedCall] = []
        self.unknown_routes: list[RecordedCall] = []
        self.internal_errors: list[str] = []
        self.gateway = FakeGateway(self, heartbeat_interval_ms=heartbeat_interval_ms)
        self.guild = self.add_guild(guild_name)
        self.port = 0
        self.settle_iterations = SETTLE_ITERATIONS
        self._in_flight = 0
        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Condition()

    # -- lifecycle -----------------------------------------------------------------------------

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)
        self._add_routes(app.router)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self.gateway.resume_url = f"ws://127.0.0.1:{self.port}/resume"

    async def close(self) -> None:
        await self.gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    # -- world building ------------------------------------------------------------------------

    def add_guild(self, name: str, channel_names: Iterable[str] = ("general", "myths")) -> FakeGuild:
        """A guild the bot is in, with @everyone, Moderator and bot roles. Add before the bot starts."""
        guild_id = self.snowflake()
        guild = FakeGuild(id=guild_id, name=name, owner_id=self.owner.id)
        guild.roles = [
            FakeRole(guild_id, "@everyone", int(EVERYONE_PERMISSIONS), position=0),
            FakeRole(self.snowflake(), "Moderator", int(MODERATOR_PERMISSIONS), position=1),
            FakeRole(
                self.snowflake(), self.bot_user.username, int(BOT_PERMISSIONS), position=2, managed=True
            ),
        ]
        for position, channel_name in enumerate(channel_names):
            channel = FakeChannel(self.snowflake(), channel_name, guild_id, position=position)
            guild.channels.append(channel)
            self.channels[channel.id] = channel
        guild.add_member(self.owner)
        guild.add_member(self.bot_user, [guild.role(self.bot_user.username)])
        self.guilds[guild_id] = guild
        return guild

    def add_role(self, name: str, permissions: int = 0, *, guild: FakeGuild | None = None) -> FakeRole:
        """A new role in `guild` (default: the main guild). Add it before the bot starts."""
        guild = guild or self.guild
        role = FakeRole(self.snowflake(), name, int(permissions), position=len(guild.roles))
        guild.roles.append(role)
        return role

    def make_user(self, name: str, *, bot: bool = False) -> FakeUser:
        """A user who shares no guild with the bot (only DMs)."""
        user = FakeUser(self.snowflake(), name, bot=bot, global_name=name.title())
        self.users[user.id] = user
        return user

    def make_member(
        self, name: str, *, guild: FakeGuild | None = None, roles: Iterable[FakeRole] = (), bot: bool = False
    ) -> FakeUser:
        """A user who is a member of `guild` (default: the main guild)."""
        user = self.make_user(name, bot=bot)
        (guild or self.guild).add_member(user, roles)
        return user

    def make_moderator(self, name: str = "moderator", *, guild: FakeGuild | None = None) -> FakeUser:
        """A member with the Moderator role, which grants Manage Messages."""
        guild = guild or self.guild
        return self.make_member(name, guild=guild, roles=[guild.role("Moderator")])

    def make_bot(self, name: str = "otherbot", *, guild: FakeGuild | None = None) -> FakeUser:
        """Another bot account that is a member of `guild`."""
        return self.make_member(name, guild=guild, bot=True)

    def dm_channel(self, user: FakeUser) -> FakeChannel:
        """The DM channel between the bot and `user` (created on first use)."""
        channel = self.dm_channels.get(user.id)
        if channel is None:
            channel = FakeChannel(self.snowflake(), "", None, type=ChannelType.DM, recipients=[user])
            self.dm_channels[user.id] = channel
            self.channels[channel.id] = channel
        return channel

    def guild_of(self, channel: FakeChannel) -> FakeGuild | None:
        return self.guilds.get(channel.guild_id) if channel.guild_id else None

    # -- GatewayWorld --------------------------------------------------------------------------

    def ready_payload(self, session_id: str, resume_url: str, shard: list[int] | None) -> Payload:
        user = self.bot_user.to_payload() | {
            "verified": True,
            "mfa_enabled": False,
            "email": None,
            "locale": "en-US",
        }
        payload: Payload = {
            "v": 10,
            "user": user,
            "guilds": [{"id": str(guild_id), "unavailable": True} for guild_id in self.guilds],
            "session_id": session_id,
            "session_type": "normal",
            "resume_gateway_url": resume_url,
            "application": {"id": str(self.application_id), "flags": APPLICATION_FLAGS},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["local"],
            "user_settings": {},
            "auth": {},
            "_trace": ["fake-discord"],
        }
        if shard is not None:
            payload["shard"] = shard
        return payload

    def guild_create_payloads(self) -> list[Payload]:
        return [guild.to_gateway_payload(self.bot_user.id) for guild in self.guilds.values()]

    def member_chunk(self, request: Payload) -> Payload:
        guild = self.guilds[int(request["guild_id"])]
        members = list(guild.members.values())
        if request.get("user_ids"):
            wanted = {int(user_id) for user_id in request["user_ids"]}
            members = [member for member in members if member.user.id in wanted]
        elif request.get("query"):
            query = request["query"].lower()
            members = [member for member in members if member.user.username.lower().startswith(query)]
        if request.get("limit"):
            members = members[: request["limit"]]
        chunk: Payload = {
            "guild_id": str(guild.id),
            "members": [member.to_payload() for member in members],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if request.get("presences"):
            chunk["presences"] = []
        if request.get("nonce"):
            chunk["nonce"] = request["nonce"]
        return chunk

    # -- recording and waiting -----------------------------------------------------------------

    def mark(self) -> Mark:
        """Remember 'now' so later waits and queries only look at what happened after it."""
        return Mark(calls=len(self.calls), messages=len(self.bot_message_ids))

    def calls_to(self, method: str, pattern: str, *, since: Mark | None = None) -> list[RecordedCall]:
        """Recorded calls matching e.g. ("POST", "/channels/{id}/messages") or a concrete path."""
        start = since.calls if since else 0
        return [call for call in self.calls[start:] if call_matches(call, method, pattern)]

    async def wait_for_call(
        self,
        method: str,
        pattern: str,
        *,
        predicate: Callable[[RecordedCall], bool] | None = None,
        since: Mark | None = None,
        timeout: float = 5.0,
    ) -> RecordedCall:
        """The first call (after `since`) matching method, path pattern and predicate."""

        def found() -> RecordedCall | None:
            calls = self.calls_to(method, pattern, since=since)
            return next((call for call in calls if predicate is None or predicate(call)), None)

        try:
            await self.wait_until(lambda: found() is not None, timeout)
        except TimeoutError:
            raise AssertionError(
                f"no {method} {pattern} within {timeout}s; calls so far:\n{self.describe_calls(since)}"
            ) from None
        result = found()
        assert result is not None
        return result

    def messages_sent(
        self, channel_id: int | None = None, *, since: Mark | None = None, include_ephemeral: bool = True
    ) -> list[Payload]:
        """Current state of the messages the bot created (REST, interaction responses, follow-ups)."""
        start = since.messages if since else 0
        found = []
        for message_id in self.bot_message_ids[start:]:
            message = self.messages.get(message_id)
            if message is None or (channel_id is not None and int(message["channel_id"]) != channel_id):
                continue
            if not include_ephemeral and message["flags"] & FLAG_EPHEMERAL:
                continue
            found.append(message)
        return found

    async def wait_for_message(
        self,
        channel_id: int | None = None,
        *,
        predicate: Callable[[Payload], bool] | None = None,
        since: Mark | None = None,
        timeout: float = 5.0,
    ) -> Payload:
        """The first bot message (after `since`) in `channel_id` matching `predicate`."""

        def found() -> Payload | None:
            messages = self.messages_sent(channel_id, since=since)
            return next((message for message in messages if predicate is None or predicate(message)), None)

        try:
            await self.wait_until(lambda: found() is not None, timeout)
        except TimeoutError:
            calls = self.describe_calls(since)
            raise AssertionError(
                f"the bot sent no matching message within {timeout}s; calls so far:\n{calls}"
            ) from None
        result = found()
        assert result is not None
        return result

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(condition)

    async def settle(self, timeout: float = 5.0) -> None:
        """Let the bot finish digesting what the stand-in already told it, the way a human only
        clicks a button after seeing the message: no REST call in flight, then some loop turns."""
        async with asyncio.timeout(timeout):
            while True:
                await self.wait_until(lambda: self._in_flight == 0, timeout)
                for _ in range(self.settle_iterations):
                    await asyncio.sleep(0)
                if self._in_flight == 0:
                    return

    def describe_calls(self, since: Mark | None = None) -> str:
        start = since.calls if since else 0
        return "\n".join(f"  {call}" for call in self.calls[start:]) or "  (none)"

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- HTTP plumbing -------------------------------------------------------------------------

    def _add_routes(self, router: web.UrlDispatcher) -> None:
        for method, path, handler in self._routes():
            router.add_route(method, API_PREFIX + path, handler)
        router.add_route("GET", "/", self.gateway.handle)
        router.add_route("GET", "/resume", self.gateway.handle)
        router.add_route("GET", "/attachments/{attachment_id}/{filename}", self._get_attachment)
        router.add_route("*", API_PREFIX + "/{tail:.*}", self._unknown_route)
        router.add_route("*", "/{tail:.*}", self._unknown_route)

    def _routes(self) -> list[tuple[str, str, Handler]]:
        message = "/channels/{channel_id}/messages/{message_id}"
        reaction = message + "/reactions/{emoji}/@me"
        webhook_message = "/webhooks/{application_id}/{token}/messages/{message_id}"
        global_commands = "/applications/{application_id}/commands"
        guild_commands = "/applications/{application_id}/guilds/{guild_id}/commands"
        return [
            ("GET", "/gateway", self._get_gateway),
            ("GET", "/gateway/bot", self._get_gateway_bot),
            ("GET", "/oauth2/applications/@me", self._get_application),
            ("GET", "/applications/@me", self._get_application),
            ("GET", "/users/{user_id}", self._get_user),
            ("POST", "/users/@me/channels", self._create_dm),
            ("GET", "/channels/{channel_id}", self._get_channel),
            ("GET", "/channels/{channel_id}/messages", self._list_messages),
            ("POST", "/channels/{channel_id}/messages", self._create_message),
            ("POST", "/channels/{channel_id}/typing", self._typing),
            ("GET", message, self._get_message),
            ("PATCH", message, self._edit_message),
            ("DELETE", message, self._delete_message),
            ("PUT", reaction, self._add_reaction),
            ("DELETE", reaction, self._remove_reaction),
            ("GET", "/guilds/{guild_id}", self._get_guild),
            ("GET", "/guilds/{guild_id}/channels", self._get_guild_channels),
            ("GET", "/guilds/{guild_id}/members/{user_id}", self._get_member),
            ("POST", "/interactions/{interaction_id}/{token}/callback", self._interaction_callback),
            ("POST", "/webhooks/{application_id}/{token}", self._execute_webhook),
            ("GET", webhook_message, self._get_webhook_message),
            ("PATCH", webhook_message, self._edit_webhook_message),
            ("DELETE", webhook_message, self._delete_webhook_message),
            ("GET", global_commands, self._get_commands),
            ("PUT", global_commands, self._put_commands),
            ("POST", global_commands, self._post_command),
            ("GET", guild_commands, self._get_commands),
            ("PUT", guild_commands, self._put_commands),
            ("POST", guild_commands, self._post_command),
        ]

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(API_PREFIX + "/"):
            return await handler(request)
        call = self._new_call(request)
        request[CALL] = call
        self._in_flight += 1
        try:
            response = await self._respond(request, handler, call)
            call.status = response.status
            call.response = response.get(PAYLOAD) if isinstance(response, web.Response) else None
            self.calls.append(call)
            await self._notify()
            # Written here (not by aiohttp after we return) so settle() knows the bot has it.
            await response.prepare(request)
            await response.write_eof()
            return response
        finally:
            self._in_flight -= 1
            await self._notify()

    async def _respond(
        self, request: web.Request, handler: Handler, call: RecordedCall
    ) -> web.StreamResponse:
        try:
            call.json, call.files = await self._read_body(request)
            self._check_auth(request)
            response = await handler(request)
        except ApiError as error:
            response = json_reply(error.payload(), error.status)
        except Exception as exc:
            # A bug in the stand-in itself. 400 (not 500) so discord.py fails fast instead of retrying.
            self.internal_errors.append(f"{call.method} {call.path}: {traceback.format_exc()}")
            response = json_reply({"message": f"fake_discord internal error: {exc!r}", "code": 0}, 400)
        return response

    @staticmethod
    def _new_call(request: web.Request) -> RecordedCall:
        resource = request.match_info.route.resource
        template = resource.canonical if resource is not None else request.path
        return RecordedCall(
            method=request.method,
            path=request.path[len(API_PREFIX) :],
            route=template[len(API_PREFIX) :],
            query=dict(request.query),
            json=None,
        )

    @staticmethod
    async def _read_body(request: web.Request) -> tuple[Any, list[RecordedFile]]:
        """The JSON body, or for multipart requests the decoded payload_json plus the files."""
        if request.content_type != "multipart/form-data":
            text = await request.text() if request.can_read_body else ""
            return (json.loads(text) if text else None), []
        body: Any = None
        files: list[RecordedFile] = []
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "payload_json":
                body = json.loads(await part.text())
            else:
                data = bytes(await part.read())
                content_type = part.headers.get("Content-Type")
                files.append(RecordedFile(part.name or "", part.filename or "", data, content_type))
        return body, files

    def _check_auth(self, request: web.Request) -> None:
        # Interaction callbacks and webhook-token routes authenticate with the token in the path.
        path = request.path[len(API_PREFIX) :]
        if path.startswith(("/interactions/", "/webhooks/")):
            return
        if request.headers.get("Authorization") != f"Bot {self.token}":
            raise ApiError(401, 0, "401: Unauthorized")

    async def _unknown_route(self, request: web.Request) -> web.Response:
        call = request.get(CALL)
        if call is None:  # outside /api/v10 (e.g. a CDN URL), so the middleware did not record it
            call = RecordedCall(
                request.method, request.path, request.path, dict(request.query), None, status=404
            )
            self.calls.append(call)
        self.unknown_routes.append(call)
        return json_reply({"message": "404: Not Found", "code": 0}, 404)

    async def _get_attachment(self, request: web.Request) -> web.Response:
        """Serves files the bot uploaded, at the `url` given in their attachment objects."""
        file = self.attachment_files.get(_int(request.match_info["attachment_id"]))
        if file is None:
            return await self._unknown_route(request)
        return web.Response(body=file.data, content_type=file.content_type or "application/octet-stream")

    # -- lookups -------------------------------------------------------------------------------

    def _channel(self, request: web.Request) -> FakeChannel:
        channel = self.channels.get(_int(request.match_info["channel_id"]))
        if channel is None:
            raise ApiError(404, 10003, "Unknown Channel")
        return channel

    def _guild(self, request: web.Request) -> FakeGuild:
        guild = self.guilds.get(_int(request.match_info["guild_id"]))
        if guild is None:
            raise ApiError(404, 10004, "Unknown Guild")
        return guild

    def _message_in(self, channel: FakeChannel, message_id: int) -> Payload:
        message = self.messages.get(message_id)
        if message is None or int(message["channel_id"]) != channel.id:
            raise ApiError(404, 10008, "Unknown Message")
        return message

    def _require(self, channel: FakeChannel, needed: int) -> None:
        guild = self.guild_of(channel)
        if guild is None:
            return
        granted = guild.permissions_in(channel, self.bot_user.id)
        if not granted & Perm.VIEW_CHANNEL:
            raise ApiError(403, 50001, "Missing Access")
        if granted & needed != needed:
            raise ApiError(403, 50013, "Missing Permissions")

    def _check_application(self, request: web.Request) -> None:
        if _int(request.match_info["application_id"]) != self.application_id:
            raise ApiError(404, 10002, "Unknown Application")

    # -- REST: identity and guilds -------------------------------------------------------------

    async def _get_gateway(self, _request: web.Request) -> web.Response:
        return json_reply({"url": self.gateway_url.rstrip("/")})

    async def _get_gateway_bot(self, _request: web.Request) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return json_reply({"url": self.gateway_url.rstrip("/"), "shards": 1, "session_start_limit": limit})

    async def _get_application(self, _request: web.Request) -> web.Response:
        return json_reply(
            {
                "id": str(self.application_id),
                "name": self.bot_user.username,
                "icon": None,
                "description": "",
                "summary": "",
                "type": None,
                "hook": True,
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "flags": APPLICATION_FLAGS,
                "owner": self.owner.to_payload(),
                "team": None,
                "bot": self.bot_user.to_payload(),
                "rpc_origins": [],
                "redirect_uris": [],
                "tags": [],
                "install_params": None,
                "integration_types_config": {"0": {}},
                "interactions_endpoint_url": None,
                "role_connections_verification_url": None,
                "terms_of_service_url": None,
                "privacy_policy_url": None,
                "custom_install_url": None,
                "approximate_guild_count": len(self.guilds),
                "approximate_user_install_count": 0,
                "guild_id": None,
                "primary_sku_id": None,
                "slug": None,
                "cover_image": None,
            }
        )

    async def _get_user(self, request: web.Request) -> web.Response:
        raw_id = request.match_info["user_id"]
        if raw_id == "@me":
            me = self.bot_user.to_payload() | {
                "verified": True,
                "mfa_enabled": False,
                "email": None,
                "locale": "en-US",
            }
            return json_reply(me)
        user = self.users.get(_int(raw_id))
        if user is None:
            raise ApiError(404, 10013, "Unknown User")
        return json_reply(user.to_payload())

    async def _create_dm(self, request: web.Request) -> web.Response:
        body = request[CALL].json or {}
        user = self.users.get(_int(body.get("recipient_id")))
        if user is None:
            raise invalid_form(["recipient_id: unknown user"])
        return json_reply(self.dm_channel(user).to_payload())

    async def _get_guild(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        payload = guild.to_rest_payload()
        if request.query.get("with_counts") in ("1", "true", "True"):
            payload.update(approximate_member_count=len(guild.members), approximate_presence_count=0)
        return json_reply(payload)

    async def _get_guild_channels(self, request: web.Request) -> web.Response:
        return json_reply([channel.to_payload() for channel in self._guild(request).channels])

    async def _get_member(self, request: web.Request) -> web.Response:
        member = self._guild(request).members.get(_int(request.match_info["user_id"]))
        if member is None:
            raise ApiError(404, 10007, "Unknown Member")
        return json_reply(member.to_payload())

    async def _get_channel(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        self._require(channel, 0)
        return json_reply(channel.to_payload())

    # -- REST: messages ------------------------------------------------------------------------

    async def _list_messages(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        self._require(channel, Perm.READ_MESSAGE_HISTORY)
        limit = int(request.query.get("limit", "50"))
        before = _int(request.query.get("before")) or None
        after = _int(request.query.get("after")) or 0
        found = [
            message
            for message_id, message in sorted(self.messages.items(), reverse=True)
            if int(message["channel_id"]) == channel.id
            and (before is None or message_id < before)
            and message_id > after
            and not message["flags"] & FLAG_EPHEMERAL
        ]
        return json_reply(found[:limit])

    async def _get_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        self._require(channel, Perm.READ_MESSAGE_HISTORY)
        return json_reply(self._message_in(channel, _int(request.match_info["message_id"])))

    async def _create_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        call: RecordedCall = request[CALL]
        body = call.json or {}
        self._require(channel, Perm.SEND_MESSAGES | (Perm.ATTACH_FILES if call.files else 0))
        self._validate_new_message(body, call.files)
        reference = self._outgoing_reference(channel, body.get("message_reference"))
        message = self._build_message(
            channel,
            self.bot_user,
            body,
            call.files,
            reference=reference,
            mention_rules=body.get("allowed_mentions"),
        )
        self._store_bot_message(message)
        await self._dispatch_message("MESSAGE_CREATE", message)
        return json_reply(message)

    async def _edit_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        message = self._message_in(channel, _int(request.match_info["message_id"]))
        call: RecordedCall = request[CALL]
        if int(message["author"]["id"]) != self.bot_user.id:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        self._apply_edit(message, call.json or {}, call.files)
        await self._dispatch_message("MESSAGE_UPDATE", message)
        return json_reply(message)

    async def _delete_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        message = self._message_in(channel, _int(request.match_info["message_id"]))
        if int(message["author"]["id"]) != self.bot_user.id:
            self._require(channel, Perm.MANAGE_MESSAGES)
        await self._delete(message)
        return no_content()

    async def _typing(self, request: web.Request) -> web.Response:
        self._require(self._channel(request), Perm.SEND_MESSAGES)
        return no_content()

    async def _add_reaction(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        self._require(channel, Perm.ADD_REACTIONS | Perm.READ_MESSAGE_HISTORY)
        message = self._message_in(channel, _int(request.match_info["message_id"]))
        await self._react(message, self.bot_user, request.match_info["emoji"], add=True)
        return no_content()

    async def _remove_reaction(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        message = self._message_in(channel, _int(request.match_info["message_id"]))
        await self._react(message, self.bot_user, request.match_info["emoji"], add=False)
        return no_content()

    # -- messages: building, editing, dispatching ----------------------------------------------

    def _validate_new_message(self, body: Payload, files: list[RecordedFile]) -> None:
        errors = limits.message_errors(body)
        if errors:
            raise invalid_form(errors)
        if limits.is_empty_message(body, has_files=bool(files)):
            raise ApiError(400, 50006, "Cannot send an empty message")

    def _outgoing_reference(self, channel: FakeChannel, reference: Payload | None) -> Payload | None:
        if not reference:
            return None
        target = self.messages.get(_int(reference.get("message_id")))
        if target is None and reference.get("fail_if_not_exists", True):
            raise invalid_form(["message_reference: Unknown message"])
        return target

    def _build_message(
        self,
        channel: FakeChannel,
        author: FakeUser,
        body: Payload,
        files: list[RecordedFile],
        *,
        reference: Payload | None = None,
        mention_rules: Payload | None = None,
        extra_mentions: Iterable[int] = (),
        message_type: int | None = None,
        extra: Payload | None = None,
    ) -> Payload:
        content = body.get("content") or ""
        guild = self.guild_of(channel)
        message: Payload = {
            "id": str(self.snowflake()),
            "channel_id": str(channel.id),
            "type": message_type if message_type is not None else (MESSAGE_TYPE_REPLY if reference else 0),
            "author": author.to_payload(),
            "content": content,
            "timestamp": iso_now(),
            "edited_timestamp": None,
            "tts": bool(body.get("tts")),
            "mention_everyone": mentions_everyone(content, mention_rules),
            "mentions": self._mentions(content, mention_rules, reference, guild, extra_mentions),
            "mention_roles": [
                str(role_id)
                for role_id in allowed_mention_ids(
                    parse_role_mentions(content), mention_rules, "roles", "roles"
                )
            ],
            "attachments": self._attachments(body, files),
            "embeds": [dict(embed, type=embed.get("type", "rich")) for embed in body.get("embeds") or []],
            "components": copy.deepcopy(body.get("components") or []),
            "reactions": [],
            "pinned": False,
            "flags": body.get("flags") or 0,
            "sticker_items": [],
        }
        if body.get("nonce") is not None:
            message["nonce"] = body["nonce"]
        if reference is not None:
            message["message_reference"] = self._reference_to(reference)
            message["referenced_message"] = {k: v for k, v in reference.items() if k != "referenced_message"}
        message.update(extra or {})
        return message

    def _mentions(
        self,
        content: str,
        rules: Payload | None,
        reference: Payload | None,
        guild: FakeGuild | None,
        extra: Iterable[int],
    ) -> list[Payload]:
        user_ids = allowed_mention_ids(parse_user_mentions(content), rules, "users", "users")
        if reference is not None and replied_user_pinged(rules):
            user_ids.append(int(reference["author"]["id"]))
        mentions = []
        for user_id in chain_unique(user_ids, extra):
            user = self.users.get(user_id)
            if user is None:
                continue
            payload = user.to_payload()
            member = guild.members.get(user_id) if guild else None
            if member is not None:
                payload["member"] = member.to_payload(with_user=False)
            mentions.append(payload)
        return mentions

    def _reference_to(self, target: Payload) -> Payload:
        channel = self.channels[int(target["channel_id"])]
        reference = {"type": 0, "message_id": target["id"], "channel_id": target["channel_id"]}
        if channel.guild_id:
            reference["guild_id"] = str(channel.guild_id)
        return reference

    def _attachments(
        self, body: Payload, files: list[RecordedFile], keep: Iterable[Payload] = ()
    ) -> list[Payload]:
        declared = {str(item.get("id")): item for item in body.get("attachments") or []}
        attachments = list(keep)
        for index, file in enumerate(files):
            meta = declared.get(str(index), {})
            attachment_id = self.snowflake()
            self.attachment_files[attachment_id] = file
            url = f"http://127.0.0.1:{self.port}/attachments/{attachment_id}/{file.filename}"
            attachments.append(
                {
                    "id": str(attachment_id),
                    "filename": meta.get("filename", file.filename),
                    "description": meta.get("description"),
                    "size": len(file.data),
                    "url": url,
                    "proxy_url": url,
                    "content_type": file.content_type,
                    "spoiler": file.filename.startswith("SPOILER_"),
                }
            )
        return attachments

    def _apply_edit(self, message: Payload, body: Payload, files: list[RecordedFile]) -> None:
        errors = limits.message_errors(body)
        if errors:
            raise invalid_form(errors)
        for key in ("content", "embeds", "components"):
            if key in body:
                message[key] = copy.deepcopy(body[key]) or ("" if key == "content" else [])
        if "flags" in body:
            message["flags"] = (message["flags"] & FLAG_EPHEMERAL) | (body["flags"] or 0)
        if "attachments" in body:
            kept_ids = {str(item.get("id")) for item in body["attachments"] or []}
            kept = [item for item in message["attachments"] if item["id"] in kept_ids]
            message["attachments"] = self._attachments(body, files, keep=kept)
        elif files:
            message["attachments"] = self._attachments(body, files, keep=message["attachments"])
        message["flags"] &= ~FLAG_LOADING
        message["edited_timestamp"] = iso_now()

    def _store_bot_message(self, message: Payload) -> None:
        self.messages[int(message["id"])] = message
        self.bot_message_ids.append(int(message["id"]))

    async def _delete(self, message: Payload) -> None:
        self.messages.pop(int(message["id"]), None)
        channel = self.channels[int(message["channel_id"])]
        data = {"id": message["id"], "channel_id": message["channel_id"]}
        if channel.guild_id:
            data["guild_id"] = str(channel.guild_id)
        if not message["flags"] & FLAG_EPHEMERAL:
            await self.gateway.dispatch("MESSAGE_DELETE", data, intent=self._message_intent(channel))
        await self._notify()

    def _message_intent(self, channel: FakeChannel) -> int:
        return Intent.GUILD_MESSAGES if channel.guild_id else Intent.DIRECT_MESSAGES

    def _gateway_message(self, message: Payload) -> Payload:
        """The gateway form of a stored message: adds guild_id and the author's member."""
        data = dict(message)
        channel = self.channels[int(message["channel_id"])]
        guild = self.guild_of(channel)
        if guild is not None:
            data["guild_id"] = str(guild.id)
            member = guild.members.get(int(message["author"]["id"]))
            if member is not None and "webhook_id" not in message:
                data["member"] = member.to_payload(with_user=False)
        return data

    async def _dispatch_message(self, event: str, message: Payload) -> None:
        """MESSAGE_CREATE/UPDATE to sessions with the right intent; content blanked like Discord
        does for bots without MESSAGE_CONTENT (except DMs, own messages and mentions of the bot)."""
        await self._notify()
        if message["flags"] & FLAG_EPHEMERAL:
            return
        channel = self.channels[int(message["channel_id"])]
        exempt = (
            channel.is_dm
            or int(message["author"]["id"]) == self.bot_user.id
            or any(int(user["id"]) == self.bot_user.id for user in message["mentions"])
        )
        await self.gateway.dispatch(
            event,
            self._gateway_message(message),
            intent=self._message_intent(channel),
            redact=None if exempt else redact_content,
        )

    async def _react(self, message: Payload, user: FakeUser, emoji: str, *, add: bool) -> None:
        users = self.reactions.setdefault(int(message["id"]), {}).setdefault(emoji, [])
        if add == (user.id in users):
            return
        if add:
            users.append(user.id)
        else:
            users.remove(user.id)
        message["reactions"] = self._render_reactions(int(message["id"]))
        channel = self.channels[int(message["channel_id"])]
        data: Payload = {
            "user_id": str(user.id),
            "channel_id": str(channel.id),
            "message_id": message["id"],
            "emoji": _emoji_payload(emoji),
            "burst": False,
            "type": 0,
        }
        guild = self.guild_of(channel)
        if guild is not None:
            data["guild_id"] = str(guild.id)
            if add and user.id in guild.members:
                data["member"] = guild.members[user.id].to_payload()
        if add:
            data.update(message_author_id=message["author"]["id"], burst_colors=[])
        intent = Intent.GUILD_MESSAGE_REACTIONS if guild else Intent.DIRECT_MESSAGE_REACTIONS
        event = "MESSAGE_REACTION_ADD" if add else "MESSAGE_REACTION_REMOVE"
        await self.gateway.dispatch(event, data, intent=intent)
        await self._notify()

    def _render_reactions(self, message_id: int) -> list[Payload]:
        return [
            {
                "emoji": _emoji_payload(emoji),
                "count": len(users),
                "count_details": {"normal": len(users), "burst": 0},
                "me": self.bot_user.id in users,
                "me_burst": False,
                "burst_colors": [],
            }
            for emoji, users in self.reactions.get(message_id, {}).items()
            if users
        ]

    # -- injecting user activity ---------------------------------------------------------------

    def _resolve_channel(
        self, channel: FakeChannel | int | None, guild: FakeGuild | None = None
    ) -> FakeChannel:
        if channel is None:
            return (guild or self.guild).channels[0]
        if isinstance(channel, FakeChannel):
            return channel
        return self.channels[channel]

    def _check_can_act(self, user: FakeUser, channel: FakeChannel) -> None:
        guild = self.guild_of(channel)
        if guild is not None and user.id not in guild.members:
            raise ValueError(f"{user.username} is not a member of {guild.name}; use make_member()")

    async def inject_message(
        self,
        channel: FakeChannel | int,
        author: FakeUser,
        content: str = "",
        *,
        mentions: Iterable[FakeUser] = (),
        message_reference: Payload | int | None = None,
        ping_replied_author: bool = True,
        embeds: list[Payload] | None = None,
    ) -> Payload:
        """A user posts a message; it reaches the bot as MESSAGE_CREATE. Returns the message.

        Mentions are parsed from `<@id>` in the content; `mentions` adds more users."""
        await self.settle()
        target = self._resolve_channel(channel)
        self._check_can_act(author, target)
        reference = self._incoming_reference(message_reference)
        rules = (
            None if ping_replied_author else {"parse": ["users", "roles", "everyone"], "replied_user": False}
        )
        message = self._build_message(
            target,
            author,
            {"content": content, "embeds": embeds or []},
            [],
            reference=reference,
            mention_rules=rules,
            extra_mentions=[user.id for user in mentions],
        )
        self.messages[int(message["id"])] = message
        await self._dispatch_message("MESSAGE_CREATE", message)
        return message

    async def inject_dm(self, author: FakeUser, content: str, **kwargs: Any) -> Payload:
        """`author` sends the bot a direct message."""
        return await self.inject_message(self.dm_channel(author), author, content, **kwargs)

    def _incoming_reference(self, reference: Payload | int | None) -> Payload | None:
        if reference is None:
            return None
        message_id = int(reference["id"]) if isinstance(reference, dict) else reference
        return self.messages[message_id]

    async def inject_reaction(self, user: FakeUser, message_id: int, emoji: str, *, add: bool = True) -> None:
        """`user` adds (or removes) a reaction; emoji is a unicode char or 'name:id'."""
        await self.settle()
        message = self.messages[message_id]
        self._check_can_act(user, self.channels[int(message["channel_id"])])
        await self._react(message, user, emoji, add=add)

    # -- injecting interactions ----------------------------------------------------------------

    async def inject_slash_command(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        user: FakeUser,
        channel: FakeChannel | int | None = None,
        guild: FakeGuild | None = None,
        locale: str = "en-US",
    ) -> FakeInteraction:
        """A user runs `/name` in `channel` (default: the first channel of `guild` or of the main
        guild; pass `fake.dm_channel(user)` for a DM). Use "group sub" or "group subgroup sub" for
        nested commands. Option types come from the commands the bot registered (if synced to the
        stand-in), else from the Python values: str, int, float, bool, FakeUser, FakeChannel, FakeRole."""
        target = self._resolve_channel(channel, guild)
        data = self._command_data(name, options or {}, target, focused=None)
        return await self._inject_interaction(InteractionType.APPLICATION_COMMAND, data, user, target, locale)

    async def inject_autocomplete(
        self,
        name: str,
        options: dict[str, Any],
        focused: str,
        *,
        user: FakeUser,
        channel: FakeChannel | int | None = None,
        guild: FakeGuild | None = None,
        locale: str = "en-US",
    ) -> FakeInteraction:
        """A user is typing option `focused` of `/name`; `options` holds what is typed so far."""
        target = self._resolve_channel(channel, guild)
        data = self._command_data(name, options, target, focused=focused)
        return await self._inject_interaction(InteractionType.AUTOCOMPLETE, data, user, target, locale)

    async def inject_component(
        self,
        custom_id: str,
        message_id: int,
        user: FakeUser,
        values: list[Any] | None = None,
        *,
        locale: str = "en-US",
    ) -> FakeInteraction:
        """A user clicks a button (or picks `values` in a select) on a message the bot sent."""
        message = self.messages.get(message_id)
        if message is None:
            raise ValueError(f"no message {message_id} in the stand-in")
        component = _find_component(message["components"], custom_id)
        channel = self.channels[int(message["channel_id"])]
        data: Payload = {"custom_id": custom_id, "component_type": component["type"]}
        if component["type"] in SELECT_TYPES:
            resolved: Payload = {}
            data["values"] = [self._option_value(value, channel, resolved) for value in values or []]
            if resolved:
                data["resolved"] = resolved
        return await self._inject_interaction(
            InteractionType.MESSAGE_COMPONENT, data, user, channel, locale, message=message
        )

    async def inject_modal_submit(
        self,
        custom_id: str,
        fields: dict[str, Any],
        *,
        user: FakeUser,
        locale: str = "en-US",
    ) -> FakeInteraction:
        """A user submits the modal the bot opened with `custom_id`; `fields` maps input custom_ids
        to values. The submitted components mirror the layout of the modal the bot sent."""
        opened = self.opened_modals.get(custom_id)
        if opened is None:
            raise ValueError(f"the bot never opened a modal with custom_id {custom_id!r}")
        modal, origin = opened
        data = {"custom_id": custom_id, "components": _modal_submission(modal["components"], fields)}
        message = origin.payload.get("message")
        channel = self.channels[origin.channel_id]
        return await self._inject_interaction(
            InteractionType.MODAL_SUBMIT, data, user, channel, locale, message=message
        )

    async def _inject_interaction(
        self,
        interaction_type: int,
        data: Payload,
        user: FakeUser,
        target: FakeChannel,
        locale: str,
        message: Payload | None = None,
    ) -> FakeInteraction:
        await self.settle()
        self._check_can_act(user, target)
        payload = self._interaction_payload(interaction_type, data, user, target, locale, message)
        interaction = FakeInteraction(payload, wait_until=self.wait_until, get_message=self.messages.get)
        self.interactions[interaction.id] = interaction
        await self.gateway.dispatch("INTERACTION_CREATE", payload, intent=0)
        return interaction

    def _interaction_payload(
        self,
        interaction_type: int,
        data: Payload,
        user: FakeUser,
        channel: FakeChannel,
        locale: str,
        message: Payload | None,
    ) -> Payload:
        guild = self.guild_of(channel)
        payload: Payload = {
            "id": str(self.snowflake()),
            "application_id": str(self.application_id),
            "type": interaction_type,
            "token": "itoken-" + secrets.token_urlsafe(24),
            "version": 1,
            "data": data,
            "channel_id": str(channel.id),
            "channel": channel.to_payload(),
            "locale": locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        }
        if guild is not None:
            user_permissions = guild.permissions_in(channel, user.id)
            payload["channel"]["permissions"] = str(user_permissions)
            payload.update(
                guild_id=str(guild.id),
                guild=guild.to_partial_payload(),
                guild_locale="en-US",
                member=guild.members[user.id].to_payload() | {"permissions": str(user_permissions)},
                app_permissions=str(guild.permissions_in(channel, self.bot_user.id)),
                authorizing_integration_owners={"0": str(guild.id)},
                context=0,
            )
        else:
            payload.update(
                user=user.to_payload(),
                app_permissions=str(int(DM_APP_PERMISSIONS)),
                authorizing_integration_owners={"0": "0"},
                context=1,
            )
        if message is not None:
            payload["message"] = message
        return payload

    def _registered_command(self, name: str, guild: FakeGuild | None) -> Payload | None:
        scopes = ([guild.id] if guild else []) + [None]
        for scope in scopes:
            for command in self.commands.get(scope, []):
                if command["name"] == name and command.get("type", 1) == 1:
                    return command
        return None

    def _command_data(
        self, name: str, options: dict[str, Any], channel: FakeChannel, focused: str | None
    ) -> Payload:
        path = name.split()
        registered = self._registered_command(path[0], self.guild_of(channel))
        data: Payload = {
            "id": registered["id"] if registered else str(self.snowflake()),
            "name": path[0],
            "type": 1,
        }
        if registered and registered.get("guild_id"):
            data["guild_id"] = registered["guild_id"]
        specs = _option_specs(registered, path[1:])
        resolved: Payload = {}
        leaf = [
            self._build_option(
                option_name, value, specs.get(option_name), channel, resolved, option_name == focused
            )
            for option_name, value in options.items()
        ]
        if focused is not None and focused not in options:
            raise ValueError(f"focused option {focused!r} must be in options")
        data["options"] = _nest_options(path[1:], leaf, registered)
        if resolved:
            data["resolved"] = resolved
        return data

    def _build_option(
        self,
        name: str,
        value: Any,
        spec_type: int | None,
        channel: FakeChannel,
        resolved: Payload,
        focused: bool,
    ) -> Payload:
        option: Payload = {"name": name, "type": spec_type or _infer_option_type(value)}
        option["value"] = value if focused else self._option_value(value, channel, resolved)
        if focused:
            option["focused"] = True
        return option

    def _option_value(self, value: Any, channel: FakeChannel, resolved: Payload) -> Any:
        """Entities become snowflake strings and are added to `resolved`, like Discord does."""
        guild = self.guild_of(channel)
        if isinstance(value, FakeUser):
            resolved.setdefault("users", {})[str(value.id)] = value.to_payload()
            if guild is not None and value.id in guild.members:
                member = guild.members[value.id].to_payload(with_user=False)
                member["permissions"] = str(guild.permissions_in(channel, value.id))
                resolved.setdefault("members", {})[str(value.id)] = member
            return str(value.id)
        if isinstance(value, FakeRole):
            resolved.setdefault("roles", {})[str(value.id)] = value.to_payload()
            return str(value.id)
        if isinstance(value, FakeChannel):
            resolved_channel = value.to_payload()
            if guild is not None:
                resolved_channel["permissions"] = str(guild.permissions_in(value, self.bot_user.id))
            resolved.setdefault("channels", {})[str(value.id)] = resolved_channel
            return str(value.id)
        return value

    # -- REST: interactions and their webhooks -------------------------------------------------

    def _interaction(self, interaction_id: int, token: str) -> FakeInteraction:
        interaction = self.interactions.get(interaction_id)
        if interaction is None or interaction.token != token:
            raise ApiError(404, 10062, "Unknown interaction")
        return interaction

    async def _interaction_callback(self, request: web.Request) -> web.Response:
        interaction = self._interaction(
            _int(request.match_info["interaction_id"]), request.match_info["token"]
        )
        call: RecordedCall = request[CALL]
        body = call.json or {}
        if interaction.callback is not None:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        if call.at - interaction.created_at > self.interaction_ack_deadline:
            raise ApiError(404, 10062, "Unknown interaction")
        callback_type, data = body.get("type"), body.get("data") or {}
        if callback_type not in CALLBACKS_ALLOWED[interaction.type]:
            raise invalid_form(
                [f"type: {callback_type} is not valid for interaction type {interaction.type}"]
            )
        message = await self._perform_callback(interaction, callback_type, data, call.files)
        interaction.callback = InteractionCallback(callback_type, data, call.files, call)
        await self._notify()
        if request.query.get("with_response") not in ("1", "true", "True"):
            return no_content()
        return json_reply(self._callback_response(interaction, callback_type, message))

    async def _perform_callback(
        self, interaction: FakeInteraction, callback_type: int, data: Payload, files: list[RecordedFile]
    ) -> Payload | None:
        if callback_type == CallbackType.CHANNEL_MESSAGE:
            self._validate_new_message(data, files)
            return await self._create_interaction_message(interaction, data, files)
        if callback_type == CallbackType.DEFERRED_CHANNEL_MESSAGE:
            loading = {"flags": (data.get("flags") or 0) | FLAG_LOADING}
            return await self._create_interaction_message(interaction, loading, [])
        if callback_type in (CallbackType.DEFERRED_UPDATE_MESSAGE, CallbackType.UPDATE_MESSAGE):
            return await self._update_component_message(interaction, callback_type, data, files)
        if callback_type == CallbackType.AUTOCOMPLETE_RESULT:
            errors = limits.choices_errors(data)
        else:
            errors = limits.modal_errors(data)
            self.opened_modals[data.get("custom_id", "")] = (data, interaction)
        if errors:
            raise invalid_form(errors)
        return None

    async def _update_component_message(
        self, interaction: FakeInteraction, callback_type: int, data: Payload, files: list[RecordedFile]
    ) -> Payload:
        source = interaction.payload.get("message")
        message = self.messages.get(int(source["id"])) if source else None
        if message is None:
            raise invalid_form(["type: this interaction has no message to update"])
        interaction.original_message_id = int(message["id"])
        if callback_type == CallbackType.UPDATE_MESSAGE:
            self._apply_edit(message, data, files)
            await self._dispatch_message("MESSAGE_UPDATE", message)
        return message

    async def _create_interaction_message(
        self,
        interaction: FakeInteraction,
        body: Payload,
        files: list[RecordedFile],
        *,
        followup: bool = False,
    ) -> Payload:
        channel = self.channels[interaction.channel_id]
        is_command = interaction.type == InteractionType.APPLICATION_COMMAND
        message = self._build_message(
            channel,
            self.bot_user,
            body,
            files,
            mention_rules=body.get("allowed_mentions"),
            message_type=MESSAGE_TYPE_CHAT_INPUT_COMMAND
            if is_command and not followup
            else MESSAGE_TYPE_DEFAULT,
            extra={
                "webhook_id": str(self.application_id),
                "application_id": str(self.application_id),
                "interaction_metadata": self._interaction_metadata(interaction, followup),
            },
        )
        self._store_bot_message(message)
        if followup:
            interaction.followup_ids.append(int(message["id"]))
        else:
            interaction.original_message_id = int(message["id"])
        await self._dispatch_message("MESSAGE_CREATE", message)
        return message

    def _interaction_metadata(self, interaction: FakeInteraction, followup: bool) -> Payload:
        payload = interaction.payload
        user = payload["member"]["user"] if "member" in payload else payload["user"]
        metadata: Payload = {
            "id": payload["id"],
            "type": interaction.type,
            "user": user,
            "authorizing_integration_owners": payload["authorizing_integration_owners"],
        }
        if interaction.type == InteractionType.APPLICATION_COMMAND:
            metadata.update(name=payload["data"]["name"], command_type=1)
        if followup and interaction.original_message_id:
            metadata["original_response_message_id"] = str(interaction.original_message_id)
        if "message" in payload:
            metadata["interacted_message_id"] = payload["message"]["id"]
        return metadata

    def _callback_response(
        self, interaction: FakeInteraction, callback_type: int, message: Payload | None
    ) -> Payload:
        resource: Payload = {"type": callback_type}
        if message is not None and callback_type != CallbackType.DEFERRED_UPDATE_MESSAGE:
            resource["message"] = message
        flags = message["flags"] if message else 0
        return {
            "interaction": {
                "id": str(interaction.id),
                "type": interaction.type,
                "activity_instance_id": None,
                "response_message_id": message["id"] if message else None,
                "response_message_loading": callback_type == CallbackType.DEFERRED_CHANNEL_MESSAGE,
                "response_message_ephemeral": bool(flags & FLAG_EPHEMERAL),
            },
            "resource": resource,
        }

    def _webhook_interaction(self, request: web.Request) -> FakeInteraction:
        self._check_application(request)
        token = request.match_info["token"]
        interaction = next((i for i in self.interactions.values() if i.token == token), None)
        if interaction is None or interaction.callback is None:
            raise ApiError(404, 10015, "Unknown Webhook")
        return interaction

    def _webhook_message(self, request: web.Request) -> tuple[FakeInteraction, Payload]:
        interaction = self._webhook_interaction(request)
        raw_id = request.match_info["message_id"]
        message_id = interaction.original_message_id if raw_id == "@original" else _int(raw_id)
        message = self.messages.get(message_id or 0)
        if message is None or message_id not in interaction.message_ids:
            raise ApiError(404, 10008, "Unknown Message")
        return interaction, message

    async def _execute_webhook(self, request: web.Request) -> web.Response:
        interaction = self._webhook_interaction(request)
        call: RecordedCall = request[CALL]
        body = call.json or {}
        self._validate_new_message(body, call.files)
        message = await self._create_interaction_message(interaction, body, call.files, followup=True)
        if request.query.get("wait") not in ("1", "true", "True"):
            return no_content()
        return json_reply(message)

    async def _get_webhook_message(self, request: web.Request) -> web.Response:
        return json_reply(self._webhook_message(request)[1])

    async def _edit_webhook_message(self, request: web.Request) -> web.Response:
        _interaction, message = self._webhook_message(request)
        call: RecordedCall = request[CALL]
        self._apply_edit(message, call.json or {}, call.files)
        await self._dispatch_message("MESSAGE_UPDATE", message)
        return json_reply(message)

    async def _delete_webhook_message(self, request: web.Request) -> web.Response:
        await self._delete(self._webhook_message(request)[1])
        return no_content()

    # -- REST: application commands ------------------------------------------------------------

    def _command_scope(self, request: web.Request) -> int | None:
        self._check_application(request)
        if "guild_id" not in request.match_info:
            return None
        guild = self.guilds.get(_int(request.match_info["guild_id"]))
        if guild is None:
            raise ApiError(403, 50001, "Missing Access")
        return guild.id

    async def _get_commands(self, request: web.Request) -> web.Response:
        return json_reply(self.commands.get(self._command_scope(request), []))

    async def _put_commands(self, request: web.Request) -> web.Response:
        scope = self._command_scope(request)
        body = request[CALL].json
        errors = limits.command_errors(body)
        if errors:
            raise invalid_form(errors)
        self.commands[scope] = [self._command_record(command, scope) for command in body]
        return json_reply(self.commands[scope])

    async def _post_command(self, request: web.Request) -> web.Response:
        scope = self._command_scope(request)
        body = request[CALL].json or {}
        errors = limits.command_errors([body])
        if errors:
            raise invalid_form(errors)
        record = self._command_record(body, scope)
        existing = [c for c in self.commands.get(scope, []) if c["id"] != record["id"]]
        self.commands[scope] = [*existing, record]
        return json_reply(record, 201)

    def _command_record(self, command: Payload, scope: int | None) -> Payload:
        """What Discord stores for a registered command; ids survive re-syncs of the same name."""
        command_type = command.get("type", 1)
        previous = next(
            (
                c
                for c in self.commands.get(scope, [])
                if c["name"] == command["name"] and c["type"] == command_type
            ),
            None,
        )
        record = {
            "id": previous["id"] if previous else str(self.snowflake()),
            "application_id": str(self.application_id),
            "version": str(self.snowflake()),
            "type": command_type,
            "name": command["name"],
            "name_localizations": command.get("name_localizations"),
            "description": command.get("description", ""),
            "description_localizations": command.get("description_localizations"),
            "options": command.get("options", []),
            "default_member_permissions": command.get("default_member_permissions"),
            "dm_permission": command.get("dm_permission", True),
            "contexts": command.get("contexts"),
            "integration_types": command.get("integration_types", [0]),
            "nsfw": command.get("nsfw", False),
        }
        if scope is not None:
            record["guild_id"] = str(scope)
        return record


# -- helpers -------------------------------------------------------------------------------------


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _emoji_payload(emoji: str) -> Payload:
    """'👍' -> unicode emoji; 'name:123' (or 'a:name:123') -> custom emoji."""
    parts = emoji.split(":")
    if len(parts) >= 2 and parts[-1].isdigit():
        return {"id": parts[-1], "name": parts[-2], "animated": parts[0] == "a" and len(parts) == 3}
    return {"id": None, "name": emoji}


def _infer_option_type(value: Any) -> int:
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return 4
    if isinstance(value, float):
        return 10
    if isinstance(value, FakeUser):
        return 6
    if isinstance(value, FakeChannel):
        return 7
    if isinstance(value, FakeRole):
        return 8
    return 3


def _option_specs(registered: Payload | None, subpath: list[str]) -> dict[str, int]:
    """name -> option type for the leaf command, from the registered command, if any."""
    if registered is None:
        return {}
    options = registered.get("options") or []
    for name in subpath:
        parent = next((o for o in options if o["name"] == name and o["type"] in (1, 2)), None)
        if parent is None:
            raise ValueError(f"/{registered['name']} has no subcommand (group) {name!r}")
        options = parent.get("options") or []
    return {option["name"]: option["type"] for option in options if option["type"] not in (1, 2)}


def _nest_options(subpath: list[str], leaf: list[Payload], registered: Payload | None) -> list[Payload]:
    """Wrap leaf options in SUB_COMMAND (1) / SUB_COMMAND_GROUP (2) options like Discord."""
    if not subpath:
        return leaf
    if len(subpath) > 2:
        raise ValueError("Discord allows at most a group and a subcommand below a command")
    options = leaf
    for depth, name in reversed(list(enumerate(subpath))):
        is_group = depth == 0 and len(subpath) == 2
        options = [{"name": name, "type": 2 if is_group else 1, "options": options}]
    return options


def _find_component(components: list[Payload], custom_id: str) -> Payload:
    found = [c for c in limits.iter_components(components) if c.get("custom_id") == custom_id]
    if not found:
        available = [c["custom_id"] for c in limits.iter_components(components) if c.get("custom_id")]
        raise ValueError(f"no component {custom_id!r} on that message; it has {available}")
    return found[0]


def _modal_submission(layout: list[Payload], fields: dict[str, Any]) -> list[Payload]:
    known = {c["custom_id"] for c in limits.iter_components(layout) if c.get("custom_id")}
    unknown = set(fields) - known
    if unknown:
        raise ValueError(f"the modal has no inputs {sorted(unknown)}; it has {sorted(known)}")
    return [_submitted(component, fields) for component in layout]


def _submitted(component: Payload, fields: dict[str, Any]) -> Payload:
    kind = component.get("type")
    result: Payload = {"type": kind}
    if component.get("id") is not None:
        result["id"] = component["id"]
    if kind == 1:
        result["components"] = [_submitted(child, fields) for child in component.get("components") or []]
    elif kind == 18:
        result["component"] = _submitted(component["component"], fields)
    elif component.get("custom_id"):
        result["custom_id"] = component["custom_id"]
        # An input the test leaves out keeps what the bot prefilled, as when a person leaves it alone.
        default = [] if kind in SELECT_TYPES else component.get("value") or ""
        value = fields.get(component["custom_id"], default)
        result["values" if kind in SELECT_TYPES else "value"] = value
    return result
