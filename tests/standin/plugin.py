"""Fixtures for journeys through the real client: a running stand-in and a way to start any bot against it.

    async def test_journey(fake_discord, start_bot):
        bot = await start_bot(create_bot(settings))
        ...

A test FAILS if discord.py logs at ERROR level, if the bot calls a route the stand-in does not
implement, if the stand-in itself breaks, or if the bot's task crashes.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import discord
import pytest

from .fake import FakeDiscord
from .harness import READY_TIMEOUT, DiscordLogCapture, E2EHarness, format_problems

HARNESS_KEY = pytest.StashKey[E2EHarness]()
StartBot = Callable[..., Awaitable[discord.Client]]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    # Checked right after the test body so problems show up as a test failure, not a teardown error.
    result = yield
    harness = item.stash.get(HARNESS_KEY, None)
    if harness is not None:
        problems = harness.new_problems()
        if problems:
            pytest.fail(format_problems(problems), pytrace=False)
    return result


@pytest.fixture
async def fake_discord(request: pytest.FixtureRequest) -> AsyncIterator[FakeDiscord]:
    """A started stand-in with discord.py pointed at it and discord.py's log captured."""
    async with FakeDiscord() as fake:
        harness = E2EHarness(fake)
        request.node.stash[HARNESS_KEY] = harness
        with harness.activated():
            yield fake
        problems = harness.new_problems()
    if problems:
        pytest.fail(format_problems(problems), pytrace=False)


@pytest.fixture
def discord_log(request: pytest.FixtureRequest, fake_discord: FakeDiscord) -> DiscordLogCapture:
    """The captured "discord" log records; call .clear() after provoking an error on purpose."""
    return request.node.stash[HARNESS_KEY].log_capture


@pytest.fixture
async def start_bot(request: pytest.FixtureRequest, fake_discord: FakeDiscord) -> AsyncIterator[StartBot]:
    """`await start_bot(bot)` starts any discord.Client / commands.Bot and waits for READY.

    Every bot started this way is closed at teardown, before the stand-in stops."""
    harness = request.node.stash[HARNESS_KEY]
    async with contextlib.AsyncExitStack() as stack:

        async def start(bot: discord.Client, *, ready_timeout: float = READY_TIMEOUT) -> discord.Client:
            return await stack.enter_async_context(harness.run(bot, ready_timeout=ready_timeout))

        yield start
