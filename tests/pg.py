"""A throwaway PostgreSQL cluster for the tests: `initdb` + `pg_ctl` from the machine's PostgreSQL.

The cluster lives in a temp dir, listens on a free 127.0.0.1 port (its unix socket stays in the temp
dir, so it never meets a system cluster), runs with fsync off, and is stopped and removed after.
`initdb` refuses to run as root, so as root the server runs as the `postgres` system user.
"""

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

SEARCH_DIRS = "/usr/lib/postgresql/*/bin"
SERVER_USER = "postgres"  # the system account the Debian/Ubuntu packages create
START_ATTEMPTS = 3  # a free port can be taken between choosing it and the server binding it
START_TIMEOUT_S = 30
SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "32MB",
    "max_connections": "50",
}


class PostgresUnavailable(Exception):
    """No PostgreSQL here to test against (as opposed to one that is installed but broken)."""


def unavailable(reason: str) -> None:
    """Skip locally; fail under CI, which installs PostgreSQL, so a skip there would hide a broken setup."""
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"PostgreSQL tests cannot run under CI: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL tests skipped: {reason}")


def find_bin_dir() -> Path:
    """The directory holding both `initdb` and `pg_ctl`: from PATH, else the newest Debian-style install."""
    on_path = shutil.which("initdb")
    candidates = [Path(on_path).resolve().parent] if on_path else []
    installed = sorted(Path("/").glob(SEARCH_DIRS.lstrip("/")), key=_major_version, reverse=True)
    for directory in [*candidates, *installed]:
        if (directory / "initdb").is_file() and (directory / "pg_ctl").is_file():
            return directory
    raise PostgresUnavailable(f"no initdb and pg_ctl on PATH or in {SEARCH_DIRS} (install the postgresql package)")


def _major_version(bin_dir: Path) -> int:
    version = bin_dir.parent.name
    return int(version) if version.isdigit() else 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Cluster:
    bin_dir: Path
    root: Path  # temp dir owned by the server's user: data/, sockets/, server.log
    run_as: str | None  # system user to run the server as (when we are root), else None
    port: int = 0

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://{SERVER_USER}@127.0.0.1:{self.port}/{database}"

    def run(self, *args: str) -> subprocess.CompletedProcess:
        """Run a PostgreSQL program from bin_dir as the server's user; raise with its output on failure."""
        user = {"user": self.run_as, "group": self.run_as, "extra_groups": []} if self.run_as else {}
        result = subprocess.run([str(self.bin_dir / args[0]), *args[1:]], cwd=self.root, capture_output=True,
                                text=True, timeout=120, **user)
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
        return result

    def init(self) -> None:
        self.run("initdb", "--pgdata", str(self.data_dir), "--username", SERVER_USER, "--auth", "trust",
                 "--encoding", "UTF8", "--locale", "C", "--no-sync", "--no-instructions")
        sockets = self.root / "sockets"
        sockets.mkdir()
        self.give_to_server_user(sockets)
        settings = {**SERVER_SETTINGS, "unix_socket_directories": str(sockets)}
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{name} = '{value}'\n" for name, value in settings.items())

    def start(self) -> None:
        """Start on a free port, trying another if that one was taken meanwhile; wait until it accepts."""
        for attempt in range(1, START_ATTEMPTS + 1):
            self.port = free_port()
            try:
                # -w: pg_ctl polls (every 100 ms) until the server is ready, up to -t seconds.
                self.run("pg_ctl", "start", "--pgdata", str(self.data_dir), "--log", str(self.log_file),
                         "-w", "-t", str(START_TIMEOUT_S), "-o", f"-p {self.port}")
            except RuntimeError as error:
                log = self._log_tail()
                if attempt == START_ATTEMPTS or "could not bind" not in log:
                    raise RuntimeError(f"{error}\n--- {self.log_file} ---\n{log}") from None
                continue
            self._wait_until_connectable()
            return

    def _wait_until_connectable(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                psycopg.connect(self.dsn(), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self.run("pg_ctl", "stop", "--pgdata", str(self.data_dir), "-m", "immediate", "-w")

    def give_to_server_user(self, path: Path) -> None:
        if self.run_as:
            account = pwd.getpwnam(self.run_as)
            os.chown(path, account.pw_uid, account.pw_gid)

    def _log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError as error:
            return f"(no log: {error})"


def server_user() -> str | None:
    """Who runs the server: ourselves, or `postgres` when we are root (initdb refuses root)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise PostgresUnavailable(f"running as root and there is no {SERVER_USER!r} user to run initdb as") from None
    return SERVER_USER


@contextlib.contextmanager
def running_cluster() -> Iterator[Cluster]:
    """A fresh cluster for the block; raises PostgresUnavailable when there is no PostgreSQL to run."""
    bin_dir, run_as = find_bin_dir(), server_user()
    # Not pytest's tmp_path: its parents are private to root, and the server may run as another user.
    cluster = Cluster(bin_dir, Path(tempfile.mkdtemp(prefix="mythbot-pg-")), run_as)
    try:
        cluster.give_to_server_user(cluster.root)
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(cluster.root, ignore_errors=True)


def create_database(admin_dsn: str, name: str) -> None:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(admin_dsn: str, name: str) -> None:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        # FORCE: a test that leaked a connection must not make the drop (and the next test) hang.
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def with_database(dsn: str, name: str) -> str:
    return dsn.rsplit("/", 1)[0] + "/" + name
