"""L5: a DEBUG log is for operators, not a copy of members' messages and interaction tokens.

discord.py logs whole gateway payloads and REST and webhook URLs and bodies at DEBUG; the bot keeps
those loggers at INFO whatever `MYTHBOT_LOG_LEVEL` says."""

import logging

import pytest

from bot import discord_app
from bot.discord_app import create_bot
from bot.settings import load_settings
from tests.conftest import FIXTURE_KB

SECRET_QUESTION = "zebra quokka 4711 will squats fix my hip dips"
SECRET_ASK = "narwhal 0815 does spot reduction work"


@pytest.fixture
def debug_logging():
    """The bot's logging set up as `mythbot run` does at DEBUG; every logger level restored afterwards."""
    root = logging.getLogger()
    names = ["", "discord", *discord_app.PAYLOAD_LOGGERS]
    saved = {name: logging.getLogger(name).level for name in names}
    handlers = list(root.handlers)
    discord_app.setup_logging("DEBUG")
    yield
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)


async def test_a_debug_log_holds_no_interaction_token_and_no_message_content(fake_discord, start_bot, tmp_path,
                                                                            debug_logging, caplog):
    caplog.set_level(logging.DEBUG)
    settings = load_settings(knowledge_dir=FIXTURE_KB, data_dir=tmp_path / "data", log_level="DEBUG")
    await start_bot(create_bot(settings))
    general, alice = fake_discord.guild.channel("general"), fake_discord.make_member("alice")
    mark = fake_discord.mark()
    await fake_discord.inject_message(general, alice, f"<@{fake_discord.bot_user.id}> {SECRET_QUESTION}")
    await fake_discord.wait_for_message(general.id, since=mark)
    asked = await fake_discord.inject_slash_command("ask", {"question": SECRET_ASK}, user=alice)
    await asked.response()
    logged = "\n".join(f"{r.name}: {r.getMessage()}" for r in caplog.records)
    assert any(r.levelno == logging.DEBUG and r.name.startswith("discord") for r in caplog.records)  # DEBUG is on
    assert asked.token not in logged
    assert "zebra" not in logged and "narwhal" not in logged
