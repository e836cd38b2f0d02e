"""L4: a malformed DISCORD_TOKEN, or Discord refusing the login, stops `mythbot run` and `mythbot sync`
with one clean line: no traceback, and never any part of the token or of the server's answer.

The real CLI runs in a subprocess with discord.py pointed at the local stand-in (the two hooks of
tests/standin/harness.py, set in the child)."""

import asyncio
import os
import random
import string
import sys

import pytest

from tests.conftest import FIXTURE_KB

LAUNCH = """import sys, yarl, discord.http, discord.gateway
discord.http.Route.BASE = sys.argv[1]
discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(sys.argv[2])
from bot.cli import main
sys.exit(main(sys.argv[3:]))
"""
URLSAFE = string.ascii_letters + string.digits + "-_"


def token_like(length: int, seed: int) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(URLSAFE) for _ in range(length))


BASE = f"{token_like(24, 1)}.{token_like(6, 2)}.{token_like(38, 3)}"
MALFORMED = {
    "a line break inside": BASE[:30] + "\n" + BASE[30:],
    "an escape character inside": BASE[:30] + "\x1b[2J" + BASE[30:],
    "20,000 characters": token_like(20_000, 4),
    "non-ASCII letters": BASE[:30] + "äöü" + BASE[30:],
    "a 'Bot ' prefix": "Bot " + BASE,
    "a space inside": BASE[:30] + " " + BASE[30:],
}


async def mythbot(fake, tmp_path, command: str, token: str) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN" and not k.startswith("MYTHBOT_")}
    env["DISCORD_TOKEN"] = token
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", LAUNCH, fake.api_base, fake.gateway_url, command, "--knowledge", str(FIXTURE_KB),
        "--data", str(tmp_path / "data"), env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode, (stdout + stderr).decode(errors="replace")


def quotes(output: str, secret: str, window: int = 8) -> bool:
    """Whether `output` holds any `window` characters in a row of `secret` (each line of it)."""
    pieces = {part[i:i + window] for part in secret.splitlines() for i in range(len(part) - window + 1)}
    return any(output[i:i + window] in pieces for i in range(len(output) - window + 1))


@pytest.mark.parametrize("command", ["run", "sync"])
@pytest.mark.parametrize("kind", list(MALFORMED))
async def test_a_malformed_token_is_refused_before_connecting_in_one_clean_line(fake_discord, tmp_path, command,
                                                                                kind):
    token = MALFORMED[kind]
    code, output = await mythbot(fake_discord, tmp_path, command, token)
    assert code == 1, output
    assert "Traceback" not in output
    [line] = output.strip().splitlines()
    assert line.startswith("mythbot: DISCORD_TOKEN ") and "Reset Token" in line
    assert not quotes(output, token.removeprefix("Bot "))
    assert fake_discord.calls == []  # refused before connecting


SERVER_ANSWER = "Bad header value: Authorization: Bot fake-bot-token"


@pytest.mark.parametrize("command", ["run", "sync"])
async def test_a_refused_login_is_one_line_without_the_servers_answer(fake_discord, tmp_path, command):
    fake_discord.fail_next("GET", "/users/@me", 400, {"message": SERVER_ANSWER, "code": 0})
    code, output = await mythbot(fake_discord, tmp_path, command, fake_discord.token)
    assert code == 1, output
    assert "Traceback" not in output
    assert "Bad header" not in output and not quotes(output, fake_discord.token, window=6)
    [line] = [line for line in output.splitlines() if "DISCORD_TOKEN" in line]
    assert "Discord refused the login (HTTP 400)" in line
