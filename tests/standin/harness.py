"""Run a real discord.py client against the stand-in and collect everything that went wrong.

Usable without pytest fixtures:

    async with running(bot) as fake:
        member = fake.make_member("alice")
        await fake.inject_message(fake.guild.channel("general"), member, "ping")
        reply = await fake.wait_for_message()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator

import discord
import discord.gateway
import discord.http
import yarl

from .fake import FakeDiscord

# discord.py waits this long after the last GUILD_CREATE before READY (default 2 s).
GUILD_READY_TIMEOUT = 0.05
READY_TIMEOUT = 5.0
CLOSE_TIMEOUT = 5.0


@contextlib.contextmanager
def discord_py_pointed_at(fake: FakeDiscord) -> Iterator[None]:
    """Point discord.py's REST base URL and default gateway at the stand-in, then restore them."""
    route, websocket = discord.http.Route, discord.gateway.DiscordWebSocket
    saved = route.BASE, websocket.DEFAULT_GATEWAY
    route.BASE = fake.api_base
    websocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    try:
        yield
    finally:
        route.BASE, websocket.DEFAULT_GATEWAY = saved


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

    async def wait_for_error(self, timeout: float = 5.0) -> logging.LogRecord:
        """The first ERROR+ record, waiting for one to be logged if needed."""
        async with asyncio.timeout(timeout):
            while True:
                self._new_record.clear()
                if self.errors:
                    return self.errors[0]
                await self._new_record.wait()

    @property
    def errors(self) -> list[logging.LogRecord]:
        return [record for record in self.records if record.levelno >= logging.ERROR]

    @property
    def warnings(self) -> list[logging.LogRecord]:
        return [record for record in self.records if record.levelno == logging.WARNING]

    def clear(self) -> None:
        """Forget what was captured (for tests that provoke errors on purpose)."""
        self.records.clear()

    @contextlib.contextmanager
    def installed(self, logger_name: str = "discord") -> Iterator[DiscordLogCapture]:
        logger = logging.getLogger(logger_name)
        saved_level = logger.level
        with contextlib.suppress(RuntimeError):
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

    @contextlib.contextmanager
    def activated(self) -> Iterator[E2EHarness]:
        with discord_py_pointed_at(self.fake), self.log_capture.installed():
            yield self

    @contextlib.asynccontextmanager
    async def run(
        self, bot: discord.Client, *, ready_timeout: float = READY_TIMEOUT
    ) -> AsyncIterator[discord.Client]:
        async with running_bot(bot, self.fake, ready_timeout=ready_timeout, tasks=self.bot_tasks) as started:
            yield started

    def problems(self) -> list[str]:
        """Everything that should fail the test, oldest first."""
        fake = self.fake
        problems = [
            f"discord.py logged {r.levelname}: {self.log_capture.format(r)}" for r in self.log_capture.errors
        ]
        problems += [
            f"the bot called a route the stand-in does not implement: {call}" for call in fake.unknown_routes
        ]
        problems += [
            f"stand-in bug: {error}" for error in fake.internal_errors + fake.gateway.internal_errors
        ]
        problems += [f"gateway protocol error: {error}" for error in fake.gateway.protocol_errors]
        problems += [f"the bot's task crashed: {error!r}" for error in _crashes(self.bot_tasks)]
        return problems

    def new_problems(self) -> list[str]:
        """Problems not reported yet (so a failure in the test body is not repeated at teardown)."""
        fresh = [problem for problem in self.problems() if problem not in self._reported]
        self._reported.update(fresh)
        return fresh


def _crashes(tasks: list[asyncio.Task[None]]) -> list[BaseException]:
    return [task.exception() for task in tasks if task.done() and not task.cancelled() and task.exception()]  # type: ignore[misc]


def format_problems(problems: list[str]) -> str:
    return "end-to-end problems:\n" + "\n".join(f"- {problem}" for problem in problems)


@contextlib.asynccontextmanager
async def running_bot(
    bot: discord.Client,
    fake: FakeDiscord,
    *,
    ready_timeout: float = READY_TIMEOUT,
    close_timeout: float = CLOSE_TIMEOUT,
    tasks: list[asyncio.Task[None]] | None = None,
) -> AsyncIterator[discord.Client]:
    """Start `bot` against `fake` (already pointed at), wait for READY, close it on exit."""
    state = bot._connection  # no public setter; the factory's value would cost 2 s per start
    state.guild_ready_timeout = min(state.guild_ready_timeout, GUILD_READY_TIMEOUT)
    _skip_reidentify_delay(bot)
    async with bot:  # initialises the client's asyncio objects so wait_until_ready works
        task = asyncio.create_task(bot.start(fake.token), name="e2e-bot")
        if tasks is not None:
            tasks.append(task)
        try:
            await _wait_until_ready(bot, task, ready_timeout, fake)
            yield bot
        finally:
            await _shut_down(bot, task, close_timeout)


def _skip_reidentify_delay(bot: discord.Client) -> None:
    """discord.Client.before_identify_hook sleeps 5 s before every re-IDENTIFY (a courtesy to the
    real gateway's identify rate limit). Skip it unless the bot overrides the hook itself."""
    if type(bot).before_identify_hook is discord.Client.before_identify_hook:

        async def no_delay(_shard_id: int | None, *, initial: bool = False) -> None:
            return None

        bot.before_identify_hook = no_delay  # type: ignore[method-assign]


async def _wait_until_ready(
    bot: discord.Client, task: asyncio.Task[None], timeout: float, fake: FakeDiscord
) -> None:
    waiter = asyncio.ensure_future(bot.wait_until_ready())
    done, _ = await asyncio.wait({waiter, task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    if waiter in done:
        return
    waiter.cancel()
    if task in done:
        raise RuntimeError("the bot stopped before it was ready") from task.exception()
    raise TimeoutError(f"the bot was not ready after {timeout}s; REST calls:\n{fake.describe_calls()}")


async def _shut_down(bot: discord.Client, task: asyncio.Task[None], timeout: float) -> None:
    try:
        await asyncio.wait_for(bot.close(), timeout)
    finally:
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if not done:
            task.cancel()
            await asyncio.wait({task}, timeout=timeout)
    if not task.cancelled() and task.exception() is not None:
        raise RuntimeError("the bot's task crashed") from task.exception()


@contextlib.asynccontextmanager
async def running(bot: discord.Client, *, fake: FakeDiscord | None = None) -> AsyncIterator[FakeDiscord]:
    """Stand-in + pointing + log capture + running bot, for use outside the pytest fixtures.

    Raises AssertionError on exit if discord.py logged errors or the bot hit unknown routes."""
    async with contextlib.AsyncExitStack() as stack:
        if fake is None:
            fake = await stack.enter_async_context(FakeDiscord())
        harness = E2EHarness(fake)
        stack.enter_context(harness.activated())
        async with harness.run(bot):
            yield fake
        problems = harness.new_problems()
        if problems:
            raise AssertionError(format_problems(problems))
