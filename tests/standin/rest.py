"""The REST half of the stand-in: the routes the bot calls, recorded and answered like Discord API v10.

Only routes a journey uses are implemented. Any other answers 404, lands in `fake.unknown_routes` and fails
the test with its name: to add one, add a line to `RestApi.routes()` and a handler below.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import BodyPartReader, web

from . import limits, records
from .records import FLAG_EPHEMERAL, FakeInteraction, InteractionCallback, RecordedCall, RecordedFile
from .world import FakeChannel, Payload, Perm

if TYPE_CHECKING:
    from .fake import FakeDiscord

API_PREFIX = "/api/v10"
FLAG_LOADING = 1 << 7
APPLICATION_FLAGS = (1 << 19) | (1 << 23)  # GATEWAY_MESSAGE_CONTENT_LIMITED | APPLICATION_COMMAND_BADGE
MESSAGE_TYPE_DEFAULT, MESSAGE_TYPE_CHAT_INPUT_COMMAND = 0, 20
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
    body = json.dumps(payload).encode()
    response = web.Response(body=body, status=status, headers={"Content-Type": "application/json"})
    response[PAYLOAD] = payload
    return response


def reply_unless(query_flag: str | None, payload: Any) -> web.Response:
    """The payload if the bot asked for it (`?wait=1`, `?with_response=1`), else 204 like Discord."""
    return json_reply(payload) if query_flag in ("1", "true", "True") else web.Response(status=204)


@dataclass
class Fault:
    """An error answer for the next call(s) matching method and path pattern (see `FakeDiscord.fail_next`)."""

    method: str
    pattern: str
    status: int
    payload: Payload
    headers: dict[str, str]
    times: int = 1


class RestApi:
    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.faults: list[Fault] = []

    def routes(self) -> list[tuple[str, str, Handler]]:
        return [
            ("GET", "/users/@me", self._get_me),
            ("GET", "/oauth2/applications/@me", self._get_application),
            ("POST", r"/channels/{channel_id:\d+}/messages", self._create_message),
            ("POST", r"/interactions/{interaction_id:\d+}/{token}/callback", self._interaction_callback),
            ("POST", r"/webhooks/{application_id:\d+}/{token}", self._execute_webhook),
        ]

    def add_routes(self, router: web.UrlDispatcher) -> None:
        for method, path, handler in self.routes():
            router.add_route(method, API_PREFIX + path, handler)
        router.add_route("*", "/{tail:.*}", self._unknown_route)

    # -- recording every call --------------------------------------------------------------------

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(API_PREFIX + "/"):
            return await handler(request)
        fake = self.fake
        call = request[CALL] = self._new_call(request)
        fake.in_flight += 1
        try:
            response = await self._respond(request, handler, call)
            call.status, call.response = response.status, response.get(PAYLOAD)
            fake.calls.append(call)
            await fake.notify()
            # Written here (not by aiohttp after we return) so settle() knows the bot has it.
            await response.prepare(request)
            await response.write_eof()
            return response
        finally:
            fake.in_flight -= 1
            await fake.notify()

    def _take_fault(self, call: RecordedCall) -> Fault | None:
        for fault in self.faults:
            if records.call_matches(call, fault.method, fault.pattern):
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    async def _respond(self, request: web.Request, handler: Handler, call: RecordedCall) -> web.Response:
        try:
            call.json, call.files = await self._read_body(request)
            path = request.path[len(API_PREFIX) :]
            # Interaction callbacks and webhook-token routes authenticate with the token in the path.
            if not path.startswith(("/interactions/", "/webhooks/")) and \
                    request.headers.get("Authorization") != f"Bot {self.fake.token}":
                raise ApiError(401, 0, "401: Unauthorized")
            fault = self._take_fault(call)
            if fault is not None:
                response = json_reply(fault.payload, fault.status)
                response.headers.update(fault.headers)
                return response
            response = await handler(request)
            assert isinstance(response, web.Response)
            return response
        except ApiError as error:
            return json_reply(error.payload(), error.status)
        except Exception as exc:
            # A bug in the stand-in itself. 400 (not 500) so discord.py fails fast instead of retrying.
            self.fake.internal_errors.append(f"{call.method} {call.path}: {traceback.format_exc()}")
            return json_reply({"message": f"stand-in internal error: {exc!r}", "code": 0}, 400)

    @staticmethod
    def _new_call(request: web.Request) -> RecordedCall:
        return RecordedCall(request.method, request.path.removeprefix(API_PREFIX), dict(request.query), None)

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
                files.append(RecordedFile(part.filename or "", data, part.headers.get("Content-Type")))
        return body, files

    async def _unknown_route(self, request: web.Request) -> web.Response:
        call = request.get(CALL)
        if call is None:  # outside /api/v10, so the middleware did not record it
            call = RecordedCall(request.method, request.path, dict(request.query), None, status=404)
            self.fake.calls.append(call)
        self.fake.unknown_routes.append(call)
        return json_reply({"message": "404: Not Found", "code": 0}, 404)

    # -- identity ------------------------------------------------------------------------------------

    async def _get_me(self, _request: web.Request) -> web.Response:
        return json_reply(self.fake.bot_user.to_payload() | {"verified": True, "mfa_enabled": False})

    async def _get_application(self, _request: web.Request) -> web.Response:
        fake = self.fake
        return json_reply({
            "id": str(fake.application_id), "name": fake.bot_user.username, "icon": None, "description": "",
            "bot_public": True, "bot_require_code_grant": False, "verify_key": "0" * 64, "flags": APPLICATION_FLAGS,
            "owner": fake.owner.to_payload(), "team": None, "bot": fake.bot_user.to_payload(),
            "rpc_origins": [], "integration_types_config": {"0": {}},
            "interactions_endpoint_url": None,  # otherwise discord.py warns that interactions will not arrive
        })

    # -- channel messages ----------------------------------------------------------------------------

    async def _create_message(self, request: web.Request) -> web.Response:
        fake = self.fake
        channel = fake.channels.get(int(request.match_info["channel_id"]))
        if channel is None:
            raise ApiError(404, 10003, "Unknown Channel")
        call = request[CALL]
        self._require(channel, Perm.SEND_MESSAGES | (Perm.ATTACH_FILES if call.files else 0))
        body = self._valid_new_message(call.json, call.files)
        reference = body.get("message_reference")
        target = fake.messages.get(int(reference.get("message_id") or 0)) if reference else None
        if reference and target is None and reference.get("fail_if_not_exists", True):
            raise invalid_form(["message_reference: Unknown message"])
        message = fake.build_message(channel, fake.bot_user, body, call.files, reference=target,
                                     mention_rules=body.get("allowed_mentions"))
        await fake.store_and_dispatch(message)
        return json_reply(message)

    def _require(self, channel: FakeChannel, needed: int) -> None:
        guild = self.fake.guild_of(channel)
        granted = guild.permissions(self.fake.bot_user.id) if guild else needed
        if granted & needed != needed:
            raise ApiError(403, 50013, "Missing Permissions")

    @staticmethod
    def _valid_new_message(body: Payload | None, files: list[RecordedFile]) -> Payload:
        body = body or {}
        errors = limits.message_errors(body)
        if errors:
            raise invalid_form(errors)
        if limits.is_empty_message(body, has_files=bool(files)):
            raise ApiError(400, 50006, "Cannot send an empty message")
        return body

    # -- interactions: the callback and follow-ups ---------------------------------------------------

    async def _interaction_callback(self, request: web.Request) -> web.Response:
        interaction = self.fake.interactions.get(int(request.match_info["interaction_id"]))
        if interaction is None or interaction.token != request.match_info["token"]:
            raise ApiError(404, 10062, "Unknown interaction")
        call = request[CALL]
        if interaction.callback is not None:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        if call.at - interaction.created_at > self.fake.interaction_ack_deadline:
            raise ApiError(404, 10062, "Unknown interaction")  # what Discord answers after 3 s
        body = call.json or {}
        callback_type, data = body.get("type"), body.get("data") or {}
        if callback_type not in records.CALLBACKS_ALLOWED[interaction.type]:
            raise invalid_form([f"type: {callback_type} is not valid for interaction type {interaction.type}"])
        message = await self._perform_callback(interaction, callback_type, data, call)
        interaction.callback = InteractionCallback(callback_type, data, call.files, call)
        await self.fake.notify()
        return reply_unless(request.query.get("with_response"), self._callback_response(interaction, message))

    async def _perform_callback(self, interaction: FakeInteraction, callback_type: int, data: Payload,
                                call: RecordedCall) -> Payload | None:
        if callback_type == records.CHANNEL_MESSAGE:
            self._valid_new_message(data, call.files)
            return await self._create_interaction_message(interaction, data, call.files)
        if callback_type == records.DEFERRED_CHANNEL_MESSAGE:
            loading = {"flags": (data.get("flags") or 0) | FLAG_LOADING}
            return await self._create_interaction_message(interaction, loading, [])
        if callback_type in (records.DEFERRED_UPDATE_MESSAGE, records.UPDATE_MESSAGE):
            return await self._update_component_message(interaction, callback_type, data)
        if callback_type == records.AUTOCOMPLETE_RESULT:
            errors = limits.choices_errors(data)
        else:
            errors = limits.modal_errors(data)
            self.fake.opened_modals[data.get("custom_id", "")] = (data, interaction)
        if errors:
            raise invalid_form(errors)
        return None

    async def _update_component_message(self, interaction: FakeInteraction, callback_type: int,
                                        data: Payload) -> Payload:
        source = interaction.payload.get("message")
        message = self.fake.messages.get(int(source["id"])) if source else None
        if message is None:
            raise invalid_form(["type: this interaction has no message to update"])
        interaction.original_message_id = int(message["id"])
        if callback_type == records.UPDATE_MESSAGE:
            errors = limits.message_errors(data)
            if errors:
                raise invalid_form(errors)
            self.fake.apply_edit(message, data)
            await self.fake.dispatch_message("MESSAGE_UPDATE", message)
        return message

    async def _create_interaction_message(self, interaction: FakeInteraction, body: Payload,
                                          files: list[RecordedFile], *, followup: bool = False) -> Payload:
        fake = self.fake
        is_command = interaction.type == records.APPLICATION_COMMAND and not followup
        metadata = {"id": str(interaction.id), "type": interaction.type, "user": interaction.user_payload,
                    "authorizing_integration_owners": interaction.payload["authorizing_integration_owners"]}
        if followup and interaction.original_message_id:
            metadata["original_response_message_id"] = str(interaction.original_message_id)
        message = fake.build_message(
            fake.channels[interaction.channel_id], fake.bot_user, body, files,
            mention_rules=body.get("allowed_mentions"),
            message_type=MESSAGE_TYPE_CHAT_INPUT_COMMAND if is_command else MESSAGE_TYPE_DEFAULT,
            extra={"webhook_id": str(fake.application_id), "application_id": str(fake.application_id),
                   "interaction_metadata": metadata},
        )
        if followup:
            interaction.followup_ids.append(int(message["id"]))
        else:
            interaction.original_message_id = int(message["id"])
        await fake.store_and_dispatch(message)
        return message

    @staticmethod
    def _callback_response(interaction: FakeInteraction, message: Payload | None) -> Payload:
        """`?with_response=1`: discord.py stores a View sent in the response under `response_message_id`."""
        callback_type = interaction.callback.type if interaction.callback else 0
        resource: Payload = {"type": callback_type}
        if message is not None and callback_type != records.DEFERRED_UPDATE_MESSAGE:
            resource["message"] = message
        return {
            "interaction": {
                "id": str(interaction.id), "type": interaction.type, "activity_instance_id": None,
                "response_message_id": message["id"] if message else None,
                "response_message_loading": callback_type == records.DEFERRED_CHANNEL_MESSAGE,
                "response_message_ephemeral": bool(message and message["flags"] & FLAG_EPHEMERAL),
            },
            "resource": resource,
        }

    async def _execute_webhook(self, request: web.Request) -> web.Response:
        """A follow-up message: needs an acknowledged interaction, else 10015 Unknown Webhook like Discord."""
        if int(request.match_info["application_id"]) != self.fake.application_id:
            raise ApiError(404, 10002, "Unknown Application")
        token = request.match_info["token"]
        interaction = next((i for i in self.fake.interactions.values() if i.token == token), None)
        if interaction is None or interaction.callback is None:
            raise ApiError(404, 10015, "Unknown Webhook")
        call = request[CALL]
        body = self._valid_new_message(call.json, call.files)
        message = await self._create_interaction_message(interaction, body, call.files, followup=True)
        return reply_unless(request.query.get("wait"), message)
