"""What the stand-in records for tests to inspect: REST calls and interactions."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from .world import WAIT_TIMEOUT, Payload

if TYPE_CHECKING:
    from .fake import FakeDiscord

FLAG_EPHEMERAL = 1 << 6

# Interaction types, and the callback types a bot answers them with.
APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 2, 3, 4, 5
CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE = 4, 5, 6, 7
AUTOCOMPLETE_RESULT, MODAL = 8, 9
MESSAGE_CALLBACKS = {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE}
UPDATE_CALLBACKS = {DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE}
CALLBACKS_ALLOWED = {APPLICATION_COMMAND: MESSAGE_CALLBACKS | {MODAL}, AUTOCOMPLETE: {AUTOCOMPLETE_RESULT},
                     MESSAGE_COMPONENT: MESSAGE_CALLBACKS | UPDATE_CALLBACKS | {MODAL},
                     MODAL_SUBMIT: MESSAGE_CALLBACKS | UPDATE_CALLBACKS}


@dataclass
class RecordedFile:
    filename: str
    data: bytes
    content_type: str | None = None


@dataclass
class RecordedCall:
    """One REST request the bot made, as the stand-in saw it.

    `path` is relative to /api/v10 and URL-decoded; `json` is the JSON body or, for multipart
    requests, the decoded `payload_json` part."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    files: list[RecordedFile] = field(default_factory=list)
    status: int = 0
    response: Any = None
    at: float = field(default_factory=time.monotonic)

    def __str__(self) -> str:
        query = "&".join(f"{key}={value}" for key, value in self.query.items())
        return f"{self.method} {self.path}{'?' + query if query else ''} -> {self.status}"


@dataclass(frozen=True)
class Mark:
    """A point in time: how many calls and bot messages had been recorded."""

    calls: int = 0
    messages: int = 0


@lru_cache(maxsize=256)
def path_pattern(pattern: str) -> re.Pattern[str]:
    """'/channels/{id}/messages' -> a regex where each {placeholder} matches one path segment."""
    pieces = re.split(r"(\{[^}]*\})", pattern)
    regex = "".join("[^/]+" if piece.startswith("{") else re.escape(piece) for piece in pieces)
    return re.compile(regex + r"\Z")


def call_matches(call: RecordedCall, method: str, pattern: str) -> bool:
    return call.method == method.upper() and bool(path_pattern(pattern).match(call.path))


@dataclass
class InteractionCallback:
    """The bot's answer to an interaction (POST /interactions/{id}/{token}/callback)."""

    type: int
    data: Payload
    files: list[RecordedFile]
    call: RecordedCall

    @property
    def content(self) -> str | None:
        return self.data.get("content")

    @property
    def embeds(self) -> list[Payload]:
        return self.data.get("embeds") or []

    @property
    def components(self) -> list[Payload]:
        return self.data.get("components") or []

    @property
    def flags(self) -> int:
        return self.data.get("flags") or 0

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & FLAG_EPHEMERAL)

    @property
    def choices(self) -> list[Payload]:
        """Autocomplete choices (callback type 8)."""
        return self.data.get("choices") or []

    @property
    def custom_id(self) -> str | None:
        """The modal's custom_id (callback type 9)."""
        return self.data.get("custom_id")


class FakeInteraction:
    """An interaction the test injected; await its callback and follow-ups from here."""

    def __init__(self, payload: Payload, fake: FakeDiscord) -> None:
        self.payload = payload
        self.id = int(payload["id"])
        self.token: str = payload["token"]
        self.type: int = payload["type"]
        self.created_at = time.monotonic()
        self.callback: InteractionCallback | None = None
        self.original_message_id: int | None = None
        self.followup_ids: list[int] = []
        self._fake = fake

    @property
    def channel_id(self) -> int:
        return int(self.payload["channel_id"])

    @property
    def user_payload(self) -> Payload:
        return self.payload["member"]["user"] if "member" in self.payload else self.payload["user"]

    async def response(self, timeout: float = WAIT_TIMEOUT) -> InteractionCallback:
        """Wait for the bot's callback to this interaction."""
        await self._wait(lambda: self.callback is not None, timeout, "callback")
        assert self.callback is not None
        return self.callback

    async def followup(self, index: int = 0, timeout: float = WAIT_TIMEOUT) -> Payload:
        """Wait for follow-up message number `index` (0-based) and return its current state."""
        await self._wait(lambda: len(self.followup_ids) > index, timeout, f"follow-up #{index}")
        message = self._fake.messages.get(self.followup_ids[index])
        assert message is not None, "the follow-up was deleted"
        return message

    async def _wait(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        try:
            await self._fake.wait_until(condition, timeout)
        except TimeoutError:
            kind = {2: "slash command", 3: "component", 4: "autocomplete", 5: "modal submit"}.get(self.type)
            raise AssertionError(
                f"no {what} for {kind} interaction {self.id} within {timeout}s "
                "(discord.py silently drops interactions it cannot route, e.g. to a view it no longer stores)"
            ) from None
