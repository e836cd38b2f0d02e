"""The websocket half of the stand-in: HELLO, IDENTIFY/READY, heartbeats, RESUME with replay.

discord.py 2.7 connects to `<gateway>?v=10&encoding=json&compress=zlib-stream` (when neither `zstandard`
nor `compression.zstd` imports, as on Python 3.11 without extras): one zlib context per connection, every
message flushed with Z_SYNC_FLUSH and sent as a binary frame. discord.py always accepts text frames, so
any other compression is answered with plain text.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import traceback
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from .world import WAIT_TIMEOUT, Intent, Payload, shard_of

if TYPE_CHECKING:
    from .fake import FakeDiscord

DISPATCH, HEARTBEAT, IDENTIFY, RESUME, RECONNECT, HELLO, HEARTBEAT_ACK = 0, 1, 2, 6, 7, 10, 11  # opcodes
UNKNOWN_OPCODE, DECODE_ERROR, AUTHENTICATION_FAILED, ALREADY_AUTHENTICATED = 4001, 4002, 4004, 4005  # closes
INVALID_SHARD = 4010


@dataclass
class GatewayConnection:
    """One websocket connection, possibly attached to a session."""

    ws: web.WebSocketResponse
    request: web.Request
    compression: str | None
    session: GatewaySession | None = None
    received: list[Payload] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = asyncio.Lock()
        self._zlib = zlib.compressobj() if self.compression == "zlib-stream" else None

    @property
    def path(self) -> str:
        return self.request.path

    async def send(self, payload: Payload) -> None:
        """Send one gateway message; a closed socket drops it (the session keeps it for replay)."""
        text = json.dumps(payload, separators=(",", ":"))
        async with self._lock:  # keeps zlib output in the same order as frames on the wire
            with contextlib.suppress(ConnectionError, RuntimeError):
                if self.ws.closed:
                    return
                if self._zlib is None:
                    await self.ws.send_str(text)
                else:
                    await self.ws.send_bytes(self._zlib.compress(text.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH))

    async def close(self, code: int) -> None:
        await self.ws.close(code=code)

    def abort(self) -> None:
        """Cut the TCP connection without a close frame, like a network failure."""
        if self.request.transport is not None:
            self.request.transport.abort()


@dataclass
class GatewaySession:
    """A gateway session: survives connections and keeps its event log for RESUME replay. With `shard`
    (shard_id, shard_count) from IDENTIFY it carries only that shard's guilds; without, all of them."""

    session_id: str
    intents: int
    shard: tuple[int, int] | None = None
    number: int = 0  # the how-many-th IDENTIFY made it (see FakeGateway.wait_for_identify)
    guilds_sent: bool = False  # READY and every GUILD_CREATE
    seq: int = 0
    events: list[Payload] = field(default_factory=list)
    connection: GatewayConnection | None = None

    def __post_init__(self) -> None:
        self._lock = asyncio.Lock()

    def covers(self, guild_id: int | None) -> bool:
        """Whether this session gets the events of `guild_id` (None: a direct message)."""
        return self.shard is None or shard_of(guild_id, self.shard[1]) == self.shard[0]

    def has_intent(self, intent: int) -> bool:
        """Intent 0 marks events every session gets (READY, INTERACTION_CREATE, ...)."""
        return intent == 0 or bool(self.intents & intent)

    async def dispatch(self, event: str, data: Payload) -> None:
        async with self._lock:
            self.seq += 1
            payload = {"op": DISPATCH, "t": event, "s": self.seq, "d": data}
            self.events.append(payload)
            if self.connection is not None:
                await self.connection.send(payload)

    async def attach_and_replay(self, connection: GatewayConnection, last_seq: int) -> int:
        """Attach a resuming connection, replay what it missed, then send RESUMED; returns how many were missed."""
        async with self._lock:
            self.connection, connection.session = connection, self
            missed = [event for event in self.events if event["s"] > last_seq]
            self.seq += 1
            self.events.append({"op": DISPATCH, "t": "RESUMED", "s": self.seq, "d": {}})
            for event in [*missed, self.events[-1]]:
                await connection.send(event)
            return len(missed)


