"""What only the PostgreSQL backend has to prove: writers in two processes take turns on a server,
changes reach other processes through LISTEN/NOTIFY, and a lost connection costs one call, not the bot."""

import asyncio
import threading

import psycopg
import pytest

from bot.storage.base import ChangeRefused, SaveFailed, StorageError
from bot.storage.operations import add_entry_op, hide_entry
from bot.storage.postgres.store import open_postgres
from tests.storage.conftest import ANA, BO, GUILD, OTHER_GUILD, creatine_entry

CREATINE_ID = "does-creatine-make-you-bloated"
WAIT = 20  # seconds before a test gives up waiting for something that should happen at once


@pytest.fixture
async def open_store(pg_database, fixture_kb):
    opened = []

    async def open_one():
        faq, records = await open_postgres(pg_database, lambda: fixture_kb)
        opened.extend([faq, records])
        await faq.load_all()
        return faq

    yield open_one
    for store in opened:
        await store.close()


async def sql(dsn: str, query: str) -> list[tuple]:
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        return await (await conn.execute(query)).fetchall()


async def until(dsn: str, query: str) -> None:
    """Poll until `query` returns true; fail after WAIT seconds."""
    for _ in range(WAIT * 50):
        if (await sql(dsn, query))[0][0]:
            return
        await asyncio.sleep(0.02)
    pytest.fail(f"still false after {WAIT} s: {query}")


async def test_two_writers_to_one_server_take_turns(open_store, pg_database):
    first, second = await open_store(), await open_store()
    inside, release = threading.Event(), threading.Event()

    def slow_add(content, base, now):  # the first writer pauses inside its transaction
        inside.set()
        assert release.wait(WAIT)
        return add_entry_op(creatine_entry(), ANA)(content, base, now)

    first_write = asyncio.create_task(first.apply(GUILD, slow_add))
    assert await asyncio.to_thread(inside.wait, WAIT)
    same_title = creatine_entry(questions=["is creatine water weight"])
    second_write = asyncio.create_task(second.apply(GUILD, add_entry_op(same_title, BO)))
    # The second writer waits on the server's row lock instead of reading the server before the first commits.
    await until(pg_database, "SELECT count(*) > 0 FROM pg_stat_activity WHERE datname = current_database() "
                             "AND wait_event_type = 'Lock'")
    release.set()
    added, also_added = await asyncio.gather(first_write, second_write)

    assert (added.entry_id, also_added.entry_id) == (CREATINE_ID, f"{CREATINE_ID}-2")  # the second saw the first
    third = await open_store()
    assert list(third.state(GUILD).entries) == [CREATINE_ID, f"{CREATINE_ID}-2"]


async def test_a_change_reaches_another_process_through_its_listener(open_store):
    writer, reader = await open_store(), await open_store()
    heard: asyncio.Queue[int] = asyncio.Queue()
    ready = asyncio.Event()

    async def on_change(guild_id: int) -> None:
        await reader.refresh(guild_id)
        await heard.put(guild_id)

    listening = asyncio.create_task(reader.listen(on_change, ready=ready))
    try:
        await asyncio.wait_for(ready.wait(), WAIT)
        await writer.apply(GUILD, add_entry_op(creatine_entry(), ANA))
        assert await asyncio.wait_for(heard.get(), WAIT) == GUILD
        assert CREATINE_ID in reader.state(GUILD).entries

        with pytest.raises(ChangeRefused):
            await writer.apply(GUILD, hide_entry("no-such-entry"))  # rolled back: nobody is told
        await writer.apply(OTHER_GUILD, hide_entry("spot-reduction"))
        assert await asyncio.wait_for(heard.get(), WAIT) == OTHER_GUILD
        assert reader.state(OTHER_GUILD).hidden == {"spot-reduction"}
    finally:
        listening.cancel()


async def test_a_listener_that_loses_the_database_catches_up_on_what_it_missed(open_store, pg_database):
    writer, reader = await open_store(), await open_store()
    heard: asyncio.Queue[int] = asyncio.Queue()
    ready = asyncio.Event()

    async def on_change(guild_id: int) -> None:
        await reader.refresh(guild_id)
        await heard.put(guild_id)

    listening = asyncio.create_task(reader.listen(on_change, ready=ready))
    try:
        await asyncio.wait_for(ready.wait(), WAIT)
        ready.clear()
        await sql(pg_database, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE datname = current_database() AND query LIKE 'LISTEN%'")
        await writer.apply(GUILD, add_entry_op(creatine_entry(), ANA))
        assert await asyncio.wait_for(heard.get(), WAIT) == GUILD
        assert CREATINE_ID in reader.state(GUILD).entries
        await asyncio.wait_for(ready.wait(), WAIT)  # listening again
    finally:
        listening.cancel()


async def test_a_lost_connection_costs_one_change_not_the_store(open_store, pg_database):
    faq = await open_store()
    await sql(pg_database, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    with pytest.raises(SaveFailed, match="nothing was changed"):
        await faq.apply(GUILD, add_entry_op(creatine_entry(), ANA))
    assert (await faq.apply(GUILD, add_entry_op(creatine_entry(), ANA))).entry_id == CREATINE_ID


async def test_a_database_that_cannot_be_reached_is_a_storage_error(fixture_kb):
    with pytest.raises(StorageError, match="cannot use the database"):
        await open_postgres("postgresql://postgres@127.0.0.1:1/nothing", lambda: fixture_kb)
