import errno
import logging
import multiprocessing
import os

import pytest

from bot.storage.atomic import WriteFailed, backup_paths, file_lock, write_atomic
from tests.storage.conftest import fail_directory_fsync


def test_each_write_keeps_the_previous_versions_as_rotating_backups(tmp_path):
    path = tmp_path / "g" / "1.yaml"
    for n in range(1, 6):
        write_atomic(path, f"version {n}\n".encode(), backups=3)
    assert path.read_text() == "version 5\n"
    assert [p.read_text() for p in backup_paths(path, 3)] == ["version 4\n", "version 3\n", "version 2\n"]
    assert not backup_paths(path, 4)[3].exists()
    assert sorted(p.name for p in path.parent.iterdir()) == ["1.yaml", "1.yaml.1", "1.yaml.2", "1.yaml.3"]


def test_a_failing_write_raises_a_clear_error_and_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "1.yaml"
    write_atomic(path, b"old\n")

    def disk_full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(WriteFailed, match=r"cannot write .*1\.yaml: no space left on the device"):
        write_atomic(path, b"new\n")
    assert path.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1.yaml"]  # the temp file is gone


def test_a_failing_rename_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "1.yaml"
    write_atomic(path, b"old\n")
    real_replace = os.replace

    def refuse_final_rename(src, dst):
        if str(dst) == str(path):
            raise OSError(errno.EIO, "Input/output error")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", refuse_final_rename)
    with pytest.raises(WriteFailed, match="Input/output error"):
        write_atomic(path, b"new\n")
    assert path.read_text() == "old\n"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def _count_under_lock(lock_path, counter_path, times):
    for _ in range(times):
        with file_lock(lock_path):
            value = int(counter_path.read_text())
            counter_path.write_text(str(value + 1))


def test_a_directory_that_cannot_be_flushed_still_gets_the_new_file_with_a_warning(tmp_path, monkeypatch, caplog):
    path = tmp_path / "1.yaml"
    write_atomic(path, b"old\n")
    fail_directory_fsync(monkeypatch)
    with caplog.at_level(logging.WARNING, logger="bot.storage.atomic"):
        write_atomic(path, b"new\n")  # the rename happened: the change is made, not "nothing changed"
    assert path.read_text() == "new\n" and backup_paths(path, 1)[0].read_text() == "old\n"
    assert f"{path} was replaced" in caplog.text and "Invalid argument" in caplog.text


def test_the_file_lock_serialises_other_processes(tmp_path):
    lock_path, counter = tmp_path / "c.lock", tmp_path / "c.txt"
    counter.write_text("0")
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_count_under_lock, args=(lock_path, counter, 200)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert counter.read_text() == "600"
