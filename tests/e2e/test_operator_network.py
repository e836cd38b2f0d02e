"""L6, the operator's side: how the bot behaves when Discord's REST API pushes back."""

import logging

from bot.discord_app import create_bot
from bot.settings import load_settings
from tests.conftest import FIXTURE_KB

AN_HOUR = 3600.0
RATE_LIMITED = {"message": "You are being rate limited.", "retry_after": AN_HOUR, "global": False, "code": 0}
# discord.py treats a 429 without a Via header as a Cloudflare ban, not Discord's rate limit.
FROM_DISCORD = {"Via": "1.1 google", "X-RateLimit-Scope": "shared"}


async def test_a_429_with_an_hour_retry_after_does_not_park_the_channel(fake_discord, start_bot, discord_log,
                                                                       tmp_path, caplog):
    settings = load_settings(knowledge_dir=FIXTURE_KB, data_dir=tmp_path / "data")
    await start_bot(create_bot(settings))
    general = fake_discord.guild.channel("general")
    alice, bo = fake_discord.make_member("alice"), fake_discord.make_member("bo")
    fake_discord.fail_next("POST", "/channels/{id}/messages", 429, RATE_LIMITED, headers=FROM_DISCORD)
    first = fake_discord.mark()
    with caplog.at_level(logging.WARNING, logger="mythbot"):
        await fake_discord.inject_message(general, alice, f"<@{fake_discord.bot_user.id}> will squats fix my hip dips?")
        await fake_discord.wait_for_call("POST", "/channels/{id}/messages", since=first,
                                         predicate=lambda call: call.status == 429)
        await fake_discord.settle()
    # The bot gives that reply up instead of sleeping an hour, and the channel keeps being answered.
    later = fake_discord.mark()
    await fake_discord.inject_message(general, bo, f"<@{fake_discord.bot_user.id}> does spot reduction work")
    reply = await fake_discord.wait_for_message(general.id, since=later)
    assert reply["embeds"][0]["title"] == "Can you burn fat from one spot?"
    # The lost reply is one WARNING line (no traceback, no apology: the channel is what is limited).
    mine = [(r.levelno, r.getMessage()) for r in caplog.records if r.name.startswith("mythbot")]
    assert mine == [(logging.WARNING, f"could not answer in guild={fake_discord.guild.id} channel={general.id}: "
                                      "Discord rate-limits it for 3600 s")]
    assert discord_log.errors == []
