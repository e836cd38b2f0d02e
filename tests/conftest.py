import shutil
from pathlib import Path

import pytest

from bot.engine.engine import Engine
from bot.engine.knowledge import load_knowledge

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
