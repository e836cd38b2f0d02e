"""Abuse and faults through the real client: floods, dropped connections, and the token in logs."""

import logging

import pytest

from bot.discord_app import create_bot
from bot.settings import load_settings
from tests.conftest import FIXTURE_KB

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.secret-token-for-tests.do-not-log"


@pytest.fixture
def make_bot(tmp_path):
    def build(**overrides):
        return create_bot(load_settings(knowledge_dir=FIXTURE_KB, data_dir=tmp_path / "data",
                                        discord_token=TOKEN, **overrides))

    return build


async def test_one_member_flooding_gets_a_bounded_number_of_replies(fake_discord, start_bot, make_bot):
    await start_bot(make_bot())
    general, spammer = fake_discord.guild.channel("general"), fake_discord.make_member("spammer")
    mark = fake_discord.mark()
    for _ in range(200):
        await fake_discord.inject_message(general, spammer, f"<@{fake_discord.bot_user.id}> does spot reduction work")
    await fake_discord.settle()
    assert 1 <= len(fake_discord.messages_sent(general.id, since=mark)) <= 5


async def test_answers_again_after_a_dropped_connection(fake_discord, start_bot, make_bot):
    await start_bot(make_bot())
    general, alice = fake_discord.guild.channel("general"), fake_discord.make_member("alice")
    await fake_discord.gateway.drop_connections()
    await fake_discord.gateway.wait_for_resume()
    mark = fake_discord.mark()
    await fake_discord.inject_message(general, alice, f"<@{fake_discord.bot_user.id}> does spot reduction work")
    reply = await fake_discord.wait_for_message(general.id, since=mark)
    assert reply["embeds"][0]["title"] == "Can you burn fat from one spot?"


async def test_the_token_never_reaches_the_logs(fake_discord, start_bot, make_bot, caplog):
    caplog.set_level(logging.DEBUG)
    await start_bot(make_bot())
    general, alice = fake_discord.guild.channel("general"), fake_discord.make_member("alice")
    mark = fake_discord.mark()
    await fake_discord.inject_message(general, alice, f"<@{fake_discord.bot_user.id}> does spot reduction work")
    await fake_discord.wait_for_message(general.id, since=mark)
    await fake_discord.settle()
    assert any(record.name == "mythbot.answers" for record in caplog.records)  # the answer was logged
    assert TOKEN not in caplog.text
    assert all(TOKEN not in str(call.json) for call in fake_discord.calls_to("POST", "/channels/{id}/messages"))
