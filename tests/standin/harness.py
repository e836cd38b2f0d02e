"""The pytest plugin (registered in tests/conftest.py): fixtures `fake_discord`, `start_bot`, `discord_log`.

    async def test_journey(fake_discord, start_bot):
        bot = await start_bot(create_bot(settings))
        ...

A test FAILS, right after its body, if discord.py logs at ERROR level, if the bot calls a route the
stand-in does not implement, if the stand-in itself breaks, or if the bot's task crashes.

Every place the stand-in reaches into discord.py is in the first section below: the two documented
hooks that point it at the stand-in, and per-bot settings that would otherwise cost seconds per start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import discord
import discord.gateway
import discord.http
import pytest
import yarl

from .fake import FakeDiscord
from .world import WAIT_TIMEOUT

READY_TIMEOUT = CLOSE_TIMEOUT = WAIT_TIMEOUT

# -- the hooks into discord.py (2.7.1; see README "discord.py facts") -------------------------------


@contextlib.contextmanager
def discord_py_pointed_at(api_base: str, gateway_url: str) -> Iterator[None]:
    """Point discord.py's REST base URL and default gateway at a stand-in (`fake.api_base`,
    `fake.gateway_url`), then restore them.

    `Route.BASE` is read whenever a Route is built (webhooks and interaction callbacks too); after READY the
    client reconnects to the `resume_gateway_url` the stand-in sent. An `AutoShardedClient` given its
    `shard_count` connects every shard to `DEFAULT_GATEWAY` without asking `GET /gateway/bot`."""
    route, websocket = discord.http.Route, discord.gateway.DiscordWebSocket
    saved = route.BASE, websocket.DEFAULT_GATEWAY
    route.BASE, websocket.DEFAULT_GATEWAY = api_base, yarl.URL(gateway_url)
    try:
        yield
    finally:
        route.BASE, websocket.DEFAULT_GATEWAY = saved


def ready_quickly(bot: discord.Client) -> None:
    """discord.py dispatches READY `guild_ready_timeout` (default 2 s) after the last GUILD_CREATE. There is
    no public setter once the bot is built, and the bot factory does not set it. A client with several
    shards also waits 5 s before each IDENTIFY after the first (`before_identify_hook`, for Discord's
    identify rate limit, which the stand-in does not have); unless the bot overrides that hook, it goes."""
    bot._connection.guild_ready_timeout = min(bot._connection.guild_ready_timeout, 0.05)
    if type(bot).before_identify_hook is discord.Client.before_identify_hook:
        bot.before_identify_hook = _identify_at_once  # type: ignore[method-assign]


async def _identify_at_once(_shard_id: int | None, *, initial: bool = False) -> None:
    return None


# -- the harness ----------------------------------------------------------------------------------------


class DiscordLogCapture(logging.Handler):
    """Collects WARNING+ records of the "discord" logger; ERROR+ ones fail the test."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._new_record = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        # discord.py also logs from its heartbeat thread, hence call_soon_threadsafe.
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._new_record.set)

    async def wait_for_error(self, timeout: float = WAIT_TIMEOUT) -> logging.LogRecord:
        """The first ERROR+ record, waiting for one to be logged if needed."""
        async with asyncio.timeout(timeout):
            while not self.errors:
                self._new_record.clear()
                await self._new_record.wait()
        return self.errors[0]

    @property
    def errors(self) -> list[logging.LogRecord]:
        return [record for record in self.records if record.levelno >= logging.ERROR]

    def clear(self) -> None:
        """Forget what was captured (for tests that provoke errors on purpose)."""
        self.records.clear()

    @contextlib.contextmanager
    def installed(self, logger_name: str = "discord") -> Iterator[DiscordLogCapture]:
        logger = logging.getLogger(logger_name)
        saved_level = logger.level
        self._loop = asyncio.get_running_loop()
        if logger.getEffectiveLevel() > logging.WARNING:
            logger.setLevel(logging.WARNING)
        logger.addHandler(self)
        try:
            yield self
        finally:
            logger.removeHandler(self)
            logger.setLevel(saved_level)
            self._loop = None


