"""Many writers at once, writers killed mid-write, and disks that refuse: no entry is ever lost."""

import asyncio
import multiprocessing
import os
import random
import shutil
import signal
import tempfile
import time
from pathlib import Path

import pytest

from bot.storage.atomic import backup_paths
from bot.storage.guild_file import parse_guild_text
from bot.storage.guild_store import GuildStore, SaveFailed, add_entry_op
from tests.storage.conftest import ANA, BO, GUILD, numbered_entry

FORK = multiprocessing.get_context("fork")


def entry_ids(path: Path) -> list[str]:
    parsed = parse_guild_text(path.read_bytes(), str(path))
    assert parsed.problems == (), parsed.problems
    return [entry.id for entry in parsed.content.myths]


async def test_many_concurrent_adds_all_persist(store, tmp_path, fixture_kb):
    changes = await asyncio.gather(*(store.add(GUILD, numbered_entry(n), ANA) for n in range(40)))
    ids = {change.entry_id for change in changes}
    assert len(ids) == 40
    assert set(entry_ids(store.path(GUILD))) == ids
    assert set(store.state(GUILD).entries) == ids
    reopened = GuildStore(tmp_path / "data", fixture_kb)
    reopened.load_all()
    assert set(reopened.state(GUILD).entries) == ids


def _add_many(data_dir, kb, start, prefix, count, actor):
    start.wait(timeout=30)
    store = GuildStore(data_dir, kb)
    for n in range(count):
        store.apply_now(GUILD, add_entry_op(numbered_entry(n, prefix), actor))


def test_two_processes_adding_at_once_lose_nothing(tmp_path, fixture_kb):
    start = FORK.Event()
    workers = [FORK.Process(target=_add_many, args=(tmp_path, fixture_kb, start, prefix, 20, actor))
               for prefix, actor in (("alpha", ANA), ("beta", BO))]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    ids = entry_ids(tmp_path / "guilds" / f"{GUILD}.yaml")
    assert len(ids) == 40
    assert {i.split("-")[0] for i in ids} == {"alpha", "beta"}


def _slow_down_disk_calls():
    """Widen the gaps between the steps of a write, so kills land inside it, not only around it."""
    for name in ("fsync", "replace", "link"):
        real = getattr(os, name)

        def slow(*args, _real=real, **kwargs):
            time.sleep(random.uniform(0, 0.003))
            return _real(*args, **kwargs)

        setattr(os, name, slow)  # only in this forked child


def _add_forever(data_dir, kb, ready, committed):
    _slow_down_disk_calls()
    store = GuildStore(data_dir, kb)
    ready.set()
    n = committed.value
    while True:
        store.apply_now(GUILD, add_entry_op(numbered_entry(n), ANA))
        n += 1
        committed.value = n


def test_a_writer_killed_at_any_moment_leaves_a_valid_file_with_every_committed_entry(tmp_path, fixture_kb):
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    path = tmp_path / "guilds" / f"{GUILD}.yaml"
    saved = 0
    for trial in range(40):
        ready, committed = FORK.Event(), FORK.Value("i", saved)
        writer = FORK.Process(target=_add_forever, args=(tmp_path, fixture_kb, ready, committed))
        writer.start()
        assert ready.wait(timeout=30)
        time.sleep(rng.uniform(0, 0.05))
        os.kill(writer.pid, signal.SIGKILL)
        writer.join(timeout=30)
        context = f"trial {trial}, seed {seed}"
        if not path.exists():
            assert committed.value == 0, context
            continue
        ids = entry_ids(path)
        assert committed.value <= len(ids) <= committed.value + 1, context
        assert ids == [f"topic-{n}-question" for n in range(len(ids))], context
        for backup in backup_paths(path, 3):
            if backup.exists():
                entry_ids(backup)
        saved = len(ids)
    assert saved > 0
    store = GuildStore(tmp_path, fixture_kb)
    assert store.load_all() == []
    store.apply_now(GUILD, add_entry_op(numbered_entry(saved), BO))  # the kernel released the dead writer's lock
    assert len(entry_ids(path)) == saved + 1
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def _add_as(data_dir, kb, uid, results):
    if uid is not None:
        os.setgid(uid)
        os.setuid(uid)
    store = GuildStore(data_dir, kb)
    store.load_all()
    try:
        store.apply_now(GUILD, add_entry_op(numbered_entry(99), BO))
        results.put("written")
    except SaveFailed as exc:
        results.put(str(exc))
    except Exception as exc:  # reported to the test, which fails
        results.put(f"unexpected {type(exc).__name__}: {exc}")


@pytest.fixture
def shared_dir():
    """A data dir any user can traverse (tmp_path's parents are private to the test's user)."""
    directory = Path(tempfile.mkdtemp(prefix="mythbot-ro-"))
    directory.chmod(0o755)
    yield directory
    for path in directory.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    shutil.rmtree(directory)


def test_a_read_only_data_dir_gives_a_clear_error_and_keeps_the_old_file(shared_dir, fixture_kb):
    store = GuildStore(shared_dir, fixture_kb)
    store.apply_now(GUILD, add_entry_op(numbered_entry(1), ANA))
    path = store.path(GUILD)
    before = path.read_bytes()
    uid = None
    if os.geteuid() == 0:
        uid = 65534  # root writes anywhere, so try as "nobody"
    else:
        path.parent.chmod(0o555)
    results = FORK.Queue()
    child = FORK.Process(target=_add_as, args=(shared_dir, fixture_kb, uid, results))
    child.start()
    message = results.get(timeout=60)
    child.join(timeout=30)
    assert "permission denied (is the data dir writable by the bot?)" in message
    assert str(path.parent) in message and message.endswith("Nothing was changed.")
    assert path.read_bytes() == before
