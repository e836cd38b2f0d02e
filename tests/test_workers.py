"""The bot's worker pools: bounded matching, reports apart from answers, record writes that never raise."""

import asyncio
import logging
import threading

from bot.storage.base import RecordFailed
from bot.workers import Workers


async def test_a_failing_or_stuck_write_is_logged_and_returns_none(caplog):
    workers = Workers(record_timeout=0.2)
    never = asyncio.Event()

    async def broken():
        raise RecordFailed("the records database did not answer (database or disk is full)")

    try:
        with caplog.at_level(logging.WARNING, logger="bot.workers"):
            assert await workers.record("an unanswered question", broken) is None
            assert await workers.record("feedback", never.wait) is None  # the database is locked
        assert "an unanswered question: RecordFailed: the records database did not answer (database or disk " \
               "is full)" in caplog.text
        assert "could not record feedback: the database did not answer" in caplog.text
    finally:
        workers.close()


async def test_a_write_that_succeeds_returns_its_result():
    workers = Workers()

    async def first_vote(helpful, *, entry_id):
        return (helpful, entry_id)

    assert await workers.record("feedback", first_vote, True, entry_id="spot-reduction") == (True, "spot-reduction")
    workers.close()


async def test_matching_has_a_global_cap_on_questions_in_flight():
    workers = Workers(matching_threads=4, max_questions=2)
    release, running, peak = threading.Event(), [0], [0]
    two_running = threading.Event()
    lock = threading.Lock()

    def question():
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            if running[0] == 2:
                two_running.set()
        release.wait(10)
        with lock:
            running[0] -= 1

    tasks = [asyncio.create_task(workers.match(question)) for _ in range(6)]
    await asyncio.to_thread(two_running.wait, 10)
    await asyncio.sleep(0.05)  # give a third question every chance to start if the cap were missing
    assert running[0] == 2
    release.set()
    await asyncio.gather(*tasks)
    assert peak[0] == 2
    workers.close()


async def test_a_slow_report_does_not_hold_up_answers():
    workers = Workers()
    release = threading.Event()
    report = asyncio.create_task(workers.report(release.wait, 10))
    assert await workers.match(lambda: "answered") == "answered"
    assert not report.done()
    release.set()
    await report
    workers.close()


async def test_background_writes_are_drained_before_shutdown():
    workers = Workers()
    done = []

    async def audit(text):
        await asyncio.sleep(0)
        done.append(text)

    workers.record_soon("audit", audit, "written")
    await workers.drain()
    assert done == ["written"]
    workers.close()