class E2EHarness:
    """Ties a stand-in, the log capture and the bots started against it together."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.log_capture = DiscordLogCapture()
        self.bot_tasks: list[asyncio.Task[None]] = []
        self._reported: set[str] = set()

    @contextlib.asynccontextmanager
    async def run(self, bot: discord.Client, *, ready_timeout: float = READY_TIMEOUT) -> AsyncIterator[discord.Client]:
        """Start `bot` against the stand-in, wait for READY, close it on exit."""
        ready_quickly(bot)
        async with bot:  # initialises the client's asyncio objects so wait_until_ready works
            task = asyncio.create_task(bot.start(self.fake.token), name="standin-bot")
            self.bot_tasks.append(task)
            try:
                await self._wait_until_ready(bot, task, ready_timeout)
                yield bot
            finally:
                await _shut_down(bot, task)

    async def _wait_until_ready(self, bot: discord.Client, task: asyncio.Task[None], timeout: float) -> None:
        waiter = asyncio.ensure_future(bot.wait_until_ready())
        done, _ = await asyncio.wait({waiter, task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if waiter in done:
            return
        waiter.cancel()
        if task in done:
            raise RuntimeError("the bot stopped before it was ready") from task.exception()
        raise TimeoutError(f"the bot was not ready after {timeout}s; REST calls:\n{self.fake.describe_calls()}")

    def problems(self) -> list[str]:
        """Everything that should fail the test, oldest first."""
        fake, log = self.fake, self.log_capture
        crashes = [t.exception() for t in self.bot_tasks if t.done() and not t.cancelled() and t.exception()]
        return [
            *(f"discord.py logged {r.levelname}: {log.format(r)}" for r in log.errors),
            *(f"the bot called a route the stand-in does not implement: {call}" for call in fake.unknown_routes),
            *(f"stand-in bug: {error}" for error in fake.internal_errors + fake.gateway.internal_errors),
            *(f"gateway protocol error: {error}" for error in fake.gateway.protocol_errors),
            *(f"the bot's task crashed: {error!r}" for error in crashes),
        ]

    def fail_on_new_problems(self) -> None:
        """Fail the test with the problems not reported yet (a failure after the body is not repeated at teardown)."""
        fresh = [problem for problem in self.problems() if problem not in self._reported]
        self._reported.update(fresh)
        if fresh:
            pytest.fail("end-to-end problems:\n" + "\n".join(f"- {problem}" for problem in fresh), pytrace=False)


async def _shut_down(bot: discord.Client, task: asyncio.Task[None]) -> None:
    try:
        await asyncio.wait_for(bot.close(), CLOSE_TIMEOUT)
    finally:
        done, _ = await asyncio.wait({task}, timeout=CLOSE_TIMEOUT)
        if not done:
            task.cancel()
            await asyncio.wait({task}, timeout=CLOSE_TIMEOUT)
    if not task.cancelled() and task.exception() is not None:
        raise RuntimeError("the bot's task crashed") from task.exception()


# -- the fixtures ---------------------------------------------------------------------------------------

HARNESS_KEY = pytest.StashKey[E2EHarness]()
StartBot = Callable[..., Awaitable[discord.Client]]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    # Checked right after the test body so problems show up as a test failure, not a teardown error.
    result = yield
    if HARNESS_KEY in item.stash:
        item.stash[HARNESS_KEY].fail_on_new_problems()
    return result


@pytest.fixture
async def fake_discord(request: pytest.FixtureRequest) -> AsyncIterator[FakeDiscord]:
    """A started stand-in with discord.py pointed at it and discord.py's log captured."""
    async with FakeDiscord() as fake:
        harness = request.node.stash[HARNESS_KEY] = E2EHarness(fake)
        with discord_py_pointed_at(fake.api_base, fake.gateway_url), harness.log_capture.installed():
            yield fake
    harness.fail_on_new_problems()


@pytest.fixture
def discord_log(request: pytest.FixtureRequest, fake_discord: FakeDiscord) -> DiscordLogCapture:
    """The captured "discord" log records; call .clear() after provoking an error on purpose."""
    return request.node.stash[HARNESS_KEY].log_capture


@pytest.fixture
async def start_bot(request: pytest.FixtureRequest, fake_discord: FakeDiscord) -> AsyncIterator[StartBot]:
    """`await start_bot(bot)` starts any discord.Client / commands.Bot and waits for READY; every bot started
    this way is closed at teardown, before the stand-in stops."""
    harness = request.node.stash[HARNESS_KEY]
    async with contextlib.AsyncExitStack() as stack:

        async def start(bot: discord.Client, *, ready_timeout: float = READY_TIMEOUT) -> discord.Client:
            return await stack.enter_async_context(harness.run(bot, ready_timeout=ready_timeout))

        yield start
