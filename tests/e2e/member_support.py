"""What the members' journeys (tests/e2e/test_member_*.py) share: a bot factory, mentions, and a gate
that holds the bot's matching pool full, so a test can act while every question waits."""

import asyncio
import threading

import pytest

from bot.discord_app import create_bot
from bot.settings import load_settings
from bot.workers import Workers
from tests.conftest import FIXTURE_KB
from tests.standin.records import call_matches
from tests.standin.rest import json_reply

DEFERRED = 5  # interaction callback type: "thinking…", the answer follows


@pytest.fixture
def make_bot(tmp_path):
    def build(**overrides):
        settings = load_settings(knowledge_dir=overrides.pop("knowledge_dir", FIXTURE_KB),
                                 data_dir=tmp_path / "data", **overrides)
        return create_bot(settings)

    return build


def mention(fake, text: str) -> str:
    return f"<@{fake.bot_user.id}> {text}"


def embed_title(message) -> str | None:
    embeds = message["embeds"] if isinstance(message, dict) else message.embeds
    return embeds[0]["title"] if embeds else None


def custom_ids(components) -> list[str]:
    return [c["custom_id"] for row in components for c in row["components"] if "custom_id" in c]


def fail_next_messages(fake, monkeypatch, statuses: list[int]) -> None:
    """The bot's next channel messages are answered with these HTTP statuses in turn (e.g. a 503 from
    Discord's edge), before any reaches the stand-in's handler; later ones are served as usual."""
    serve = fake.rest._respond
    pending = list(statuses)

    async def respond(request, handler, call):
        if pending and call_matches(call, "POST", "/channels/{id}/messages"):
            return json_reply({"message": "Service Unavailable", "code": 0}, pending.pop(0))
        return await serve(request, handler, call)

    monkeypatch.setattr(fake.rest, "_respond", respond)


class MatchingGate:
    """Gives the bot a matching pool of one thread and one question in flight, and fills it with a
    matching job that waits for `release()`: every question the bot matches meanwhile waits its turn."""

    def __init__(self, bot) -> None:
        bot.workers.close()
        bot.workers = self.workers = Workers(matching_threads=1, max_questions=1)
        self._open = threading.Event()
        self._holding: asyncio.Task | None = None

    async def hold(self) -> None:
        started = threading.Event()

        def blocked() -> None:
            started.set()
            self._open.wait(30)

        self._holding = asyncio.create_task(self.workers.match(blocked))
        await asyncio.to_thread(started.wait, 10)

    async def release(self) -> None:
        self._open.set()
        if self._holding is not None:
            await self._holding


@pytest.fixture
def matching_gate():
    """`gate = matching_gate(bot)` before the bot starts; released at teardown whatever happens."""
    gates: list[MatchingGate] = []

    def build(bot) -> MatchingGate:
        gates.append(MatchingGate(bot))
        return gates[-1]

    yield build
    for gate in gates:
        gate._open.set()
