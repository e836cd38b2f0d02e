import itertools
import shutil
from pathlib import Path

import pytest

from bot.engine.engine import Engine
from bot.engine.knowledge import load_knowledge
from tests import pg

pytest_plugins = ["tests.standin.harness"]  # fixtures fake_discord, start_bot, discord_log

FIXTURE_KB = Path(__file__).parent / "fixtures" / "kb"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def fixture_kb():
    return load_knowledge(FIXTURE_KB)


@pytest.fixture(scope="session")
def fixture_engine(fixture_kb):
    return Engine(fixture_kb)


@pytest.fixture
def kb_copy(tmp_path):
    """A writable copy of the fixture knowledge dir, for tests that break it on purpose."""
    target = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, target)
    return target


@pytest.fixture(scope="session")
def pg_server():
    """DSN of a throwaway PostgreSQL server's `postgres` database (superuser), started once per session.

    Skipped when the machine has no PostgreSQL; fails instead under CI=true."""
    try:
        with pg.running_cluster() as cluster:
            yield cluster.dsn()
    except pg.PostgresUnavailable as missing:
        pg.unavailable(str(missing))


_database_numbers = itertools.count(1)


@pytest.fixture
def pg_database(pg_server):
    """DSN of a new empty database for this test alone, dropped after it."""
    name = f"test_{next(_database_numbers)}"
    pg.create_database(pg_server, name)
    yield pg.with_database(pg_server, name)
    pg.drop_database(pg_server, name)
