"""Work the bot does off the event loop, in separate bounded pools so one kind cannot starve another.

- **matching**: answering questions (CPU work); at most `max_questions` are in flight, the rest wait.
- **reports**: moderator reports such as `/faq gaps`; one worker, so a slow report delays only reports.
- **records**: writes to the `RecordStore` (coroutines: the store keeps its own thread or connection),
  each awaited with a timeout. A write that fails or times out is logged and reported as None, never
  raised: a lost record must never cost a member the reply.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
RECORD_TIMEOUT = 2.0


class Workers:
    def __init__(self, *, matching_threads: int = 2, max_questions: int = 16,
                 record_timeout: float = RECORD_TIMEOUT) -> None:
        self._matching = ThreadPoolExecutor(matching_threads, thread_name_prefix="mythbot-match")
        self._reports = ThreadPoolExecutor(1, thread_name_prefix="mythbot-report")
        self._questions = asyncio.Semaphore(max_questions)
        self.record_timeout = record_timeout
        self._pending: set[asyncio.Task[Any]] = set()

    async def match(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run matching work in the matching pool, waiting for a slot when too many are in flight."""
        async with self._questions:
            return await asyncio.get_running_loop().run_in_executor(self._matching, partial(fn, *args, **kwargs))

    async def report(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a moderator report in its own pool, so it never holds up answers."""
        return await asyncio.get_running_loop().run_in_executor(self._reports, partial(fn, *args, **kwargs))

    async def record(self, what: str, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T | None:
        """Await a record write (`fn` is a coroutine function) with a timeout; on any failure log one line
        naming `what` and return None."""
        try:
            return await asyncio.wait_for(fn(*args, **kwargs), self.record_timeout)
        except TimeoutError:
            log.warning("could not record %s: the database did not answer within %.0f s", what, self.record_timeout)
        except Exception as exc:  # any backend error: the record is lost, the member's reply is not
            log.warning("could not record %s: %s: %s", what, type(exc).__name__, exc)
        return None

    def record_soon(self, what: str, fn: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> None:
        """Start a write in the background and return at once (the reply does not wait for it)."""
        task = asyncio.get_running_loop().create_task(self.record(what, fn, *args, **kwargs))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def drain(self) -> None:
        """Let background writes finish (at shutdown, before the database closes); each has a timeout."""
        if self._pending:
            await asyncio.wait(set(self._pending))

    def close(self) -> None:
        for pool in (self._matching, self._reports):
            pool.shutdown(wait=False, cancel_futures=True)