class FakeGateway:
    """The gateway websocket endpoint plus controls for reconnect journeys."""

    def __init__(self, world: FakeDiscord, *, heartbeat_interval_ms: int = 41_250) -> None:
        self.world = world
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.resume_url = ""
        self.connections: list[GatewayConnection] = []
        self.sessions: dict[str, GatewaySession] = {}
        self.identify_count = self.resume_count = self.replayed_events = self.heartbeats = 0
        self.protocol_errors: list[str] = []
        self.internal_errors: list[str] = []
        self._resumes_allowed = asyncio.Event()
        self._resumes_allowed.set()

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, heartbeat=None, compress=False, max_msg_size=0)
        await ws.prepare(request)
        connection = GatewayConnection(ws=ws, request=request, compression=request.query.get("compress"))
        if request.query.get("v") != "10" or request.query.get("encoding") != "json":
            self.protocol_errors.append(f"unexpected gateway query {dict(request.query)}")
        self.connections.append(connection)
        await connection.send({"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
        try:
            async for message in ws:
                if message.type is WSMsgType.TEXT:
                    await self._receive(connection, message.data)
        except Exception:
            # A bug in the stand-in: record it for the harness, drop the connection so the client resumes.
            self.internal_errors.append(traceback.format_exc())
            await connection.close(4000)
        finally:
            if connection.session is not None and connection.session.connection is connection:
                connection.session.connection = None
            await self.world.notify()
        return ws

    async def _receive(self, connection: GatewayConnection, text: str) -> None:
        try:
            payload = json.loads(text)
        except ValueError:
            self.protocol_errors.append(f"undecodable gateway frame {text[:200]!r}")
            await connection.close(DECODE_ERROR)
            return
        connection.received.append(payload)
        handlers = {HEARTBEAT: self._on_heartbeat, IDENTIFY: self._on_identify, RESUME: self._on_resume}
        handler = handlers.get(payload.get("op"))
        if handler is None:
            self.protocol_errors.append(f"unknown opcode {payload.get('op')} (add a handler to FakeGateway)")
            await connection.close(UNKNOWN_OPCODE)
            return
        await handler(connection, payload.get("d"))

    async def _on_heartbeat(self, connection: GatewayConnection, _data: Any) -> None:
        self.heartbeats += 1
        await connection.send({"op": HEARTBEAT_ACK})
        await self.world.notify()

    async def _on_identify(self, connection: GatewayConnection, data: Payload) -> None:
        if connection.session is not None or data.get("token") != self.world.token:
            await connection.close(ALREADY_AUTHENTICATED if connection.session else AUTHENTICATION_FAILED)
            return
        shard = data.get("shard")
        if shard is not None and not _valid_shard(shard):
            self.protocol_errors.append(f"IDENTIFY with an invalid shard {shard!r} (expected [shard_id, shard_count])")
            await connection.close(INVALID_SHARD)
            return
        self.identify_count += 1
        session = GatewaySession(session_id=secrets.token_hex(16), intents=int(data.get("intents", 0)),
                                 shard=tuple(shard) if shard else None, number=self.identify_count)
        self.sessions[session.session_id] = session
        session.connection, connection.session = connection, session
        await session.dispatch("READY", self.world.ready_payload(session.session_id, self.resume_url, session.shard))
        for guild in self.world.guilds_of(session.shard):
            await session.dispatch("GUILD_CREATE", guild.to_gateway_payload(self.world.bot_user.id))
        session.guilds_sent = True
        await self.world.notify()

    async def _on_resume(self, connection: GatewayConnection, data: Payload) -> None:
        await asyncio.wait_for(self._resumes_allowed.wait(), WAIT_TIMEOUT)
        session = self.sessions.get(data.get("session_id", ""))
        if session is None or data.get("token") != self.world.token:
            self.protocol_errors.append("RESUME of an unknown session (the stand-in does not invalidate sessions)")
            await connection.close(AUTHENTICATION_FAILED)
            return
        if session.connection not in (None, connection):
            await session.connection.close(4000)
        self.replayed_events += await session.attach_and_replay(connection, int(data.get("seq") or 0))
        self.resume_count += 1
        await self.world.notify()

    async def dispatch(self, event: str, data: Payload, *, intent: int, guild_id: int | None,
                       redact: Callable[[Payload], Payload] | None = None) -> None:
        """Send an event of `guild_id` (None: a direct message) to every session that carries that guild's
        shard and subscribed to `intent`; `redact` what sessions without the MESSAGE_CONTENT intent receive."""
        for session in self.sessions.values():
            if not session.covers(guild_id) or not session.has_intent(intent):
                continue
            blank = redact is not None and not session.has_intent(Intent.MESSAGE_CONTENT)
            await session.dispatch(event, redact(data) if blank and redact else data)

    # -- controls for tests -------------------------------------------------------------------------

    def open_connections(self) -> list[GatewayConnection]:
        return [connection for connection in self.connections if not connection.ws.closed]

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT on every open connection; discord.py closes and RESUMEs."""
        for connection in self.open_connections():
            await connection.send({"op": RECONNECT, "d": None})

    async def drop_connections(self) -> None:
        """Cut every connection without a close frame; discord.py sees close code 1006 and RESUMEs."""
        for connection in self.open_connections():
            connection.abort()

    @contextlib.contextmanager
    def resumes_held(self) -> Iterator[None]:
        """RESUMEs wait until this block ends, so events dispatched inside it are missed by a disconnected
        client and must be replayed."""
        self._resumes_allowed.clear()
        try:
            yield
        finally:
            self._resumes_allowed.set()

    async def wait_for_identify(self, shard: tuple[int, int] | None = None, *, since: int = 0,
                                timeout: float = WAIT_TIMEOUT) -> GatewaySession:
        """The first session IDENTIFYd after the `since`-th IDENTIFY with `shard`, once the stand-in has sent
        its READY and GUILD_CREATEs: a bot reads them before any event sent after this returns."""
        def found() -> GatewaySession | None:
            return next((s for s in self.sessions.values()
                         if s.number > since and s.shard == shard and s.guilds_sent), None)

        await self.world.wait_until(lambda: found() is not None, timeout=timeout)
        session = found()
        assert session is not None
        return session

    async def wait_for_resume(self, count: int = 1, *, timeout: float = WAIT_TIMEOUT) -> None:
        """Wait until at least `count` RESUMEs succeeded in total."""
        await self.world.wait_until(lambda: self.resume_count >= count, timeout=timeout)

    async def close(self) -> None:
        for connection in self.open_connections():
            await connection.close(1001)


def _valid_shard(shard: object) -> bool:
    return (isinstance(shard, list) and len(shard) == 2 and all(isinstance(n, int) for n in shard)
            and 0 <= shard[0] < shard[1])
