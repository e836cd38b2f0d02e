"""What one process tells the others through PostgreSQL's LISTEN/NOTIFY, and the loop that listens.

Two channels: `mythbot_guild` (a server's entries changed; the store NOTIFYs it inside each change's
transaction, see store.py) and `mythbot_knowledge` (a process reloaded the curated knowledge; `KnowledgeBus`).
PostgreSQL delivers a notification at commit to every connection listening then; one sent while a
listener was disconnected is lost, so each listener catches up after it reconnects.
"""

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable

import psycopg
from psycopg import sql

from bot.storage.base import StorageError

log = logging.getLogger(__name__)

KNOWLEDGE_CHANNEL = "mythbot_knowledge"
RECONNECT_DELAYS = (0.5, 1, 2, 5, 10, 30)  # seconds between attempts to get a listener back
ANNOUNCE_TIMEOUT = 5.0  # seconds; a moderator's reload waits for the announcement


async def follow(dsn: str, channel: str, on_notify: Callable[[str], Awaitable[object]], *,
                 catch_up: Callable[[], Awaitable[object]], ready: asyncio.Event | None = None) -> None:
    """LISTEN on `channel` and await `on_notify(payload)` for each notification, until cancelled.

    After losing the database it reconnects (backing off), LISTENs again, then awaits `catch_up()` for
    what it may have missed. `ready` is set each time it listens. `on_notify` and `catch_up` handle their
    own failures; a database error inside them counts as losing the database."""
    delays = iter(RECONNECT_DELAYS)
    reconnecting = False
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
                await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                delays = iter(RECONNECT_DELAYS)
                if reconnecting:
                    await catch_up()
                if ready is not None:
                    ready.set()
                async for notify in conn.notifies():
                    await on_notify(notify.payload)
        except (psycopg.OperationalError, StorageError) as exc:
            delay = next(delays, RECONNECT_DELAYS[-1])
            log.warning("lost the database's %s notifications (%s); listening again in %s s", channel, exc, delay)
            reconnecting = True
            await asyncio.sleep(delay)


class KnowledgeBus:
    """Curated-knowledge reloads across the processes on one database.

    The curated knowledge is files that each process reads from its own knowledge dir, not rows: the
    database carries only the news that a process reloaded, and each process re-reads its own files. A
    process ignores its own announcements (the payload names the process)."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.origin = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"

    async def announce(self) -> bool:
        """Tell the other processes that this one reloaded; False (logged) when the database did not take it."""
        try:
            async with asyncio.timeout(ANNOUNCE_TIMEOUT), \
                    await psycopg.AsyncConnection.connect(self.dsn, autocommit=True) as conn:
                await conn.execute("SELECT pg_notify(%s, %s)", (KNOWLEDGE_CHANNEL, self.origin))
        except (psycopg.Error, TimeoutError) as exc:
            log.warning("could not tell the other processes to reload the curated knowledge (%s); they keep "
                        "what they have until their next reload", type(exc).__name__)
            return False
        return True

    async def listen(self, reload: Callable[[], Awaitable[object]], *, ready: asyncio.Event | None = None) -> None:
        """Await `reload()` whenever another process announces a reload, until cancelled; and once after
        losing the database, since an announcement may have come and gone meanwhile."""

        async def on_notify(origin: str) -> None:
            if origin != self.origin:
                await _reload(reload)

        await follow(self.dsn, KNOWLEDGE_CHANNEL, on_notify, catch_up=lambda: _reload(reload), ready=ready)


async def _reload(reload: Callable[[], Awaitable[object]]) -> None:
    """A failing reload is logged and never stops the listener."""
    try:
        await reload()
    except Exception:
        log.exception("reloading the curated knowledge as another process did failed")
