"""The websocket half of the stand-in: HELLO, IDENTIFY/READY, heartbeats, RESUME with replay.

discord.py 2.7 connects to `<gateway>?v=10&encoding=json&compress=zlib-stream` (when neither
`zstandard` nor `compression.zstd` is importable, which is the case on Python 3.11 without extras).
zlib-stream means one zlib context per connection, every message flushed with Z_SYNC_FLUSH so it
ends in 00 00 ff ff, sent as a binary frame. Text frames are always accepted by discord.py, so any
other compression is answered with uncompressed text frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
import traceback
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import WSMsgType, web

from .world import Intent, Payload

log = logging.getLogger("tests.standin.gateway")


class Op:
    DISPATCH = 0
    HEARTBEAT = 1
    IDENTIFY = 2
    PRESENCE_UPDATE = 3
    VOICE_STATE_UPDATE = 4
    RESUME = 6
    RECONNECT = 7
    REQUEST_GUILD_MEMBERS = 8
    INVALID_SESSION = 9
    HELLO = 10
    HEARTBEAT_ACK = 11


class CloseCode:
    UNKNOWN_OPCODE = 4001
    DECODE_ERROR = 4002
    NOT_AUTHENTICATED = 4003
    AUTHENTICATION_FAILED = 4004
    ALREADY_AUTHENTICATED = 4005


class GatewayWorld(Protocol):
    """What the gateway needs to know about the fake Discord it belongs to."""

    token: str

    def ready_payload(self, session_id: str, resume_url: str, shard: list[int] | None) -> Payload: ...

    def guild_create_payloads(self) -> list[Payload]: ...

    def member_chunk(self, request: Payload) -> Payload: ...


@dataclass
class GatewayConnection:
    """One websocket connection, possibly attached to a session."""

    ws: web.WebSocketResponse
    request: web.Request
    compression: str | None
    opened_at: float = field(default_factory=time.monotonic)
    session: GatewaySession | None = None
    received: list[Payload] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = asyncio.Lock()
        self._zlib = zlib.compressobj() if self.compression == "zlib-stream" else None

    @property
    def path(self) -> str:
        return self.request.path

    @property
    def closed(self) -> bool:
        return self.ws.closed

    async def send(self, payload: Payload) -> bool:
        """Send one gateway message; False if the socket is gone (the event stays replayable)."""
        text = json.dumps(payload, separators=(",", ":"))
        # The lock keeps zlib output in the same order as frames on the wire.
        async with self._lock:
            if self.ws.closed:
                return False
            try:
                if self._zlib is None:
                    await self.ws.send_str(text)
                else:
                    data = self._zlib.compress(text.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
                    await self.ws.send_bytes(data)
            except (ConnectionError, RuntimeError):
                return False
        return True

    async def close(self, code: int) -> None:
        await self.ws.close(code=code)

    def abort(self) -> None:
        """Cut the TCP connection without a close frame, like a network failure."""
        transport = self.request.transport
        if transport is not None:
            transport.abort()


@dataclass
class GatewaySession:
    """A gateway session: survives connections, keeps the event log for RESUME replay."""

    session_id: str
    intents: int
    identify: Payload
    seq: int = 0
    events: list[Payload] = field(default_factory=list)
    connection: GatewayConnection | None = None
    invalidated: bool = False

    def __post_init__(self) -> None:
        self._lock = asyncio.Lock()

    def has_intent(self, intent: int) -> bool:
        """Intent 0 marks events every session gets (READY, INTERACTION_CREATE, ...)."""
        return intent == 0 or bool(self.intents & intent)

    async def dispatch(self, event: str, data: Payload) -> int:
        async with self._lock:
            self.seq += 1
            payload = {"op": Op.DISPATCH, "t": event, "s": self.seq, "d": data}
            self.events.append(payload)
            if self.connection is not None:
                await self.connection.send(payload)
            return self.seq

    async def attach_and_replay(self, connection: GatewayConnection, last_seq: int) -> int:
        """Attach a resuming connection, replay what it missed, then send RESUMED."""
        async with self._lock:
            self.connection = connection
            connection.session = self
            missed = [event for event in self.events if event["s"] > last_seq]
            for event in missed:
                await connection.send(event)
            self.seq += 1
            resumed = {"op": Op.DISPATCH, "t": "RESUMED", "s": self.seq, "d": {}}
            self.events.append(resumed)
            await connection.send(resumed)
            return len(missed)

    def detach(self, connection: GatewayConnection) -> None:
        if self.connection is connection:
            self.connection = None


class FakeGateway:
    """The gateway websocket endpoint plus controls for reconnect scenarios."""

    def __init__(self, world: GatewayWorld, *, heartbeat_interval_ms: int = 41_250) -> None:
        self.world = world
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.resume_url = ""
        self.connections: list[GatewayConnection] = []
        self.sessions: dict[str, GatewaySession] = {}
        self.identify_count = 0
        self.resume_count = 0
        self.replayed_events = 0
        self.heartbeats = 0
        self.presence_updates: list[Payload] = []
        self.dropped_by_intents: list[tuple[str, Payload]] = []
        self.protocol_errors: list[str] = []
        self.internal_errors: list[str] = []
        self.resume_hold_timeout = 10.0
        self._changed = asyncio.Condition()
        self._resumes_allowed = asyncio.Event()
        self._resumes_allowed.set()

    # -- websocket endpoint -------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, heartbeat=None, compress=False, max_msg_size=0)
        await ws.prepare(request)
        connection = GatewayConnection(ws=ws, request=request, compression=request.query.get("compress"))
        self._check_query(request)
        self.connections.append(connection)
        await connection.send({"op": Op.HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
        try:
            async for message in ws:
                if message.type is not WSMsgType.TEXT:
                    continue
                await self._receive(connection, message.data)
        except Exception:
            # A bug in the stand-in: record it for the harness, drop the connection so the client resumes.
            self.internal_errors.append(traceback.format_exc())
            await connection.close(4000)
        finally:
            self._on_closed(connection)
            await self._notify()
        return ws

    def _on_closed(self, connection: GatewayConnection) -> None:
        session = connection.session
        if session is None:
            return
        session.detach(connection)
        # Like Discord, a client closing with 1000/1001 ends its session: it cannot be resumed.
        if connection.ws.close_code in (1000, 1001):
            session.invalidated = True

    def _check_query(self, request: web.Request) -> None:
        if request.query.get("v") != "10" or request.query.get("encoding") != "json":
            self.protocol_errors.append(f"unexpected gateway query {dict(request.query)}")

    async def _receive(self, connection: GatewayConnection, text: str) -> None:
        try:
            payload = json.loads(text)
        except ValueError:
            self.protocol_errors.append(f"undecodable gateway frame {text[:200]!r}")
            await connection.close(CloseCode.DECODE_ERROR)
            return
        connection.received.append(payload)
        handler = self._handlers().get(payload.get("op"))
        if handler is None:
            self.protocol_errors.append(f"unknown opcode {payload.get('op')}")
            await connection.close(CloseCode.UNKNOWN_OPCODE)
            return
        await handler(connection, payload.get("d"))

    def _handlers(self) -> dict[int, Callable[[GatewayConnection, Any], Any]]:
        return {
            Op.HEARTBEAT: self._on_heartbeat,
            Op.IDENTIFY: self._on_identify,
            Op.RESUME: self._on_resume,
            Op.REQUEST_GUILD_MEMBERS: self._on_request_members,
            Op.PRESENCE_UPDATE: self._on_presence_update,
            Op.VOICE_STATE_UPDATE: self._on_ignored,
        }

    async def _on_heartbeat(self, connection: GatewayConnection, _data: Any) -> None:
        self.heartbeats += 1
        await connection.send({"op": Op.HEARTBEAT_ACK})
        await self._notify()

    async def _on_identify(self, connection: GatewayConnection, data: Payload) -> None:
        if connection.session is not None:
            await connection.close(CloseCode.ALREADY_AUTHENTICATED)
            return
        if data.get("token") != self.world.token:
            await connection.close(CloseCode.AUTHENTICATION_FAILED)
            return
        session = GatewaySession(
            session_id=secrets.token_hex(16), intents=int(data.get("intents", 0)), identify=data
        )
        self.sessions[session.session_id] = session
        session.connection = connection
        connection.session = session
        self.identify_count += 1
        ready = self.world.ready_payload(session.session_id, self.resume_url, data.get("shard"))
        await session.dispatch("READY", ready)
        for guild in self.world.guild_create_payloads():
            await self._dispatch_to(session, "GUILD_CREATE", guild, Intent.GUILDS)
        await self._notify()

    async def _on_resume(self, connection: GatewayConnection, data: Payload) -> None:
        await asyncio.wait_for(self._resumes_allowed.wait(), self.resume_hold_timeout)
        session = self.sessions.get(data.get("session_id", ""))
        if session is None or session.invalidated or data.get("token") != self.world.token:
            await connection.send({"op": Op.INVALID_SESSION, "d": False})
            return
        previous = session.connection
        if previous is not None and previous is not connection:
            previous.session = None
            await previous.close(4000)
        last_seq = int(data.get("seq") or 0)
        if last_seq > session.seq:
            self.protocol_errors.append(f"RESUME with seq {last_seq} beyond the session's {session.seq}")
        self.replayed_events += await session.attach_and_replay(connection, last_seq)
        self.resume_count += 1
        await self._notify()

    async def _on_request_members(self, connection: GatewayConnection, data: Payload) -> None:
        session = connection.session
        if session is None:
            await connection.close(CloseCode.NOT_AUTHENTICATED)
            return
        await session.dispatch("GUILD_MEMBERS_CHUNK", self.world.member_chunk(data))

    async def _on_presence_update(self, _connection: GatewayConnection, data: Payload) -> None:
        self.presence_updates.append(data)

    async def _on_ignored(self, _connection: GatewayConnection, _data: Any) -> None:
        return None

    # -- dispatching ---------------------------------------------------------------------------

    def live_sessions(self) -> list[GatewaySession]:
        return [session for session in self.sessions.values() if not session.invalidated]

    async def dispatch(
        self,
        event: str,
        data: Payload,
        *,
        intent: int,
        redact: Callable[[Payload], Payload] | None = None,
    ) -> None:
        """Send an event to every live session that subscribed to `intent`.

        `redact` is applied for sessions without the MESSAGE_CONTENT intent."""
        for session in self.live_sessions():
            payload = data
            if redact is not None and not session.has_intent(Intent.MESSAGE_CONTENT):
                payload = redact(data)
            await self._dispatch_to(session, event, payload, intent)

    async def _dispatch_to(self, session: GatewaySession, event: str, data: Payload, intent: int) -> None:
        if not session.has_intent(intent):
            self.dropped_by_intents.append((event, data))
            return
        await session.dispatch(event, data)

    # -- controls for tests ---------------------------------------------------------------------

    def open_connections(self) -> list[GatewayConnection]:
        return [connection for connection in self.connections if not connection.closed]

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT on every open connection; discord.py closes and RESUMEs."""
        for connection in self.open_connections():
            await connection.send({"op": Op.RECONNECT, "d": None})

    async def drop_connections(self, close_code: int | None = None) -> None:
        """Close every connection: with a close frame if `close_code` is given, else abruptly."""
        for connection in self.open_connections():
            if close_code is None:
                connection.abort()
            else:
                await connection.close(close_code)

    @contextlib.contextmanager
    def resumes_held(self) -> Iterator[None]:
        """RESUMEs wait until this block ends, so events dispatched inside it are missed by a
        disconnected client and must be replayed."""
        self._resumes_allowed.clear()
        try:
            yield
        finally:
            self._resumes_allowed.set()

    async def invalidate_sessions(self, *, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION; discord.py then RESUMEs (resumable) or re-IDENTIFYs."""
        for session in self.live_sessions():
            if not resumable:
                session.invalidated = True
            if session.connection is not None:
                await session.connection.send({"op": Op.INVALID_SESSION, "d": resumable})

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(condition)

    async def wait_for_resume(self, count: int = 1, *, timeout: float = 5.0) -> None:
        """Wait until at least `count` RESUMEs succeeded in total."""
        await self.wait_until(lambda: self.resume_count >= count, timeout=timeout)

    async def wait_for_identify(self, count: int = 1, *, timeout: float = 5.0) -> None:
        await self.wait_until(lambda: self.identify_count >= count, timeout=timeout)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def close(self) -> None:
        for connection in self.open_connections():
            await connection.close(1001)
