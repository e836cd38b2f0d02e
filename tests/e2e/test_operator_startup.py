"""L3: a data dir the bot cannot write stops `mythbot run` and `mythbot sync` with one clear line
naming the directory and what to do, exit code 1 and no traceback, before anything connects."""

import contextlib
import encodings.utf_8_sig
import io
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import bot.discord_app
from bot import cli
from tests.conftest import FIXTURE_KB

FORK = multiprocessing.get_context("fork")
WELL_FORMED_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GabcDE.abcdefghijklmnopqrstuvwxyz0123456789AB"
NOBODY = 65534
# Loaded before forking: the unprivileged child cannot read the interpreter's own files to import them.
PRELOADED = (encodings.utf_8_sig, bot.discord_app)


def mythbot(*args: str, cwd: Path, token: str = WELL_FORMED_TOKEN) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN" and not k.startswith("MYTHBOT_")}
    env["DISCORD_TOKEN"] = token
    return subprocess.run([sys.executable, "-m", "bot", *args, "--knowledge", str(FIXTURE_KB)], capture_output=True,
                          text=True, timeout=60, env=env, cwd=cwd)


def assert_one_clear_line(code: int, stderr: str, data_dir: Path) -> None:
    assert code == 1, stderr
    assert "Traceback" not in stderr
    [line] = stderr.strip().splitlines()
    assert line.startswith(f"mythbot: the data directory {data_dir} ") and "MYTHBOT_DATA_DIR" in line
    assert WELL_FORMED_TOKEN not in stderr


@pytest.mark.parametrize("command", ["run", "sync"])
@pytest.mark.parametrize("where", ["inside a file", "is a file"])
def test_a_data_dir_that_cannot_be_a_directory_stops_start_up_with_one_clear_line(tmp_path, command, where):
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory\n")
    data_dir = blocker / "data" if where == "inside a file" else blocker
    out = mythbot(command, "--data", str(data_dir), cwd=tmp_path)
    assert_one_clear_line(out.returncode, out.stderr, data_dir)


def _main_as(uid: int | None, argv: list[str], results) -> None:
    """The real CLI entry point in a forked process, as an unprivileged user when the test runs as root
    (root writes anywhere); its exit code and stderr go back to the test."""
    if uid is not None:
        os.setgid(uid)
        os.setuid(uid)
    os.environ["DISCORD_TOKEN"] = WELL_FORMED_TOKEN
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            code = cli.main(argv)
    except BaseException as exc:  # reported to the test, which fails
        results.put((-1, f"Traceback: {type(exc).__name__}: {exc}\n{stderr.getvalue()}"))
        return
    results.put((code, stderr.getvalue()))


@pytest.fixture
def read_only_dir():
    """A data dir that exists but cannot be written, under a parent every user can traverse."""
    parent = Path(tempfile.mkdtemp(prefix="mythbot-ro-"))
    parent.chmod(0o755)
    data_dir = parent / "data"
    data_dir.mkdir()
    data_dir.chmod(0o555)
    yield data_dir
    data_dir.chmod(0o755)
    shutil.rmtree(parent)


@pytest.mark.parametrize("command", ["run", "sync"])
def test_a_read_only_data_dir_stops_start_up_with_one_clear_line(read_only_dir, command):
    results = FORK.Queue()
    uid = NOBODY if os.geteuid() == 0 else None
    child = FORK.Process(target=_main_as, args=(uid, [command, "--knowledge", str(FIXTURE_KB), "--data",
                                                      str(read_only_dir)], results))
    child.start()
    code, stderr = results.get(timeout=60)
    child.join(timeout=30)
    assert_one_clear_line(code, stderr, read_only_dir)
    assert "permission denied" in stderr.lower()


def test_a_records_database_that_cannot_be_opened_stops_start_up_with_one_clear_line(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "mythbot.sqlite3").write_bytes(b"this is not a database, it was overwritten by mistake" * 100)
    out = mythbot("sync", "--data", str(data_dir), cwd=tmp_path)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    [line] = out.stderr.strip().splitlines()
    assert line.startswith(f"mythbot: the records database in {data_dir} cannot be opened (file is not a database)")
