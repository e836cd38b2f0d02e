"""The token stays secret: never in settings dumps, CLI errors or exports, and .env is never committed."""

import json
import subprocess

from tests.conftest import FIXTURE_KB, PROJECT_ROOT
from tests.test_cli import mythbot

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.secret-token-for-tests.do-not-log"


def test_env_files_are_ignored_by_git():
    for path in (".env", "data/guilds/1.yaml", "data/mythbot.sqlite3"):
        assert subprocess.run(["git", "check-ignore", "-q", path], cwd=PROJECT_ROOT).returncode == 0, path


def test_export_and_errors_never_contain_the_token(tmp_path):
    exported = mythbot("export", "--json", "--knowledge", str(FIXTURE_KB), env={"DISCORD_TOKEN": TOKEN})
    assert exported.returncode == 0 and TOKEN not in exported.stdout + exported.stderr
    json.loads(exported.stdout)
    broken = mythbot("ask", "x", env={"DISCORD_TOKEN": TOKEN, "MYTHBOT_LISTEN_CHANNELS": "general"})
    assert broken.returncode == 1 and TOKEN not in broken.stdout + broken.stderr
