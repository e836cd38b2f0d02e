"""Curated-knowledge reloads across processes (bot/storage/postgres/notify.py): a process that reloaded
announces it on `mythbot_knowledge`, and every other process on the database reloads, once."""

import asyncio
import logging

import pytest

from bot.storage.postgres.notify import KNOWLEDGE_CHANNEL, KnowledgeBus
from tests.storage.test_pg_store import WAIT, sql


class Process:
    """One process's bus and the reloads it was told to make."""

    def __init__(self, dsn: str, *, failures: int = 0) -> None:
        self.bus = KnowledgeBus(dsn)
        self.reloads: asyncio.Queue[int] = asyncio.Queue()
        self.count = 0
        self.failures = failures  # the first reloads raise, as a broken knowledge dir might
        self.ready = asyncio.Event()
        self.task: asyncio.Task | None = None

    async def reload(self) -> None:
        self.count += 1
        await self.reloads.put(self.count)
        if self.count <= self.failures:
            raise RuntimeError("broken")

    async def listening(self) -> "Process":
        self.task = asyncio.create_task(self.bus.listen(self.reload, ready=self.ready))
        await asyncio.wait_for(self.ready.wait(), WAIT)
        return self


@pytest.fixture
async def processes(pg_database):
    started: list[Process] = []

    async def start(**options) -> Process:
        started.append(await Process(pg_database, **options).listening())
        return started[-1]

    yield start
    for process in started:
        process.task.cancel()
    await asyncio.gather(*(p.task for p in started), return_exceptions=True)


async def test_a_reload_announced_by_one_process_reloads_every_other_once(processes):
    a, b, c = await processes(), await processes(), await processes()
    assert await a.bus.announce()
    assert await asyncio.wait_for(b.reloads.get(), WAIT) == 1
    assert await asyncio.wait_for(c.reloads.get(), WAIT) == 1
    assert await b.bus.announce()  # b's own announcement comes back to it too, and is ignored
    assert await asyncio.wait_for(a.reloads.get(), WAIT) == 1
    assert await asyncio.wait_for(c.reloads.get(), WAIT) == 2
    await a.bus.announce()  # a marker: once c has heard it, b has heard everything sent before it
    await asyncio.wait_for(c.reloads.get(), WAIT)
    await asyncio.wait_for(b.reloads.get(), WAIT)
    assert (a.count, b.count, c.count) == (1, 2, 3)


async def test_a_listener_that_loses_the_database_reloads_once_when_it_is_back(processes, pg_database):
    a = await processes()
    a.ready.clear()
    await sql(pg_database, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
                           f"current_database() AND query LIKE 'LISTEN \"{KNOWLEDGE_CHANNEL}\"'")
    # An announcement may have come and gone while it was away: it reloads to be sure.
    assert await asyncio.wait_for(a.reloads.get(), WAIT) == 1
    await asyncio.wait_for(a.ready.wait(), WAIT)  # listening again
    assert a.task is not None and not a.task.done()


async def test_a_failing_reload_is_logged_and_the_listener_goes_on(processes, caplog):
    announcer, failing = await processes(), await processes(failures=1)
    with caplog.at_level(logging.ERROR, logger="bot.storage.postgres.notify"):
        await announcer.bus.announce()
        assert await asyncio.wait_for(failing.reloads.get(), WAIT) == 1
        await announcer.bus.announce()
        assert await asyncio.wait_for(failing.reloads.get(), WAIT) == 2
    assert [r.getMessage() for r in caplog.records] == ["reloading the curated knowledge as another process did failed"]


async def test_an_announcement_the_database_does_not_take_is_a_warning_not_a_failure(caplog):
    bus = KnowledgeBus("postgresql://postgres@127.0.0.1:1/nothing")
    with caplog.at_level(logging.WARNING, logger="bot.storage.postgres.notify"):
        assert await bus.announce() is False
    [record] = caplog.records
    assert record.getMessage() == ("could not tell the other processes to reload the curated knowledge "
                                   "(OperationalError); they keep what they have until their next reload")
    assert "127.0.0.1" not in record.getMessage()  # the URL (and any password in it) is not quoted
